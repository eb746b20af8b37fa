"""The single retry layer: what is retried, how long we wait, what is never re-sent, what errors say."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests

from pmo_gates.connectors.client import build_client, endpoint
from pmo_gates.connectors.errors import AmbiguousWriteError, JiraAuthError, JiraHTTPError, RateLimitError
from pmo_gates.connectors.retry import is_idempotent, server_wait
from tests.fixtures_connector import EMAIL, TOKEN, URL, FakeClock, connection, server_info

API = f"{URL}/rest/api/2"
BODIES = {
    "/issue": {"fields": {"summary": "x"}},
    "/issue/bulk": {"issueUpdates": [{"fields": {"summary": "x"}}]},
    "/issue/CPR-1/comment": {"body": "x"},
}
NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


@pytest.fixture
def mock(request):
    """``jira_responses``: every request we send and every answer mocked here is checked against Atlassian's
    OpenAPI description when the test ends."""
    return request.getfixturevalue("jira_responses")


@pytest.fixture
def clock():
    return FakeClock()


def _client(clock: FakeClock, **retry):
    return build_client(connection(**retry), sleep=clock.sleep, clock=clock.monotonic, now=lambda: NOW)


def _myself(mock, *statuses_and_headers):
    """Queue answers for GET /myself: (status, headers) pairs, then a 200."""
    for status, headers in statuses_and_headers:
        mock.get(f"{API}/myself", status=status, headers=headers, json={"errorMessages": [f"status {status}"]})
    mock.get(f"{API}/myself", json={"accountId": "me", "timeZone": "UTC"})


def test_429_waits_for_retry_after_then_succeeds(mock, clock):
    _myself(mock, (429, {"Retry-After": "7"}), (429, {"Retry-After": "2"}))
    client = _client(clock)
    assert client.get("/myself")["accountId"] == "me"
    assert len(mock.calls) == 3
    assert clock.sleeps[0] >= 7 and clock.sleeps[1] >= 2
    assert client.stats.as_dict() == {"GET /rest/api/2/myself": 3}


def test_x_ratelimit_reset_is_honoured(mock, clock):
    reset = (NOW + timedelta(seconds=12)).isoformat().replace("+00:00", "Z")
    _myself(mock, (429, {"X-RateLimit-Reset": reset}))
    _client(clock).get("/myself")
    assert clock.sleeps and 12 <= clock.sleeps[0] < 13


def test_a_wait_longer_than_the_cap_fails_at_once(mock, clock):
    _myself(mock, (429, {"Retry-After": "3600"}))
    with pytest.raises(RateLimitError) as info:
        _client(clock, max_wait_seconds=30).get("/myself")
    assert len(mock.calls) == 1 and clock.sleeps == []
    assert "3600 s" in str(info.value) and "max_wait_seconds=30" in str(info.value)


def test_attempts_are_bounded(mock, clock):
    _myself(mock, *[(503, {})] * 10)
    with pytest.raises(RateLimitError) as info:
        _client(clock, max_attempts=4).get("/myself")
    assert len(mock.calls) == 4 and len(clock.sleeps) == 3
    assert "HTTP 503" in str(info.value) and "4 attempts" in str(info.value)


def test_total_time_is_bounded(mock, clock):
    _myself(mock, *[(429, {"Retry-After": "20"})] * 10)
    with pytest.raises(RateLimitError):
        _client(clock, max_attempts=20, max_total_seconds=50, max_wait_seconds=30).get("/myself")
    assert sum(clock.sleeps) <= 50 and len(mock.calls) == 3


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_retry_reads(mock, clock, status):
    _myself(mock, (status, {}))
    assert _client(clock).get("/myself")["accountId"] == "me"
    assert len(mock.calls) == 2


def test_server_errors_are_not_retried(mock, clock):
    _myself(mock, (500, {}))
    with pytest.raises(JiraHTTPError) as info:
        _client(clock).get("/myself")
    assert len(mock.calls) == 1 and "HTTP 500 to GET /rest/api/2/myself: status 500" in str(info.value)


def test_dropped_connections_and_read_timeouts_retry_reads(mock, clock):
    mock.get(f"{API}/field", body=requests.ConnectionError("Connection reset by peer"))
    mock.get(f"{API}/field", body=requests.exceptions.ReadTimeout("read timed out"))
    mock.get(f"{API}/field", body=requests.exceptions.ChunkedEncodingError("incomplete read"))
    mock.get(f"{API}/field", json=[])
    client = _client(clock)
    assert client.jira.fields() == []  # the jira client's own method goes through the same layer
    assert len(mock.calls) == 4 and len(clock.sleeps) == 3


def test_search_post_is_a_read_and_is_retried(mock, clock):
    mock.post(f"{API}/search/jql", body=requests.ConnectionError("reset"))
    mock.post(f"{API}/search/jql", json={"issues": []})
    assert _client(clock).post("/search/jql", {"jql": "project = A"}) == {"issues": []}
    assert len(mock.calls) == 2


@pytest.mark.parametrize(
    ("path", "failure"),
    [
        ("/issue", requests.ConnectionError("Connection aborted: RemoteDisconnected")),
        ("/issue/bulk", requests.exceptions.ReadTimeout("read timed out")),
        ("/issue/CPR-1/comment", requests.exceptions.ChunkedEncodingError("incomplete")),
        ("/issue", 502),
        ("/issue/CPR-1/comment", 504),
    ],
)
def test_a_create_is_never_re_sent(mock, clock, path, failure):
    created = {"id": "1", "key": "CPR-99"} if path == "/issue" else {"issues": [], "errors": []}
    if isinstance(failure, int):
        mock.post(f"{API}{path}", status=failure, json={})
    else:
        mock.post(f"{API}{path}", body=failure)
    mock.post(f"{API}{path}", status=201, json=created)
    with pytest.raises(AmbiguousWriteError) as info:
        _client(clock).post(path, BODIES[path])
    assert len(mock.calls) == 1 and clock.sleeps == []
    assert "not re-sent" in str(info.value) and "fingerprint" in str(info.value)


def test_a_create_refused_with_429_is_sent_again(mock, clock):
    mock.post(f"{API}/issue", status=429, headers={"Retry-After": "1"}, json={})
    mock.post(f"{API}/issue", status=201, json={"id": "1", "key": "CPR-99"})
    assert _client(clock).post("/issue", {"fields": {}})["key"] == "CPR-99"
    assert len(mock.calls) == 2


def test_a_create_that_never_connected_is_sent_again(mock, clock):
    mock.post(f"{API}/issue", body=requests.exceptions.ConnectTimeout("connect timed out"))
    mock.post(f"{API}/issue", status=201, json={"id": "1", "key": "CPR-99"})
    assert _client(clock).post("/issue", {"fields": {}})["key"] == "CPR-99"


def test_the_jira_client_retries_nothing_itself(mock, clock):
    client = _client(clock)
    assert client.jira._session.max_retries == 0
    assert client.jira._session.timeout == (10, 60)


def test_401_and_transport_errors_never_show_the_token(mock, clock, caplog):
    caplog.set_level(logging.DEBUG)
    mock.get(f"{API}/myself", status=401, json={"errorMessages": [f"bad token {TOKEN}"]})
    mock.get(f"{API}/field", body=requests.ConnectionError(f"failed with Authorization: Bearer {TOKEN}"))
    client = _client(clock, max_attempts=2)
    with pytest.raises(JiraAuthError) as auth:
        client.get("/myself")
    with pytest.raises(JiraHTTPError) as transport:
        client.get("/field")
    assert auth.value.status_code == 401 and "HTTP 401" in str(auth.value)
    for text in (str(auth.value), repr(auth.value), str(transport.value), caplog.text):
        assert TOKEN not in text
    assert "***" in str(transport.value)  # the message is kept, the secret masked
    assert mock.calls[0].request.headers["Authorization"].startswith("Basic ")


def test_token_auth_when_no_email(mock, clock):
    mock.get(f"{API}/myself", json={"name": "bot"})
    client = build_client(connection(email=None), sleep=clock.sleep, clock=clock.monotonic)
    client.get("/myself")
    assert mock.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(("deployment", "flavour"), [("Cloud", "cloud"), ("Server", "dc"), ("DataCenter", "dc")])
def test_auto_flavour_reads_server_info_once(mock, clock, deployment, flavour):
    mock.get(f"{API}/serverInfo", json=server_info(deployment))
    client = build_client(connection(flavour="auto"), sleep=clock.sleep, clock=clock.monotonic)
    assert client.flavour == flavour and client.jira._is_cloud == (flavour == "cloud")
    assert client.stats.total == 1
    remembered = build_client(connection(flavour="auto"), flavour=flavour, sleep=clock.sleep)
    assert remembered.flavour == flavour and remembered.stats.total == 0


def test_server_info_itself_is_retried(mock, clock):
    mock.get(f"{API}/serverInfo", status=503, headers={"Retry-After": "1"}, json={})
    mock.get(f"{API}/serverInfo", json=server_info("Cloud"))
    client = build_client(connection(flavour="auto"), sleep=clock.sleep, clock=clock.monotonic)
    assert client.flavour == "cloud" and client.stats.total == 2


def test_idempotency_classification():
    assert is_idempotent("GET", "/rest/api/2/issue/A-1") and is_idempotent("PUT", "/rest/api/2/issue/A-1")
    assert is_idempotent("DELETE", "/rest/api/2/issue/A-1")
    assert is_idempotent("POST", "/rest/api/2/search/jql") and is_idempotent("POST", "/rest/api/3/search")
    assert is_idempotent("POST", "/jira/rest/api/2/changelog/bulkfetch")
    for path in ("/rest/api/2/issue", "/rest/api/2/issue/bulk", "/rest/api/2/issue/A-1/comment"):
        assert not is_idempotent("POST", path)


def test_server_wait_parses_seconds_dates_and_reset():
    def resp(**headers):
        r = requests.Response()
        r.headers.update(headers)
        return r

    assert server_wait(resp(**{"Retry-After": "5"}), NOW) == 5
    assert server_wait(resp(**{"Retry-After": "Mon, 02 Nov 2026 06:00:30 GMT"}), NOW) == 30
    assert server_wait(resp(**{"Retry-After": "1", "X-RateLimit-Reset": "2026-11-02T06:01:00Z"}), NOW) == 60
    assert server_wait(resp(**{"Retry-After": "soon"}), NOW) is None
    assert server_wait(None, NOW) is None


def test_endpoint_groups_by_resource():
    assert endpoint("get", "/rest/api/2/issue/CPR-12/worklog") == "GET /rest/api/2/issue/{id}/worklog"
    assert endpoint("GET", "/rest/api/2/issue/10042") == "GET /rest/api/2/issue/{id}"
    assert endpoint("POST", "/rest/api/2/search/jql") == "POST /rest/api/2/search/jql"


def test_errors_survive_pickling():
    import pickle

    err = AmbiguousWriteError("POST /issue may have...", method="POST", path="/rest/api/2/issue", attempts=1)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is AmbiguousWriteError and str(copy) == str(err) and copy.method == "POST"
    assert EMAIL not in str(copy)
