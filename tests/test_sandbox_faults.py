"""Fault injection (429 storms, 5xx, delays, dropped connections), the admin API, and server-side limits."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from jira import JIRAError

from pmo_gates.sandbox import FaultRule, SandboxServer
from pmo_gates.sandbox.faults import FaultSet
from tests.fixtures_sandbox import EMAIL, TOKEN, jira_client, sample


@pytest.fixture(scope="module")
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(sample(), flavour="cloud", auth=(EMAIL, TOKEN)) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(sb: SandboxServer) -> Iterator[None]:
    yield
    sb.reset()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = (EMAIL, TOKEN)
        yield session


def search(sb: SandboxServer, http: requests.Session, token: str | None = None) -> requests.Response:
    params = {"jql": "project = ANA ORDER BY key", "maxResults": 5, **({"nextPageToken": token} if token else {})}
    return http.get(f"{sb.url}/rest/api/2/search/jql", params=params, timeout=5)


def test_rate_limit_storm_with_retry_after(sb: SandboxServer, http: requests.Session) -> None:
    sb.faults.add(FaultRule.rate_limit(count=3, retry_after=1))
    answers = [search(sb, http) for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 429, 200]
    limited = answers[0]
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["X-RateLimit-Remaining"] == "0" and limited.headers["RateLimit-Reason"]
    assert limited.json()["errorMessages"] == ["Rate limit exceeded."]
    assert sb.requests.count(status=429) == 3


def test_server_errors_with_and_without_retry_after(sb: SandboxServer, http: requests.Session) -> None:
    sb.faults.add(FaultRule.server_error(503, count=1, retry_after=2))
    sb.faults.add(FaultRule.server_error(502, count=1))
    first, second, third = (search(sb, http) for _ in range(3))
    assert (first.status_code, first.headers["Retry-After"]) == (503, "2")
    assert second.status_code == 502 and "Retry-After" not in second.headers
    assert third.status_code == 200


def test_drop_the_third_search_page(sb: SandboxServer, http: requests.Session) -> None:
    rule_id = sb.faults.add(FaultRule(method="GET", path=r"/search/jql$", nth=3, drop=True))
    first = search(sb, http).json()
    second = search(sb, http, first["nextPageToken"]).json()
    with pytest.raises(requests.ConnectionError):
        search(sb, http, second["nextPageToken"])
    retried = search(sb, http, second["nextPageToken"])  # the same token still works
    assert retried.status_code == 200 and retried.json()["issues"]
    described = next(r for r in sb.faults.describe() if r["id"] == rule_id)
    assert (described["seen"], described["fired"]) == (3, 1)
    assert [r.status for r in sb.requests.matching("GET", "/search/jql")] == [200, 200, None, 200]


def test_every_kth_request_and_method_path_matching(sb: SandboxServer, http: requests.Session) -> None:
    sb.faults.add(FaultRule(method="POST", path=r"/issue$", every=2, status=500))
    payload = {"fields": {"project": {"key": "ANA"}, "issuetype": {"name": "Task"}, "summary": "x"}}
    codes = [http.post(f"{sb.url}/rest/api/2/issue", json=payload, timeout=5).status_code for _ in range(4)]
    assert codes == [201, 500, 201, 500]
    assert search(sb, http).status_code == 200  # other endpoints untouched


def test_fixed_and_random_delays(sb: SandboxServer, http: requests.Session) -> None:
    sb.faults.add(FaultRule.slow(0.3, count=1))
    began = time.perf_counter()
    assert search(sb, http).status_code == 200
    assert time.perf_counter() - began >= 0.3
    faults = FaultSet(seed=3)
    faults.add(FaultRule(delay=0.05, delay_max=0.15))
    delays = [faults.decide("GET", "/x").delay for _ in range(20)]  # type: ignore[union-attr]
    assert all(0.05 <= d <= 0.15 for d in delays) and len(set(delays)) > 1


def test_the_jira_client_sees_faults_as_errors(sb: SandboxServer) -> None:
    jira = jira_client(sb.url)
    sb.faults.add(FaultRule.rate_limit(count=1, retry_after=0, path=r"/issue/"))
    with pytest.raises(JIRAError) as err:
        jira.issue("ANA-1")
    assert err.value.status_code == 429
    assert jira.issue("ANA-1").key == "ANA-1"


def test_fault_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="needs a status, a delay or drop"):
        FaultRule(path="/x")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        FaultRule(path="(", status=500)


def test_admin_api_manages_faults_requests_and_reset(sb: SandboxServer, http: requests.Session) -> None:
    admin = f"{sb.url}/_sandbox"
    assert requests.get(f"{admin}/faults", timeout=5).status_code == 401  # same credentials as the API
    created = http.post(f"{admin}/faults", json={"status": 503, "count": 1, "retry_after": 1}, timeout=5)
    assert created.status_code == 201
    assert http.get(f"{admin}/faults", timeout=5).json()["faults"][0]["status"] == 503
    assert search(sb, http).status_code == 503
    refused = http.post(f"{admin}/faults", json={"status": 200}, timeout=5)
    assert refused.status_code == 400 and refused.json()["errorMessages"]
    assert http.delete(f"{admin}/faults/{created.json()['id']}", timeout=5).status_code == 204
    sb.state.update_issue("ANA-2", {"summary": "changed"})
    stats = http.get(f"{admin}/requests/stats", timeout=5).json()
    assert stats["by_status"] == {"503": 1}  # admin calls are not recorded
    listed = http.get(f"{admin}/requests", params={"method": "GET"}, timeout=5).json()["requests"]
    assert listed[0]["api_path"] == "/search/jql"
    assert http.post(f"{admin}/reset", json={}, timeout=5).status_code == 204
    assert sb.state.issue("ANA-2")["fields"]["summary"] != "changed" and len(sb.requests) == 0
    assert http.get(f"{admin}/contract", timeout=5).json() == {"validating": False, "violations": []}


def test_limits_a_compliant_client_never_hits(sb: SandboxServer, http: requests.Session) -> None:
    bulk = http.post(f"{sb.url}/rest/api/2/changelog/bulkfetch", json={"issueIdsOrKeys": ["ANA-1"] * 1001}, timeout=5)
    assert bulk.status_code == 400
    projects = http.get(f"{sb.url}/rest/api/2/project/search", params={"maxResults": 500}, timeout=5).json()
    assert projects["maxResults"] == 100
    broken = http.post(
        f"{sb.url}/rest/api/2/issue", data=b"{not json", headers={"Content-Type": "application/json"}, timeout=5
    )
    assert broken.status_code == 400 and "JSON" in broken.json()["errorMessages"][0]
    assert http.get(f"{sb.url}/rest/api/2/nothing/here", timeout=5).status_code == 404
    assert http.patch(f"{sb.url}/rest/api/2/issue/ANA-1", json={}, timeout=5).status_code == 405


def test_only_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(sample(), host="0.0.0.0")
