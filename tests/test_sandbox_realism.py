"""The sandbox as strict as Jira where a kinder double would hide failures (issue 13): ADF-only v3 writes,
raw error bodies, integer Retry-After, anonymous serverInfo, /user/search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from pmo_gates.sandbox import SandboxServer
from pmo_gates.sandbox.faults import FaultRule
from tests.fixtures_sandbox import EMAIL, TOKEN, contract, sample

DOC = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hi"}]}]}


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(sample(), flavour="cloud", auth=(EMAIL, TOKEN), validate=contract()) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(sb: SandboxServer) -> Iterator[None]:
    yield
    sb.reset()


@pytest.fixture(scope="module")
def http() -> requests.Session:
    session = requests.Session()
    session.auth = (EMAIL, TOKEN)
    return session


def api(sb: SandboxServer, rest: str, version: str = "2") -> str:
    return f"{sb.url}/rest/api/{version}/{rest.lstrip('/')}"


def textarea_field(sb: SandboxServer) -> str:
    return next(
        f["id"] for f in sb.state.fields() if str((f.get("schema") or {}).get("custom", "")).endswith(":textarea")
    )


# -- v3 takes documents, v2 strings ---------------------------------------------------------------------------


def test_v3_create_refuses_a_plain_string_description(sb: SandboxServer, http: requests.Session) -> None:
    fields = {"project": {"key": "PAY"}, "issuetype": {"name": "Task"}, "summary": "s", "description": "plain"}
    refused = http.post(api(sb, "issue", "3"), json={"fields": fields})
    assert refused.status_code == 400
    assert refused.json()["errors"]["description"].startswith("Operation value must be an Atlassian Document")
    assert http.post(api(sb, "issue", "3"), json={"fields": {**fields, "description": DOC}}).status_code == 201
    assert http.post(api(sb, "issue", "2"), json={"fields": fields}).status_code == 201


def test_v3_edit_refuses_strings_in_textarea_fields(sb: SandboxServer, http: requests.Session) -> None:
    field = textarea_field(sb)
    refused = http.put(api(sb, "issue/CPR-3", "3"), json={"fields": {field: "plain"}})
    assert refused.status_code == 400
    assert refused.json()["errors"][field].startswith("Operation value must be an Atlassian Document")
    assert http.put(api(sb, "issue/CPR-3", "3"), json={"fields": {field: DOC}}).status_code == 204
    assert http.put(api(sb, "issue/CPR-3", "2"), json={"fields": {field: "plain"}}).status_code == 204


def test_v2_refuses_documents(sb: SandboxServer, http: requests.Session) -> None:
    refused = http.put(api(sb, "issue/CPR-3", "2"), json={"fields": {"description": DOC}})
    assert refused.status_code == 400 and "description" in refused.json()["errors"]
    comment = http.post(api(sb, "issue/CPR-3/comment", "2"), json={"body": DOC})
    assert comment.status_code == 400


def test_v3_comment_body_must_be_a_document(sb: SandboxServer, http: requests.Session) -> None:
    refused = http.post(api(sb, "issue/CPR-4/comment", "3"), json={"body": "plain"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"comment": "Comment body is not valid!"}
    created = http.post(api(sb, "issue/CPR-4/comment", "3"), json={"body": DOC})
    assert created.status_code == 201
    one = api(sb, f"issue/CPR-4/comment/{created.json()['id']}", "3")
    assert http.put(one, json={"body": "edited"}).status_code == 400
    assert http.put(one, json={"body": DOC}).status_code == 200


# -- errors as Jira and its proxies send them -----------------------------------------------------------------


def test_fault_rules_can_send_raw_text_bodies(sb: SandboxServer, http: requests.Session) -> None:
    html = "<html><body><h1>503 Service Unavailable</h1></body></html>"
    sb.faults.add(FaultRule(path=r"/myself", status=503, raw_body=html, content_type="text/html", count=1))
    answer = http.get(api(sb, "myself"))
    assert answer.status_code == 503 and answer.text == html
    assert answer.headers["Content-Type"].startswith("text/html")
    sb.faults.add(FaultRule(path=r"/myself", status=429, raw_body="", count=1))
    bare = http.get(api(sb, "myself"))
    assert bare.status_code == 429 and bare.content == b""


def test_an_injected_429_always_carries_an_integer_retry_after(sb: SandboxServer, http: requests.Session) -> None:
    sb.faults.add(FaultRule(path=r"/myself", status=429, count=1))
    assert http.get(api(sb, "myself")).headers["Retry-After"] == "1"
    sb.faults.add(FaultRule(path=r"/myself", status=429, retry_after=0.5, count=1))
    assert http.get(api(sb, "myself")).headers["Retry-After"] == "1"  # Jira sends whole seconds
    sb.faults.add(FaultRule(path=r"/myself", status=429, retry_after=0, count=1))
    assert http.get(api(sb, "myself")).headers["Retry-After"] == "0"


def test_server_info_answers_anonymously(sb: SandboxServer) -> None:
    info = requests.get(api(sb, "serverInfo"), timeout=5)
    assert info.status_code == 200 and info.json()["deploymentType"] == "Cloud"
    assert requests.get(api(sb, "myself"), timeout=5).status_code == 401


def test_user_search_finds_people(sb: SandboxServer, http: requests.Session) -> None:
    person = sb.state.users()[0]
    found = http.get(api(sb, "user/search"), params={"query": person["displayName"].split()[0]})
    assert found.status_code == 200
    assert person["accountId"] in [u["accountId"] for u in found.json()]
    assert all("name" not in u for u in found.json())
    assert http.get(api(sb, "user/search"), params={"query": "nobody-at-all"}).json() == []


# -- Data Center is not Cloud with another label ----------------------------------------------------------------


@pytest.fixture(scope="module")
def dc() -> Iterator[SandboxServer]:
    with SandboxServer(sample(), flavour="dc", auth=(EMAIL, TOKEN), validate=contract()) as server:
        yield server


@pytest.fixture(scope="module")
def bearer() -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    return session


def _users_in(value: object) -> list[dict]:
    if isinstance(value, list):
        return [u for v in value for u in _users_in(v)]
    if not isinstance(value, dict):
        return []
    own = [value] if "displayName" in value and ("name" in value or "accountId" in value) else []
    return own + [u for v in value.values() for u in _users_in(v)]


def test_dc_people_have_login_names_and_user_keys_never_account_ids(
    dc: SandboxServer, bearer: requests.Session
) -> None:
    issue = bearer.get(api(dc, "issue/CPR-3"), params={"expand": "changelog"}).json()
    people = _users_in(issue)
    assert people, "the issue embeds people (reporter, authors)"
    for person in people:
        assert "accountId" not in person and "accountType" not in person
        assert person["key"].startswith("JIRAUSER") and person["name"] != person["key"]
    me = bearer.get(api(dc, "myself")).json()
    assert "accountId" not in me and me["key"].startswith("JIRAUSER") and me["name"]
    user_items = [
        item
        for history in issue["changelog"]["histories"]
        for item in history["items"]
        if item["field"] in ("assignee", "reporter")
    ]
    assert user_items, "the sample reassigns CPR-3"
    for item in user_items:
        assert "tmpToAccountId" not in item
        assert str(item.get("to") or "JIRAUSER").startswith("JIRAUSER")


def test_dc_writes_name_users_by_login_only(dc: SandboxServer, bearer: requests.Session) -> None:
    person = dc.state.users()[0]
    by_login = bearer.put(api(dc, "issue/CPR-3"), json={"fields": {"assignee": {"name": person["name"]}}})
    assert by_login.status_code == 204
    assignee = bearer.get(api(dc, "issue/CPR-3")).json()["fields"]["assignee"]
    assert assignee["name"] == person["name"] and "accountId" not in assignee
    by_key = bearer.put(api(dc, "issue/CPR-3"), json={"fields": {"assignee": {"name": assignee["key"]}}})
    assert by_key.status_code == 400 and "does not exist" in by_key.json()["errors"]["assignee"]
    by_account = bearer.put(api(dc, "issue/CPR-3"), json={"fields": {"assignee": {"accountId": person["accountId"]}}})
    assert by_account.status_code == 400
    dc.reset()


def test_dc_has_no_rest_v3_and_no_project_search(dc: SandboxServer, bearer: requests.Session) -> None:
    assert bearer.get(api(dc, "issue/CPR-3", "3")).status_code == 404
    assert bearer.get(api(dc, "myself", "3")).status_code == 404
    assert bearer.get(api(dc, "project/search")).status_code == 404
    assert {p["key"] for p in bearer.get(api(dc, "project")).json()} >= {"CPR"}
    found = bearer.get(api(dc, "user/search"), params={"username": dc.state.users()[0]["name"]}).json()
    assert found and all("accountId" not in u for u in found)
    dc.contract_violations.clear()


def test_dc_rate_limit_headers_and_a_zero_retry_after(dc: SandboxServer, bearer: requests.Session) -> None:
    dc.faults.add(FaultRule(path=r"/myself", status=429, retry_after=0, count=1))
    limited = bearer.get(api(dc, "myself"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "0"
    assert limited.headers["X-RateLimit-FillRate"] and "X-RateLimit-NearLimit" not in limited.headers
    dc.faults.clear()


# -- explicit nulls -------------------------------------------------------------------------------------------


def test_changelog_items_keep_explicit_nulls_and_assignee_null(sb: SandboxServer, http: requests.Session) -> None:
    fields = {"project": {"key": "PAY"}, "issuetype": {"name": "Task"}, "summary": "fresh"}
    key = http.post(api(sb, "issue"), json={"fields": fields}).json()["key"]
    person = sb.state.users()[0]
    assert http.put(api(sb, f"issue/{key}"), json={"fields": {"assignee": {"accountId": person["accountId"]}}}).ok
    assert http.put(api(sb, f"issue/{key}"), json={"fields": {"labels": ["urgent"]}}).ok
    issue = http.get(api(sb, f"issue/{key}"), params={"expand": "changelog"}).json()
    first, second = (h["items"][0] for h in issue["changelog"]["histories"])
    assert first["field"] == "assignee" and first["from"] is None and first["fromString"] is None
    assert first["to"] == person["accountId"]
    assert second["field"] == "labels" and "from" in second and second["to"] is None
    fresh = http.get(api(sb, f"issue/{key}"), params={"fields": "assignee,duedate"}).json()["fields"]
    assert "duedate" in fresh and fresh["duedate"] is None
    assert sb.contract_violations == []


# -- search index lag -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_search_sees_writes_only_after_the_index_lag(flavour: str) -> None:
    ticks = [1000.0]
    with SandboxServer(sample(), flavour=flavour, auth=(EMAIL, TOKEN), index_lag=30) as lagging:
        lagging.state.index_clock = lambda: ticks[0]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        search = api(lagging, "search/jql" if flavour == "cloud" else "search")

        def found(jql: str) -> list[str]:
            return [i["key"] for i in session.get(search, params={"jql": jql, "fields": "key"}).json()["issues"]]

        fields = {"project": {"key": "PAY"}, "issuetype": {"name": "Task"}, "summary": "new", "labels": ["lagged"]}
        key = session.post(api(lagging, "issue"), json={"fields": fields}).json()["key"]
        assert session.get(api(lagging, f"issue/{key}")).status_code == 200  # GET /issue: at once
        assert found("labels = lagged") == []
        ticks[0] += 31
        assert found("labels = lagged") == [key]
        assert session.put(api(lagging, "issue/CPR-3"), json={"update": {"labels": [{"add": "moved"}]}}).ok
        assert found("labels = moved") == []
        assert "moved" in session.get(api(lagging, "issue/CPR-3")).json()["fields"]["labels"]
        ticks[0] += 31
        assert found("labels = moved") == ["CPR-3"]


def test_the_jira_clients_search_users_and_assign_issue_work(sb: SandboxServer, dc: SandboxServer) -> None:
    from tests.fixtures_sandbox import jira_client

    cloud_person = sb.state.users()[1]
    cloud = jira_client(sb.url)
    assert cloud_person["accountId"] in [u.accountId for u in cloud.search_users(query=cloud_person["emailAddress"])]
    assert cloud.assign_issue("CPR-3", cloud_person["accountId"])
    assert sb.state.issue("CPR-3")["fields"]["assignee"]["accountId"] == cloud_person["accountId"]
    dc_person = dc.state.users()[1]
    server = jira_client(dc.url, cloud=False)
    assert dc_person["name"] in [u.name for u in server.search_users(user=dc_person["name"])]
    assert server.assign_issue("CPR-3", dc_person["name"])
    assert dc.state.issue("CPR-3")["fields"]["assignee"]["name"] == dc_person["name"]
    described = [v for v in [*sb.contract_violations, *dc.contract_violations] if "/user/" in v or "/assignee" in v]
    assert described == []  # both endpoints are in the bundled spec and answer as it says
    dc.reset()
