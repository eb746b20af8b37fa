"""The sandbox over HTTP as Jira Cloud, through the real ``jira`` client and plain requests.

One server for the module, validating every request and response against Atlassian's OpenAPI spec; after
each test there must be no contract violation, and the state goes back to the snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from pmo_gates.sandbox import SandboxServer
from tests.fixtures_sandbox import EMAIL, TOKEN, contract, jira_client, sample


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(sample(), flavour="cloud", auth=(EMAIL, TOKEN), validate=contract()) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(sb: SandboxServer) -> Iterator[None]:
    yield
    violations = list(sb.contract_violations)
    sb.reset()
    assert violations == [], "contract violations:\n" + "\n".join(violations)


@pytest.fixture(scope="module")
def jira(sb: SandboxServer) -> JIRA:
    return jira_client(sb.url)


@pytest.fixture(scope="module")
def http(sb: SandboxServer) -> requests.Session:
    session = requests.Session()
    session.auth = (EMAIL, TOKEN)
    return session


def api(sb: SandboxServer, rest: str, version: str = "2") -> str:
    return f"{sb.url}/rest/api/{version}/{rest.lstrip('/')}"


def all_pages(http: requests.Session, url: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    issues, pages, token = [], 0, None
    while True:
        query = {**params, **({"nextPageToken": token} if token else {})}
        body = http.get(url, params=query).json()
        issues += body["issues"]
        pages += 1
        token = body.get("nextPageToken")
        assert body["isLast"] is (token is None)
        if body["isLast"]:
            return issues, pages


# -- metadata ------------------------------------------------------------------------------------------------


def test_client_sees_a_cloud_site(sb: SandboxServer, jira: JIRA) -> None:
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud" and jira._is_cloud
    assert info["baseUrl"] == sb.url
    assert jira.myself()["emailAddress"] == EMAIL
    assert {f["name"] for f in jira.fields()} >= {"PMO Phase", "Story Points", "Sprint", "Epic Link"}
    assert len(jira.projects()) == 10
    assert next(t.name for t in jira.issue_link_types()) == "Blocks"
    assert next(p.name for p in jira.priorities()) == "Highest"
    assert {s.name for s in jira.statuses()} >= {"To Do", "In Progress", "In Review", "Done"}
    assert "Project" in {t.name for t in jira.issue_types()}


def test_project_search_pages_and_filters(sb: SandboxServer, http: requests.Session) -> None:
    first = http.get(api(sb, "project/search"), params={"maxResults": 4}).json()
    assert (first["total"], first["isLast"], len(first["values"])) == (10, False, 4)
    assert first["nextPage"].startswith(sb.url + "/rest/api/2/project/search")
    last = http.get(first["nextPage"].replace("startAt=4", "startAt=8")).json()
    assert last["isLast"] is True and "nextPage" not in last
    picked = http.get(api(sb, "project/search", "3"), params=[("keys", "CPR"), ("keys", "PAY")]).json()
    assert sorted(p["key"] for p in picked["values"]) == ["CPR", "PAY"]
    missing = http.get(api(sb, "project/NOPE"))
    assert missing.status_code == 404 and missing.json()["errorMessages"]


# -- search --------------------------------------------------------------------------------------------------


def test_search_jql_token_pages_cover_the_result_once(sb: SandboxServer, http: requests.Session) -> None:
    expected = sorted(i["key"] for i in sb.state.issues() if i["fields"]["project"]["key"] in ("SEC", "PAY"))
    issues, pages = all_pages(
        http, api(sb, "search/jql"), jql="project in (SEC, PAY) ORDER BY key ASC", maxResults=7, fields="key"
    )
    assert sorted(i["key"] for i in issues) == expected
    assert pages == -(-len(expected) // 7)


def test_search_jql_fields_default_to_id_only(sb: SandboxServer, http: requests.Session) -> None:
    body = http.get(api(sb, "search/jql"), params={"jql": "project = CPR"}).json()
    assert body["issues"] and all(set(i) == {"id"} for i in body["issues"])
    full = http.get(api(sb, "search/jql"), params={"jql": "project = CPR", "fields": "*all,-comment"}).json()
    fields = full["issues"][0]["fields"]
    assert "summary" in fields and "customfield_10100" in full["issues"][-1]["fields"] and "comment" not in fields
    navigable = http.get(api(sb, "search/jql"), params={"jql": "project = CPR", "fields": "*navigable"}).json()
    assert "comment" not in navigable["issues"][0]["fields"] and "status" in navigable["issues"][0]["fields"]


def test_search_jql_caps_pages_like_cloud(sb: SandboxServer, http: requests.Session) -> None:
    with_fields = http.get(
        api(sb, "search/jql"), params={"jql": "created <= now()", "maxResults": 500, "fields": "summary"}
    )
    assert len(with_fields.json()["issues"]) == 100 and with_fields.json()["nextPageToken"]
    ids_only = http.get(api(sb, "search/jql"), params={"jql": "created <= now()", "maxResults": 500})
    assert len(ids_only.json()["issues"]) == len(sb.state) and ids_only.json()["isLast"]


def test_enhanced_search_through_the_client(jira: JIRA) -> None:
    found = jira.enhanced_search_issues("project = ANA ORDER BY key", maxResults=0, fields=["summary", "status"])
    assert len(found) > 30 and found[0].key == "ANA-1"
    page = jira.enhanced_search_issues("project = ANA", maxResults=5, fields=["summary"], json_result=True)
    assert len(page["issues"]) == 5 and page["nextPageToken"]


def test_post_search_with_changelog_truncated_and_properties(sb: SandboxServer, http: requests.Session) -> None:
    key = "CPR-2"
    for n in range(45):
        sb.state.update_issue(key, {"labels": [f"l{n}"]})
    sb.state.set_property(key, "pmo-gates", {"fp": "X"})
    body = {"jql": f"key = {key}", "fields": ["summary"], "expand": "changelog,names", "properties": ["pmo-gates"]}
    issue = http.post(api(sb, "search/jql"), json=body).json()["issues"][0]
    assert issue["changelog"]["total"] >= 45 and len(issue["changelog"]["histories"]) == 40
    assert issue["properties"] == {"pmo-gates": {"fp": "X"}}
    full = http.get(api(sb, f"issue/{key}"), params={"expand": "changelog"}).json()
    assert len(full["changelog"]["histories"]) == full["changelog"]["total"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"jql": "project = "}, "Error in the JQL Query"),
        ({"jql": "ORDER BY key"}, "Unbounded JQL"),
        ({}, "Unbounded JQL"),
        ({"jql": "nosuchfield = 1"}, "Field 'nosuchfield' does not exist"),
        ({"jql": "project = CPR", "nextPageToken": "garbage"}, "next page token is invalid"),
        ({"jql": "project = CPR", "properties": "a,b,c,d,e,f"}, "at most 5 properties"),
    ],
)
def test_search_jql_refuses_like_jira(sb: SandboxServer, http: requests.Session, params: dict, fragment: str) -> None:
    response = http.get(api(sb, "search/jql"), params=params)
    assert response.status_code == 400
    assert fragment in " ".join(response.json()["errorMessages"])


def test_old_search_is_gone_on_cloud(sb: SandboxServer, http: requests.Session, jira: JIRA) -> None:
    for version in ("2", "3"):
        assert http.get(api(sb, "search", version), params={"jql": "project = CPR"}).status_code == 410
        assert http.post(api(sb, "search", version), json={"jql": "project = CPR"}).status_code == 410
    with pytest.raises(JIRAError, match="deprecated"):
        jira.search_issues("project = CPR", startAt=5)


def test_approximate_count(sb: SandboxServer, jira: JIRA, http: requests.Session) -> None:
    assert jira.approximate_issue_count("project = CPR") == len(sb.state.project_issue_ids("CPR"))
    assert http.post(api(sb, "search/approximate-count"), json={"jql": "order by key"}).status_code == 400


# -- issues --------------------------------------------------------------------------------------------------


def test_get_issue_with_changelog_and_versions(sb: SandboxServer, jira: JIRA, http: requests.Session) -> None:
    issue = jira.issue("SEC-3", expand="changelog")
    assert issue.key == "SEC-3" and issue.fields.project.key == "SEC"
    assert len(issue.changelog.histories) == len(sb.state.changelog("SEC-3"))
    v2 = http.get(api(sb, "issue/SEC-3")).json()
    v3 = http.get(api(sb, "issue/SEC-3", "3")).json()
    assert isinstance(v2["fields"]["description"], str)
    assert v3["fields"]["description"]["type"] == "doc"
    assert v3["self"] == f"{sb.url}/rest/api/3/issue/{v3['id']}"
    assert http.get(api(sb, "issue/NOPE-1")).status_code == 404


def test_create_edit_comment_property_link_transition_delete(
    sb: SandboxServer, jira: JIRA, http: requests.Session
) -> None:
    issue = jira.create_issue(project="CPR", summary="Charter missing", issuetype={"name": "Task"}, labels=["pmo-ca"])
    assert issue.fields.status.name == "To Do" and issue.fields.labels == ["pmo-ca"]
    issue.update(fields={"labels": ["pmo-ca", "gate-initiation"]})
    issue.add_field_value("labels", "escalated")
    assert jira.issue(issue.key).fields.labels == ["pmo-ca", "gate-initiation", "escalated"]
    comment = jira.add_comment(issue.key, "Please attach the charter.")
    assert jira.comment(issue.key, comment.id).body == "Please attach the charter."
    jira.add_issue_property(issue.key, "pmo-gates", {"fingerprint": "charter:CPR"})
    assert jira.issue_property(issue.key, "pmo-gates").value.fingerprint == "charter:CPR"
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": issue.key}, "outwardIssue": {"key": "CPR-2"}}
    assert http.post(api(sb, "issueLink"), json=link).status_code == 201
    assert http.post(api(sb, "issueLink"), json=link).status_code == 201  # accepted, not doubled
    assert len(sb.state.links(issue.key)) == 1
    assert [t["name"] for t in jira.transitions(issue.key)] == ["Start Progress"]
    for transition in ("11", "21", "31"):
        assert (
            http.post(api(sb, f"issue/{issue.key}/transitions"), json={"transition": {"id": transition}}).status_code
            == 204
        )
    done = jira.issue(issue.key)
    assert done.fields.status.name == "Done" and done.fields.resolution.name == "Done"
    assert http.delete(api(sb, f"issue/{issue.key}")).status_code == 204
    assert http.get(api(sb, f"issue/{issue.key}")).status_code == 404
    assert not [lk for lk in sb.state.links("CPR-2") if lk.get("inwardIssue", {}).get("key") == issue.key]


def test_create_refuses_missing_fields_per_field(sb: SandboxServer, http: requests.Session) -> None:
    response = http.post(api(sb, "issue"), json={"fields": {"project": {"key": "CPR"}}})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"issuetype", "summary"}
    unknown = http.post(
        api(sb, "issue"),
        json={
            "fields": {"project": {"id": "10000"}, "issuetype": {"name": "Task"}, "summary": "x", "customfield_1": 1}
        },
    )
    assert "customfield_1" in unknown.json()["errors"]


def test_create_v3_with_adf_and_properties_atomically(sb: SandboxServer, http: requests.Session) -> None:
    doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hi"}]}]}
    payload = {
        "fields": {"project": {"key": "PAY"}, "issuetype": {"id": "10002"}, "summary": "ADF", "description": doc},
        "properties": [{"key": "pmo-gates", "value": {"state": "open"}}],
    }
    created = http.post(api(sb, "issue", "3"), json=payload)
    assert created.status_code == 201
    key = created.json()["key"]
    assert sb.state.properties(key) == {"pmo-gates": {"state": "open"}}
    assert http.get(api(sb, f"issue/{key}")).json()["fields"]["description"] == "Hi"
    assert http.get(api(sb, f"issue/{key}", "3")).json()["fields"]["description"]["type"] == "doc"


def test_bulk_create_reports_failures_by_position(sb: SandboxServer, http: requests.Session, jira: JIRA) -> None:
    good = {"fields": {"project": {"key": "CPR"}, "issuetype": {"name": "Task"}, "summary": "ok"}}
    bad = {"fields": {"project": {"key": "CPR"}, "issuetype": {"name": "Task"}}}
    mixed = http.post(api(sb, "issue/bulk"), json={"issueUpdates": [good, bad, good]})
    assert mixed.status_code == 201
    assert len(mixed.json()["issues"]) == 2
    assert mixed.json()["errors"][0]["failedElementNumber"] == 1
    assert "summary" in mixed.json()["errors"][0]["elementErrors"]["errors"]
    assert http.post(api(sb, "issue/bulk"), json={"issueUpdates": [bad]}).status_code == 400
    too_many = http.post(api(sb, "issue/bulk"), json={"issueUpdates": [good] * 51})
    assert too_many.status_code == 400 and too_many.json()["issues"] == []
    results = jira.create_issues([good["fields"], bad["fields"]], prefetch=False)
    assert [r["status"] for r in results] == ["Success", "Error"]


def test_edit_with_update_operations_and_return_issue(sb: SandboxServer, http: requests.Session) -> None:
    url = api(sb, "issue/CPR-3")
    assert http.put(url, json={"update": {"labels": [{"add": "a"}, {"add": "b"}]}}).status_code == 204
    returned = http.put(url, params={"returnIssue": "true"}, json={"update": {"labels": [{"remove": "a"}]}})
    assert returned.status_code == 200 and returned.json()["fields"]["labels"] == ["b"]
    refused = http.put(url, json={"fields": {"duedate": "soon"}})
    assert refused.status_code == 400 and "duedate" in refused.json()["errors"]
    items = sb.state.changelog("CPR-3")[-1]["items"]
    assert items[0]["field"] == "labels" and items[0]["toString"] == "b"


def test_comments_paged_and_versioned(sb: SandboxServer, http: requests.Session) -> None:
    before = len(sb.state.comments("CPR-4"))
    for n in range(3):
        assert http.post(api(sb, "issue/CPR-4/comment"), json={"body": f"note {n}"}).status_code == 201
    doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "v3"}]}]}
    created = http.post(api(sb, "issue/CPR-4/comment", "3"), json={"body": doc}).json()
    page = http.get(api(sb, "issue/CPR-4/comment"), params={"startAt": before + 1, "maxResults": 2}).json()
    assert (page["startAt"], page["maxResults"], page["total"]) == (before + 1, 2, before + 4)
    assert [c["body"] for c in page["comments"]] == ["note 1", "note 2"]
    one = api(sb, f"issue/CPR-4/comment/{created['id']}")
    assert http.get(one).json()["body"] == "v3"
    assert http.put(one, json={"body": "edited"}).json()["body"] == "edited"
    assert http.delete(one).status_code == 204 and http.get(one).status_code == 404
    assert http.post(api(sb, "issue/CPR-4/comment"), json={"body": ""}).status_code == 400


def test_entity_properties(sb: SandboxServer, http: requests.Session) -> None:
    url = api(sb, "issue/CPR-5/properties/pmo-gates")
    assert http.put(url, json={"v": 1}).status_code == 201
    assert http.put(url, json={"v": 2}).status_code == 200
    assert http.get(url).json() == {"key": "pmo-gates", "value": {"v": 2}}
    assert http.get(api(sb, "issue/CPR-5/properties")).json()["keys"][0]["key"] == "pmo-gates"
    assert http.put(url, json="x" * 40_000).status_code == 400
    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404 and http.delete(url).status_code == 404


def test_links_get_and_delete(sb: SandboxServer, http: requests.Session) -> None:
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": "CPR-6"}, "outwardIssue": {"key": "PAY-3"}}
    assert http.post(api(sb, "issueLink"), json=link).status_code == 201
    link_id = sb.state.links("CPR-6")[-1]["id"]
    got = http.get(api(sb, f"issueLink/{link_id}")).json()
    assert (got["inwardIssue"]["key"], got["outwardIssue"]["key"]) == ("CPR-6", "PAY-3")
    assert http.delete(api(sb, f"issueLink/{link_id}")).status_code == 204
    assert http.delete(api(sb, f"issueLink/{link_id}")).status_code == 404
    bad = {**link, "outwardIssue": {"key": "NOPE-9"}}
    assert http.post(api(sb, "issueLink"), json=bad).status_code == 404


def test_transitions_refuse_invalid_ids(sb: SandboxServer, http: requests.Session) -> None:
    url = api(sb, "issue/CPR-7/transitions")
    listed = http.get(url).json()["transitions"]
    assert listed and listed[0]["to"]["name"]
    refused = http.post(url, json={"transition": {"id": "999"}})
    assert refused.status_code == 400 and "not valid" in refused.json()["errorMessages"][0]


def test_changelog_paging_and_bulkfetch(sb: SandboxServer, http: requests.Session) -> None:
    key = next(i["key"] for i in sb.state.issues() if len(i["changelog"]["histories"]) >= 3)
    total = len(sb.state.changelog(key))
    first = http.get(api(sb, f"issue/{key}/changelog"), params={"maxResults": 2}).json()
    assert (first["total"], len(first["values"]), first["isLast"]) == (total, 2, total <= 2)
    keys = [i["key"] for i in sb.state.issues()[:30]]
    wanted = sum(1 for k in keys for h in sb.state.changelog(k) for i in h["items"] if i["fieldId"] == "status")
    seen, token = 0, None
    while True:
        body = {"issueIdsOrKeys": keys, "fieldIds": ["status"], "maxResults": 5}
        page = http.post(api(sb, "changelog/bulkfetch"), json={**body, **({"nextPageToken": token} if token else {})})
        data = page.json()
        seen += sum(len(h["items"]) for log in data["issueChangeLogs"] for h in log["changeHistories"])
        token = data.get("nextPageToken")
        if not token:
            break
    assert seen == wanted


def test_worklogs(sb: SandboxServer, http: requests.Session) -> None:
    key = next(i["key"] for i in sb.state.issues() if i["fields"].get("worklog", {}).get("total"))
    body = http.get(api(sb, f"issue/{key}/worklog", "3")).json()
    assert body["total"] == len(body["worklogs"]) > 0
    assert body["worklogs"][0]["comment"]["type"] == "doc"


# -- auth and records ----------------------------------------------------------------------------------------


def test_auth_is_required_and_never_echoed(sb: SandboxServer) -> None:
    url = api(sb, "myself")
    assert requests.get(url, timeout=5).status_code == 401
    wrong = requests.get(url, auth=(EMAIL, "not-the-token"), timeout=5)
    assert wrong.status_code == 401 and "not-the-token" not in wrong.text
    assert requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 200
    assert requests.get(url, headers={"Authorization": "Basic !!!"}, timeout=5).status_code == 401
    assert all(TOKEN not in str(r.to_json()) for r in sb.requests)


def test_requests_are_recorded(sb: SandboxServer, http: requests.Session) -> None:
    sb.requests.reset()
    http.get(api(sb, "search/jql"), params={"jql": "project = CPR"})
    http.post(api(sb, "search/jql"), json={"jql": "project = CPR"})
    http.put(api(sb, "issue/CPR-3"), json={"fields": {"summary": "renamed"}})
    assert sb.requests.count("GET", "/search/jql") == 1
    assert sb.requests.count(path_prefix="/rest/api/2/search") == 2
    assert [(r.method, r.api_path, r.status) for r in sb.requests.writes()] == [("PUT", "/issue/CPR-3", 204)]
    assert sb.requests.stats()["by_status"] == {"200": 2, "204": 1}
