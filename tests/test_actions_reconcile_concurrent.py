"""Reading back the kept comments of anchors with no comment record (a fresh store: one GET per anchor) runs
``workers`` reads at once, with the same result as one at a time, and still fails on a failed read."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from pmo_gates.actions.reconcile import fetch_jira_state, read_anchor_comments
from pmo_gates.connectors.client import build_client
from pmo_gates.connectors.errors import JiraHTTPError
from tests.fixtures_connector import URL, connection

KEYS = [f"P{n:03d}-1" for n in range(40)]


def _marker(purpose: str, n: int) -> str:
    return f"pmo-gates · {purpose} · {n:012x}"


def _comments(key: str) -> list[dict[str, Any]]:
    """Per anchor: a gate comment written twice (a crash left two: the newer wins), an rca comment in ADF,
    and a human's comment without a marker."""
    n = int(key[1:4])
    return [
        {"id": f"{n}01", "body": f"old\n{_marker('gate:G1', n)}"},
        {"id": f"{n}02", "body": "a human's note"},
        {
            "id": f"{n}03",
            "body": {"type": "doc", "content": [{"type": "text", "text": _marker("rca", n + 1)}]},
        },
        {"id": f"{n}04", "body": f"new\n{_marker('gate:G1', n + 2)}"},
    ]


class FakeJira:
    """Answers the ticket search (nothing) and comment pages (two pages per anchor). With ``rendezvous``,
    a comment read blocks until that many are in flight at once (or ``timeout``: then it records that the
    reads did not overlap); ``fail`` makes that anchor's read raise, ``delay`` makes the others take time."""

    is_cloud = True

    def __init__(
        self, *, rendezvous: int = 0, timeout: float = 5.0, fail: set[str] | None = None, delay: float = 0.0
    ) -> None:
        self.rendezvous = rendezvous
        self.delay = delay
        self.timeout = timeout
        self.fail = fail or set()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.overlap_timeouts = 0
        self.reads: list[str] = []
        self._all_in = threading.Event()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        if path.startswith("/search"):
            return {"issues": [], "isLast": True}
        key = path.split("/")[2]
        with self.lock:
            self.reads.append(key)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            if self.in_flight >= self.rendezvous:
                self._all_in.set()
        try:
            if self.rendezvous and not self._all_in.wait(self.timeout):
                with self.lock:
                    self.overlap_timeouts += 1
                self._all_in.set()  # waited once in vain: the rest go through, so the test fails, not hangs
            if key in self.fail:
                raise JiraHTTPError(f"GET {path} failed", method="GET", path=path, status_code=500)
            time.sleep(self.delay)
            start = int((params or {}).get("startAt", 0))
            comments = _comments(key)
            page = comments[start : start + 2]  # two per page: the reader follows startAt
            return {"comments": page, "total": len(comments), "startAt": start}
        finally:
            with self.lock:
                self.in_flight -= 1


def _as_tuples(comments: list[Any]) -> list[tuple[str, str, str, str]]:
    return [(c.issue_key, c.purpose, c.comment_id, c.content_hash) for c in comments]


def test_concurrent_reads_give_the_sequential_result() -> None:
    shuffled = list(reversed(KEYS)) + KEYS[:5]  # unsorted, with repeats: read once each, in key order
    sequential = read_anchor_comments(FakeJira(), shuffled, workers=1)
    concurrent = read_anchor_comments(FakeJira(), shuffled, workers=4)
    assert _as_tuples(concurrent) == _as_tuples(sequential)
    # Two purposes per anchor, in sorted anchor order; the newer of the two gate comments won.
    assert [c.issue_key for c in concurrent] == [k for k in sorted(KEYS) for _ in range(2)]
    first = {c.purpose: c.comment_id for c in concurrent if c.issue_key == "P000-1"}
    assert first == {"gate:G1": "004", "rca": "003"}


def test_reads_overlap_up_to_the_worker_count() -> None:
    fake = FakeJira(rendezvous=4, timeout=2.0)
    state = fetch_jira_state(fake, label="pmo-gates", projects=["P000"], anchors_without_record=KEYS, workers=4)
    # A sequential reader would wait out the timeout at its first read, with one read in flight.
    assert fake.overlap_timeouts == 0
    assert fake.peak == 4  # never more than the workers
    assert len(state.comments) == 2 * len(KEYS)


def test_one_worker_reads_one_at_a_time() -> None:
    fake = FakeJira()
    fetch_jira_state(fake, label="pmo-gates", projects=["P000"], anchors_without_record=KEYS[:5], workers=1)
    assert fake.peak == 1


def test_a_failed_read_is_raised_and_the_rest_are_not_started() -> None:
    fake = FakeJira(fail={"P001-1"}, delay=0.01)
    with pytest.raises(JiraHTTPError, match="P001-1"):
        fetch_jira_state(fake, label="pmo-gates", projects=["P000"], anchors_without_record=KEYS, workers=2)
    # Reads queued behind the failure were cancelled, not sent: far fewer than the 80 pages of all anchors.
    assert len(fake.reads) < 2 * len(KEYS)


def test_the_client_keeps_a_connection_per_concurrent_read() -> None:
    """More readers than requests' default pool of 10 would each reopen a connection (and log "Connection
    pool is full, discarding connection"): the client is built with one per worker."""
    client = build_client(connection(), connections=16)
    assert client.jira._session.get_adapter(URL)._pool_maxsize == 16
    default = build_client(connection())
    assert default.jira._session.get_adapter(URL)._pool_maxsize == 10
