"""The Jira write calls (``connectors/jira_writes.py``) on mocked HTTP held to Atlassian's OpenAPI description
(``jira_responses``), and the portfolio lock."""

from __future__ import annotations

import json
import threading
import time

import pytest
from pydantic import SecretStr

from pmo_gates.actions.locking import LockTimeout, portfolio_lock
from pmo_gates.config import RetryConfig
from pmo_gates.connectors import jira_writes as W
from pmo_gates.connectors.client import build_client
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.connectors.errors import AmbiguousWriteError
from tests.jira_contract import ContractRequestsMock

BASE = "https://jira.example"


@pytest.fixture
def client():
    connection = JiraConnection(
        url=BASE, email="bot@example.com", token=SecretStr("tok-123"), flavour="cloud",
        retry=RetryConfig(max_attempts=2, initial_wait_seconds=0.01),
    )  # fmt: skip
    client = build_client(connection, sleep=lambda _s: None)
    yield client
    client.close()


def test_bulk_create_maps_partial_failures_to_their_elements(client, jira_responses: ContractRequestsMock):
    jira_responses.post(
        f"{BASE}/rest/api/2/issue/bulk",
        status=201,
        json={
            "issues": [{"id": "1", "key": "A-1", "self": "x"}, {"id": "3", "key": "A-3", "self": "x"}],
            "errors": [{"failedElementNumber": 1, "elementErrors": {"errors": {"summary": "too long"}}, "status": 400}],
        },
    )
    outcomes = W.bulk_create(client, [{"fields": {}}] * 3)
    assert [(o.key, o.error) for o in outcomes] == [("A-1", None), (None, "summary: too long"), ("A-3", None)]
    sent = json.loads(jira_responses.calls[0].request.body)
    assert len(sent["issueUpdates"]) == 3


def test_bulk_create_all_rejected_is_returned_and_limits_are_enforced(client, jira_responses: ContractRequestsMock):
    # Jira answers a fully rejected batch in the CreatedIssues shape: no issues, one error per element.
    element_errors = [
        {"failedElementNumber": n, "elementErrors": {"errors": {"project": "project is required"}}, "status": 400}
        for n in (0, 1)
    ]
    jira_responses.post(f"{BASE}/rest/api/2/issue/bulk", status=400, json={"issues": [], "errors": element_errors})
    outcomes = W.bulk_create(client, [{"fields": {}}] * 2)
    assert [(o.key, o.error) for o in outcomes] == [(None, "project: project is required")] * 2
    with pytest.raises(ValueError, match="1 to 50"):
        W.bulk_create(client, [{"fields": {}}] * 51)


def test_a_gateway_error_on_create_is_ambiguous_and_not_resent(client, jira_responses: ContractRequestsMock):
    jira_responses.post(f"{BASE}/rest/api/2/issue/bulk", status=502, body="bad gateway")
    with pytest.raises(AmbiguousWriteError):
        W.bulk_create(client, [{"fields": {}}])
    assert len(jira_responses.calls) == 1


def test_comments_edits_properties_and_transitions_hit_the_right_endpoints(
    client, jira_responses: ContractRequestsMock
):
    jira_responses.post(f"{BASE}/rest/api/3/issue/A-1/comment", status=201, json={"id": "77"})
    jira_responses.put(f"{BASE}/rest/api/2/issue/A-1/comment/77", status=200, json={"id": "77"})
    jira_responses.put(f"{BASE}/rest/api/2/issue/A-1", status=204)
    jira_responses.put(f"{BASE}/rest/api/2/issue/A-1/properties/pmo-gates", status=200)
    assert W.add_comment(client, "A-1", {"type": "doc", "version": 1, "content": []}, api="3") == "77"
    W.update_comment(client, "A-1", "77", "text")
    W.edit_issue(client, "A-1", {"fields": {"duedate": "2026-11-16"}})
    W.set_issue_property(client, "A-1", "pmo-gates", {"v": 1})
    with pytest.raises(ValueError, match="32,768"):
        W.set_issue_property(client, "A-1", "pmo-gates", {"x": "y" * 40_000})
    assert [c.request.method for c in jira_responses.calls] == ["POST", "PUT", "PUT", "PUT"]


def test_pick_transition_prefers_conventional_names_in_the_category():
    options = [
        {"id": "1", "name": "Start", "to": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}},
        {"id": "2", "name": "Cancel", "to": {"name": "Cancelled", "statusCategory": {"key": "done"}}},
        {"id": "3", "name": "Done", "to": {"name": "Done", "statusCategory": {"key": "done"}}},
    ]
    assert W.pick_transition(options, "done")["id"] == "3"
    assert W.pick_transition(options, "new") is None


def _contend(store, hold: float = 0.3) -> list[tuple[str, float]]:
    events: list[tuple[str, float]] = []

    def worker(name: str) -> None:
        with portfolio_lock(store, "test-lock", timeout=10):
            events.append((f"{name}-in", time.monotonic()))
            time.sleep(hold)
            events.append((f"{name}-out", time.monotonic()))

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return events


def test_portfolio_lock_serialises_workers(store):
    events = _contend(store)
    names = [name for name, _ in sorted(events, key=lambda e: e[1])]
    assert names in (["a-in", "a-out", "b-in", "b-out"], ["b-in", "b-out", "a-in", "a-out"])


def test_portfolio_lock_times_out_with_a_clear_error(store):
    started = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with portfolio_lock(store, "busy"):
            started.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    started.wait(10)
    try:
        with (
            pytest.raises(LockTimeout, match="another worker holds the 'busy' lock"),
            portfolio_lock(store, "busy", timeout=0.3),
        ):
            pass
    finally:
        release.set()
        thread.join(10)


def test_bulk_create_400_with_an_errors_object_fails_every_element_without_crashing(client):
    # Jira (or a proxy in front of it) can answer a rejected bulk create in the single-issue shape: errors
    # as an object of field -> message. Every element failed; nothing else must be skipped by a crash.
    import responses

    with responses.RequestsMock() as mocked:
        mocked.post(
            f"{BASE}/rest/api/2/issue/bulk",
            status=400,
            json={"errorMessages": ["Bad request"], "errors": {"issuetype": "issue type is required"}},
        )
        outcomes = W.bulk_create(client, [{"fields": {}}] * 2)
    assert [o.key for o in outcomes] == [None, None]
    assert all("issuetype: issue type is required" in (o.error or "") for o in outcomes)
