"""Faults during a sync: rate-limit storms, 503s, dropped connections, failures mid-pagination and crashes
mid-batch. The sync finishes or fails cleanly; the watermark never passes data it did not store; nothing is
duplicated; a re-run completes. Retry waits go to a fake clock, so a 20 s Retry-After costs nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pmo_gates.connectors import sync as sync_module
from pmo_gates.connectors.errors import JiraHTTPError, RateLimitError
from pmo_gates.connectors.mapping import parse_jira_datetime
from pmo_gates.sandbox import FaultRule
from pmo_gates.store.models import Issue, SyncRun, SyncState
from tests.fixtures_connector import FakeClock
from tests.fixtures_sync import PAGE, config, portfolio, run_sync, serve, served, stored

SEARCH = {"cloud": r"/search/jql$", "dc": r"/search$"}


def _complete(sb, store) -> None:
    want, have = served(sb), stored(store)
    assert {k: have[k] for k in want} == want


def _watermark(store):
    with store.session() as s:
        state = s.get(SyncState, "portfolio")
        return state.watermark if state else None


@pytest.fixture
def small_batches(monkeypatch):
    """One search page per transaction, so a failure can land between stored batches."""
    monkeypatch.setattr(sync_module, "BATCH_ISSUES", PAGE)


def _one_stream(sb):
    """One worker, one query: the sequential sync, whose watermark is the newest issue stored (the
    concurrent sync's equivalents are in test_sync_concurrent.py)."""
    return config(sb, sync={"concurrency": 1})


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_rate_limit_storm_is_waited_out(sqlite_store, flavour):
    clock = FakeClock()
    with serve(portfolio(), flavour) as sb:
        sb.faults.add(FaultRule(path=SEARCH[flavour], status=429, retry_after=20, every=2, count=3))
        sb.faults.add(FaultRule.rate_limit(path=r"/field$", count=3, retry_after=7))
        result = run_sync(sb, sqlite_store, full=True, clock=clock, cfg=_one_stream(sb))
        _complete(sb, sqlite_store)
        assert sb.requests.count(status=429) == 6
        assert sum(1 for s in clock.sleeps if s >= 20) == 3 and sum(1 for s in clock.sleeps if 7 <= s < 20) == 3
        assert result.http_requests_total == len(sb.requests)


def test_503s_on_every_endpoint_are_retried(sqlite_store):
    with serve(portfolio(), "cloud") as sb:
        sb.faults.add(FaultRule(status=503, every=3, count=5))
        run_sync(sb, sqlite_store, full=True)
        assert sb.requests.count(status=503) >= 3
        _complete(sb, sqlite_store)


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_dropped_connection_mid_pagination_is_retried_without_duplicates(sqlite_store, flavour):
    with serve(portfolio(), flavour) as sb:
        sb.faults.add(FaultRule.drop_connection(path=SEARCH[flavour], nth=3))
        result = run_sync(sb, sqlite_store, full=True)
        _complete(sb, sqlite_store)
        assert result.issues_upserted == served(sb)["issues"]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_failure_mid_pagination_keeps_what_was_stored_and_a_rerun_completes(store, flavour, small_batches):
    with serve(portfolio(), flavour) as sb:
        # Connections to the 3rd page keep dropping: every attempt fails, the sync gives up cleanly.
        sb.faults.add(FaultRule.drop_connection(path=SEARCH[flavour], nth=3))
        for n in range(4, 8):
            sb.faults.add(FaultRule.drop_connection(path=SEARCH[flavour], nth=n))
        with pytest.raises(JiraHTTPError, match="after 4 attempts"):
            run_sync(sb, store, full=True, cfg=_one_stream(sb))
        with store.session() as s:
            stored_count = s.scalar(select(func.count()).select_from(Issue))
            newest = s.scalar(select(func.max(Issue.updated)))
            run = s.scalars(select(SyncRun)).one()
        assert PAGE <= stored_count < served(sb)["issues"]  # the batches before the failure made it
        assert run.status == "failed" and "search" in (run.error or "")
        # The watermark is exactly the newest issue stored, never beyond it.
        assert _watermark(store).replace(tzinfo=None) == newest.replace(tzinfo=None)
        not_stored = [i for i in sb.state.issues() if not _in_store(store, int(i["id"]))]
        assert all(parse_jira_datetime(i["fields"]["updated"]) >= _aware(newest) for i in not_stored)

        sb.faults.clear()
        sb.requests.reset()
        again = run_sync(sb, store, cfg=_one_stream(sb))  # an interrupted first sync resumes where it stopped
        assert again.mode == "full"
        assert again.issues_upserted < served(sb)["issues"]  # resumed, not restarted
        _complete(sb, store)


def test_a_crash_while_storing_a_batch_rolls_it_back(sqlite_store, small_batches, monkeypatch):
    real_write = sync_module._write
    calls = {"n": 0}

    def crashing_write(session, mapped, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            real_write(session, mapped, **kwargs)  # the rows are written ... then the process "dies"
            raise RuntimeError("disk full")
        real_write(session, mapped, **kwargs)

    monkeypatch.setattr(sync_module, "_write", crashing_write)
    with serve(portfolio(), "cloud") as sb:
        with pytest.raises(RuntimeError, match="disk full"):
            run_sync(sb, sqlite_store, full=True, cfg=_one_stream(sb))
        with sqlite_store.session() as s:
            assert PAGE <= s.scalar(select(func.count()).select_from(Issue)) < 3 * PAGE
            newest = s.scalar(select(func.max(Issue.updated)))
        assert _watermark(sqlite_store) == newest
        monkeypatch.setattr(sync_module, "_write", real_write)
        run_sync(sb, sqlite_store)
        _complete(sb, sqlite_store)


def test_issues_changing_while_the_sync_pages_are_all_stored(sqlite_store, small_batches):
    """Between two pages the earliest issues are edited (they jump to the end of the order); the keyset
    paging neither skips the issue that slides onto an already-read page nor stores a stale version."""
    with serve(portfolio(), "dc") as sb:
        order = sorted(sb.state.issues(), key=lambda i: (i["fields"]["updated"], i["key"]))
        edits = iter(order[:6])
        rounds: list[int] = []

        def edit_some(update):
            if update.stage == "issues" and update.pages >= 1 and len(rounds) < 2:
                rounds.append(update.pages)
                for _ in range(3):
                    sb.state.update_issue(next(edits)["key"], {"summary": "edited mid-sync"})

        run_sync(sb, sqlite_store, full=True, progress=edit_some)
        assert len(rounds) == 2
        _complete(sb, sqlite_store)
        with sqlite_store.session() as s:
            edited = s.scalars(select(Issue.key).where(Issue.summary == "edited mid-sync")).all()
        assert sorted(edited) == sorted(i["key"] for i in order[:6])


def test_a_retry_after_longer_than_the_cap_fails_at_once(sqlite_store):
    clock = FakeClock()
    with serve(portfolio(), "cloud") as sb:
        sb.faults.add(FaultRule.rate_limit(path=r"/search/jql$", retry_after=3600))
        with pytest.raises(RateLimitError, match="3600 s") as info:
            run_sync(sb, sqlite_store, full=True, clock=clock)
        assert clock.sleeps == [] and sb.requests.count(status=429) == 1
        assert "max_wait_seconds" in str(info.value)
        with sqlite_store.session() as s:
            assert s.scalars(select(SyncRun.status)).one() == "failed"


def _in_store(store, issue_id: int) -> bool:
    with store.session() as s:
        return s.get(Issue, issue_id) is not None


def _aware(value):
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
