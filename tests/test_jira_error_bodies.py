"""Bulk create answers that break Atlassian's documented shape (an ``errors`` object instead of a list,
elements that are not objects, numbers that are not numbers) give one outcome per element, never a crash:
a crash here would skip every other write of the run. The mock is deliberately off-contract."""

from __future__ import annotations

import pytest
import responses
from pydantic import SecretStr

from pmo_gates.config import RetryConfig
from pmo_gates.connectors import jira_writes as W
from pmo_gates.connectors.client import build_client
from pmo_gates.connectors.connection import JiraConnection

BASE = "https://jira.example"
BULK = f"{BASE}/rest/api/2/issue/bulk"


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def client(mocked):
    connection = JiraConnection(
        url=BASE, email="bot@example.com", token=SecretStr("tok-123"), flavour="cloud",
        retry=RetryConfig(max_attempts=2, initial_wait_seconds=0.01),
    )  # fmt: skip
    client = build_client(connection, sleep=lambda _s: None)
    yield client
    client.close()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # Jira's ErrorCollection shape on a request it refuses as a whole.
        (400, {"errorMessages": [], "errors": {"issuetype": "valid issue type is required"}},
         ["issuetype: valid issue type is required"] * 3),
        (400, {"errorMessages": ["Field 'x' cannot be set"], "errors": {}}, ["Field 'x' cannot be set"] * 3),
        (400, {"errors": "nope"}, ["nope"] * 3),
        (400, {"errors": ["just text", 7, None]}, ["just text; 7"] * 3),
        (400, {"issues": [], "errors": [{"failedElementNumber": "1", "elementErrors": "bad summary"}]},
         ["HTTP 400", "bad summary", "HTTP 400"]),
        (400, {"issues": [], "errors": [{"failedElementNumber": "x", "elementErrors": {"errors": ["a", "b"]}}]},
         ["a; b"] * 3),
        (400, {"issues": [], "errors": [{"failedElementNumber": 9, "elementErrors": {"errorMessages": ["late"]}}]},
         ["late"] * 3),
        (400, ["not", "an", "object"], ["HTTP 400"] * 3),
    ],
)  # fmt: skip
def test_a_malformed_rejection_fails_each_element_with_the_reason(client, mocked, status, body, expected):
    mocked.post(BULK, status=status, json=body)
    outcomes = W.bulk_create(client, [{"fields": {}}] * 3)
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert all(o.key is None for o in outcomes)
    for outcome, reason in zip(outcomes, expected, strict=True):
        assert reason in (outcome.error or ""), (outcome.error, reason)


def test_a_malformed_success_keeps_what_was_created(client, mocked):
    mocked.post(
        BULK,
        status=201,
        json={
            "issues": [{"id": 1, "key": "A-1"}, "garbage", {"id": "3"}],
            "errors": {"summary": "one element was too long"},
        },
    )
    outcomes = W.bulk_create(client, [{"fields": {}}] * 3)
    assert (outcomes[0].key, outcomes[0].id) == ("A-1", "1")
    assert [o.key for o in outcomes[1:]] == [None, None]
    assert all("one element was too long" in (o.error or "") for o in outcomes[1:])
