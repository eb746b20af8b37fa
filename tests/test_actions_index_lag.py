"""Exactly-once ticket creation when Jira's search trails its writes (Cloud's index lag).

The sandbox's ``index_lag`` hides a created ticket from JQL search for N seconds (GET /issue sees it at
once). The ledger re-finds its tickets by label before any create, so a crash between Jira's create and
the ledger's commit, followed at once by another run, searched, found nothing and created a duplicate.
A durable create intent (written before the batch is sent) makes the next run defer those fingerprints
until ``jira.search_lag_seconds`` has passed, then search (adopt) and create only what is still absent.

One fake clock drives the sandbox's index and our intents, so "within the lag" and "after it" are exact.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from pmo_gates.actions import apply as apply_module
from pmo_gates.actions.ledger import load_tickets
from pmo_gates.actions.run import run_actions
from pmo_gates.config import ConfirmConfig
from pmo_gates.connectors.client import build_client
from pmo_gates.sandbox import FaultRule
from pmo_gates.store.models import CreateIntent
from tests.fixtures_sandbox_actions import connection, world

TODAY = date(2026, 11, 2)
LAG = 30.0  # the sandbox's index lag
ALLOWANCE = 60.0  # jira.search_lag_seconds: longer than the lag


class Clock:
    """Seconds shared by the sandbox's search index and our intents' timestamps."""

    def __init__(self) -> None:
        self.t = 1_790_000_000.0

    def seconds(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def lagging(w, clock: Clock, *, confirm: ConfirmConfig | None = None) -> None:
    w.sandbox.state.index_clock = clock.seconds
    jira = w.settings.jira.model_copy(update={"search_lag_seconds": ALLOWANCE})
    actions = w.settings.actions.model_copy(
        update={"confirm": confirm or ConfirmConfig(wait_seconds=0.3, first_poll_seconds=0.1)}
    )
    w.settings = w.settings.model_copy(update={"jira": jira, "actions": actions})


def run(w, clock: Clock, *, read_timeout: float = 10.0, sleep=None, **facts):
    client = build_client(connection(w.sandbox.url).model_copy(update={"read_timeout": read_timeout}))
    try:
        return run_actions(
            w.settings,
            store=w.store,
            client=client,
            today=TODAY,
            now=datetime(2026, 11, 2, 6, tzinfo=UTC),
            inputs=w.inputs(TODAY, **facts),
            clock=clock.now,
            sleep=sleep,
        )
    finally:
        client.close()


def per_fingerprint(w) -> Counter[str]:
    return Counter(label for t in w.our_tickets() for label in t["fields"]["labels"] if label.startswith("pmo-fp-"))


def creates(result) -> list[str]:
    return [r.status for r in result.applied.items if r.op == "create_ticket"] if result.applied else []


def intents(w) -> list[str]:
    with w.store.session() as session:
        return sorted(session.scalars(select(CreateIntent.fingerprint)))


def crash_after_jira_created(w, clock, monkeypatch, **facts) -> None:
    """A run killed after Jira answered the bulk create, before the ledger recorded the keys."""

    def crash(self, item, key, ticket_id):
        raise RuntimeError("killed between Jira's answer and our commit")

    monkeypatch.setattr(apply_module._Applier, "record_created", crash)
    with pytest.raises(RuntimeError, match="killed"):
        run(w, clock, **facts)
    monkeypatch.undo()
    with w.store.session() as session:
        assert load_tickets(session) == {}
    assert len(w.our_tickets()) == 2 and len(intents(w)) == 2


def test_a_rerun_within_the_index_lag_defers_instead_of_duplicating(store, tmp_path, monkeypatch):
    clock = Clock()
    with world(store, tmp_path, index_lag=LAG) as w:
        lagging(w, clock)
        bad = {w.projects[0]: {"has_charter": False}, w.projects[1]: {"has_charter": False}}
        crash_after_jira_created(w, clock, monkeypatch, **bad)
        clock.sleep(5)  # an immediate re-run (a flow retry): search does not show the tickets yet
        again = run(w, clock, **bad)
        assert creates(again) == ["deferred", "deferred"], again.applied.items
        assert all("search_lag_seconds" in r.note for r in again.applied.items)
        assert again.summary()["deferred"] and not again.summary()["pending"]
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 1
        assert set(per_fingerprint(w).values()) == {1} and len(intents(w)) == 2
        clock.sleep(ALLOWANCE)  # past the allowance: searched, found, adopted
        later = run(w, clock, **bad)
        assert later.adopted["tickets"] == 2 and creates(later) == []
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 1
        assert set(per_fingerprint(w).values()) == {1} and len(per_fingerprint(w)) == 2
        assert intents(w) == []  # the ledger holds the keys: nothing is in doubt any more
        with w.store.session() as session:
            assert sorted(r.ticket_key for r in load_tickets(session).values()) == sorted(
                t["key"] for t in w.our_tickets()
            )


def test_a_rerun_after_the_allowance_adopts_the_tickets(store, tmp_path, monkeypatch):
    clock = Clock()
    with world(store, tmp_path, index_lag=LAG) as w:
        lagging(w, clock)
        bad = {w.projects[0]: {"has_charter": False}, w.projects[1]: {"has_charter": False}}
        crash_after_jira_created(w, clock, monkeypatch, **bad)
        clock.sleep(ALLOWANCE + 1)
        again = run(w, clock, **bad)
        assert again.adopted["tickets"] == 2 and again.plan.counts["create_ticket"] == 0
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 1
        assert set(per_fingerprint(w).values()) == {1} and intents(w) == []


def test_an_intent_older_than_the_allowance_is_searched_then_adopted_by_apply(store, tmp_path, monkeypatch):
    """The planner had no search result (the ticket was still unindexed when Jira was read back), but by the
    time the deferred create comes up the allowance has passed: apply's own search adopts it."""
    clock = Clock()
    with world(store, tmp_path, index_lag=LAG) as w:
        lagging(w, clock)
        bad = {w.projects[0]: {"has_charter": False}, w.projects[1]: {"has_charter": False}}
        crash_after_jira_created(w, clock, monkeypatch, **bad)
        from pmo_gates.actions import run as run_module

        real_fetch = run_module.fetch_jira_state

        def read_back_then_time_passes(*args, **kwargs):
            state = real_fetch(*args, **kwargs)  # within the lag: our tickets are not in it
            clock.sleep(ALLOWANCE + 1)  # planning and approval took a while
            return state

        monkeypatch.setattr(run_module, "fetch_jira_state", read_back_then_time_passes)
        again = run(w, clock, **bad)
        assert creates(again) == ["adopted", "adopted"], again.applied.items
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 1
        assert set(per_fingerprint(w).values()) == {1} and intents(w) == []


def test_an_intent_for_a_create_jira_never_received_is_created_once_after_the_allowance(store, tmp_path):
    clock = Clock()
    with world(store, tmp_path, index_lag=LAG) as w:
        lagging(w, clock)
        bad = {w.projects[0]: {"has_charter": False}}
        # The request is lost before Jira acts: the confirm window passes with nothing found.
        w.sandbox.faults.add(FaultRule(method="POST", path=r"/issue/bulk$", drop=True, count=1))
        first = run(w, clock, **bad)
        assert creates(first) == ["pending"] and w.our_tickets() == [] and len(intents(w)) == 1
        clock.sleep(10)
        assert creates(run(w, clock, **bad)) == ["deferred"] and w.our_tickets() == []
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 1
        clock.sleep(ALLOWANCE)
        last = run(w, clock, **bad)
        assert creates(last) == ["applied"]
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 2
        assert list(per_fingerprint(w).values()) == [1] and intents(w) == []
        clock.sleep(LAG + 1)
        assert run(w, clock, **bad).plan.items == []  # found by search now, recorded: nothing more to do
        assert list(per_fingerprint(w).values()) == [1]


def test_a_slow_bulk_create_under_index_lag_is_confirmed_not_re_sent(store, tmp_path):
    """Jira creates after the client's read timeout; its search shows the tickets only LAG seconds later.
    A confirm window shorter than the lag leaves them pending, and the next run defers rather than
    re-sending; a window that outlasts the lag (its sleeps advance the clock) finds them in the same run."""
    clock = Clock()
    with world(store, tmp_path, index_lag=LAG) as w:
        lagging(w, clock)
        w.sandbox.faults.add(FaultRule(method="POST", path=r"/issue/bulk$", delay=1.0, count=1))
        bad = {w.projects[0]: {"has_charter": False}, w.projects[1]: {"has_charter": False}}
        first = run(w, clock, read_timeout=0.3, **bad)
        assert creates(first) == ["pending", "pending"]
        import time

        time.sleep(1.0)  # whatever Jira was still doing is done
        assert creates(run(w, clock, **bad)) == ["deferred", "deferred"]
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 1
        assert set(per_fingerprint(w).values()) == {1}


def test_the_confirm_window_waits_out_the_index_lag(store, tmp_path):
    clock = Clock()
    with world(store, tmp_path, index_lag=LAG) as w:
        # A window (in fake seconds) longer than the lag: the poller's sleeps move the index clock on.
        lagging(w, clock, confirm=ConfirmConfig(wait_seconds=120, first_poll_seconds=4, max_poll_seconds=16))
        w.sandbox.faults.add(FaultRule(method="POST", path=r"/issue/bulk$", drop=True, after=True, count=1))
        bad = {w.projects[0]: {"has_charter": False}, w.projects[1]: {"has_charter": False}}
        first = run(w, clock, sleep=clock.sleep, **bad)
        assert creates(first) == ["adopted", "adopted"], first.applied.items
        assert first.applied.confirm_seconds >= LAG
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 1
        assert set(per_fingerprint(w).values()) == {1} and intents(w) == []


@pytest.mark.parametrize("flavour", ["dc"])
def test_data_center_crash_and_rerun_within_the_lag(store, tmp_path, monkeypatch, flavour):
    clock = Clock()
    with world(store, tmp_path, flavour, index_lag=LAG) as w:
        lagging(w, clock)
        bad = {w.projects[0]: {"has_charter": False}, w.projects[1]: {"has_charter": False}}

        def crash(self, item, key, ticket_id):
            raise RuntimeError("killed between Jira's answer and our commit")

        monkeypatch.setattr(apply_module._Applier, "record_created", crash)
        client = w.client()
        try:
            with pytest.raises(RuntimeError, match="killed"):
                run_actions(
                    w.settings, store=w.store, client=client, today=TODAY, inputs=w.inputs(TODAY, **bad),
                    clock=clock.now,
                )  # fmt: skip
            monkeypatch.undo()
            again = run_actions(
                w.settings, store=w.store, client=client, today=TODAY, inputs=w.inputs(TODAY, **bad), clock=clock.now
            )
        finally:
            client.close()
        assert creates(again) == ["deferred", "deferred"]
        assert set(per_fingerprint(w).values()) == {1} and len(per_fingerprint(w)) == 2
