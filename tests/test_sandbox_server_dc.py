"""The sandbox as Jira Data Center: Bearer tokens, startAt/total search paging, no enhanced search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from jira import JIRA

from pmo_gates.sandbox import SandboxLimits, SandboxServer
from tests.fixtures_sandbox import EMAIL, TOKEN, contract, jira_client, sample


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    limits = SandboxLimits(dc_search_max_results=50)
    with SandboxServer(sample(), flavour="dc", auth=(EMAIL, TOKEN), validate=contract(), limits=limits) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(sb: SandboxServer) -> Iterator[None]:
    yield
    violations = list(sb.contract_violations)
    sb.reset()
    assert violations == [], "contract violations:\n" + "\n".join(violations)


@pytest.fixture(scope="module")
def http() -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    return session


def api(sb: SandboxServer, rest: str) -> str:
    return f"{sb.url}/rest/api/2/{rest}"


def test_client_sees_a_server_site(sb: SandboxServer) -> None:
    jira = jira_client(sb.url, cloud=False)
    assert jira.server_info()["deploymentType"] == "Server" and not jira._is_cloud
    assert jira.server_info()["versionNumbers"][0] == 9
    assert "name" in jira.myself()


def test_search_pages_by_start_at_with_total_and_cap(sb: SandboxServer, http: requests.Session) -> None:
    expected = sorted(i["key"] for i in sb.state.issues() if i["fields"]["project"]["key"] in ("ANA", "OFR"))
    seen: list[str] = []
    start = 0
    while True:
        page = http.get(
            api(sb, "search"),
            params={"jql": "project in (ANA, OFR) ORDER BY key", "startAt": start, "maxResults": 200, "fields": "key"},
        ).json()
        assert page["total"] == len(expected) and page["maxResults"] == 50
        seen += [i["key"] for i in page["issues"]]
        start += len(page["issues"])
        if start >= page["total"] or not page["issues"]:
            break
    assert sorted(seen) == expected
    navigable = http.post(api(sb, "search"), json={"jql": "project = ANA", "maxResults": 1, "expand": ["changelog"]})
    issue = navigable.json()["issues"][0]
    assert "summary" in issue["fields"] and issue["changelog"]["total"] == len(issue["changelog"]["histories"])


def test_cloud_only_endpoints_answer_404(sb: SandboxServer, http: requests.Session) -> None:
    assert http.get(api(sb, "search/jql"), params={"jql": "project = ANA"}).status_code == 404
    assert http.post(api(sb, "search/approximate-count"), json={"jql": "project = ANA"}).status_code == 404
    assert http.post(api(sb, "changelog/bulkfetch"), json={"issueIdsOrKeys": ["ANA-1"]}).status_code == 404


def test_users_by_name_on_data_center(sb: SandboxServer, http: requests.Session) -> None:
    person = sb.state.users()[0]
    payload = {
        "fields": {
            "project": {"key": "ANA"},
            "issuetype": {"name": "Task"},
            "summary": "Assign by login name",
            "assignee": {"name": person["name"]},
        }
    }
    created = http.post(api(sb, "issue"), json=payload)
    assert created.status_code == 201
    assignee = http.get(api(sb, f"issue/{created.json()['key']}")).json()["fields"]["assignee"]
    assert assignee["name"] == person["name"] and assignee["displayName"] == person["displayName"]


def test_the_jira_client_search_works_but_breaks_the_contract(sb: SandboxServer) -> None:
    """``jira`` sends validateQuery=True, which the spec does not allow: the sandbox answers, and says so."""
    jira: JIRA = jira_client(sb.url, cloud=False)
    found = jira.search_issues("project = OFR ORDER BY key", maxResults=False, fields="summary")
    assert len(found) == len(sb.state.project_issue_ids("OFR"))
    assert sb.contract_violations and all("validateQuery" in v for v in sb.contract_violations)
    sb.contract_violations.clear()
