"""The concurrent full sync: project groups read by several workers under one adaptive request budget.

Its guarantees are those of the sequential sync, checked with several groups in flight: a crash while
storing leaves every group's recorded position honest (everything of the group up to it is stored), a
re-run resumes each group (it does not start over) and ends with every issue stored once; a 429 storm
slows the budget down and the sync still stores everything; issues edited while the groups are read are
stored in their newest version (the catch-up pass)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import func, select

from pmo_gates.connectors import sync as sync_module
from pmo_gates.connectors.mapping import parse_jira_datetime
from pmo_gates.connectors.sync import SyncProgress, sync_portfolio
from pmo_gates.sandbox import FaultRule
from pmo_gates.store.models import Issue, SyncState
from tests.fixtures_connector import EMAIL, FakeClock, connection
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sync import config, portfolio, run_sync, serve, served, stored

SEARCH = {"cloud": r"/search/jql$", "dc": r"/search$"}
PAGE = 5


def _cfg(sb, **sync):
    return config(sb, page_size=PAGE, sync={"concurrency": 4, "partitions": 4, "requests_per_second": 500} | sync)


def _complete(sb, store) -> None:
    want, have = served(sb), stored(store)
    assert {k: have[k] for k in want} == want


def _cursor(store) -> dict:
    with store.session() as s:
        row = s.get(SyncState, "portfolio")
        return json.loads(row.cursor) if row and row.cursor else {}


def _stored_ids(store) -> set[int]:
    with store.session() as s:
        return set(s.scalars(select(Issue.id)))


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(sync_module, "BATCH_ISSUES", PAGE)


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_crash_with_several_groups_in_flight_resumes_each_group_and_stores_every_issue_once(
    store, flavour, small_batches, monkeypatch
):
    real_write = sync_module._write
    calls = {"n": 0}
    in_flight: set[str] = set()
    real_prepare = sync_module._prepare

    def tracking_prepare(job, partition, pages):
        in_flight.add(partition)
        return real_prepare(job, partition, pages)

    def crashing_write(session, mapped, **kwargs):
        calls["n"] += 1
        real_write(session, mapped, **kwargs)
        if calls["n"] == 9:
            raise RuntimeError("killed mid-sync")

    monkeypatch.setattr(sync_module, "_prepare", tracking_prepare)
    monkeypatch.setattr(sync_module, "_write", crashing_write)
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = _cfg(sb)
        with pytest.raises(RuntimeError, match="killed mid-sync"):
            run_sync(sb, store, full=True, cfg=cfg)
        assert len(in_flight) >= 2  # several groups were being read when it died

        # Every group's recorded position is a proof: all of its issues up to there are stored.
        cursor = _cursor(store)
        have = _stored_ids(store)
        positions = 0
        for part in cursor["partitions"].values():
            if not part["position"]:
                continue
            positions += 1
            at = parse_jira_datetime(part["position"])
            for issue in sb.state.issues():
                mine = issue["fields"]["project"]["key"] in part["projects"]
                if mine and parse_jira_datetime(issue["fields"]["updated"]) <= at:
                    assert int(issue["id"]) in have, (issue["key"], part)
        assert positions >= 2
        assert 0 < len(have) < served(sb)["issues"]

        monkeypatch.setattr(sync_module, "_write", real_write)
        again = run_sync(sb, store, cfg=cfg)  # the interrupted first sync resumes
        assert again.mode == "full"
        assert again.issues_upserted < served(sb)["issues"]  # resumed, not restarted
        _complete(sb, store)
        with store.session() as s:
            assert s.scalar(select(func.count(func.distinct(Issue.key)))) == served(sb)["issues"]
            assert s.get(SyncState, "portfolio").cursor is None


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_worker_failing_stops_the_others_and_a_rerun_completes(sqlite_store, small_batches, monkeypatch, flavour):
    real_prepare = sync_module._prepare
    seen = {"p2": 0}

    def failing_prepare(job, partition, pages):
        if partition == "p2":
            seen["p2"] += 1
            if seen["p2"] == 2:
                raise RuntimeError("Jira answered HTTP 500 to GET /search/jql")
        return real_prepare(job, partition, pages)

    monkeypatch.setattr(sync_module, "_prepare", failing_prepare)
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = _cfg(sb)
        with pytest.raises(RuntimeError, match="HTTP 500"):
            run_sync(sb, sqlite_store, full=True, cfg=cfg)
        assert not [t for t in threading.enumerate() if t.name.startswith("pmo-gates-sync")]
        monkeypatch.setattr(sync_module, "_prepare", real_prepare)
        again = run_sync(sb, sqlite_store, cfg=cfg)
        assert again.issues_upserted < served(sb)["issues"]
        _complete(sb, sqlite_store)


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_a_429_storm_slows_the_budget_and_nothing_is_lost(sqlite_store, flavour):
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        sb.faults.add(FaultRule(path=SEARCH[flavour], status=429, every=2, count=12))
        # More attempts than the storm has 429s: with four workers sharing the storm, one request can meet
        # it any number of times in a row (seen: 6 in a CI run), so fewer attempts made this test flaky.
        conn = connection(sb.url, flavour=flavour, email=EMAIL if flavour == "cloud" else None, page_size=PAGE,
                          max_attempts=13)  # fmt: skip
        result = sync_portfolio(conn, sqlite_store, _cfg(sb), full=True, sleep=FakeClock().sleep)
        _complete(sb, sqlite_store)
        assert sb.requests.count(status=429) == 12
        assert result.rate_limit["throttles"] == 12
        assert result.rate_limit["rate"] < 500  # halved, not yet recovered all the way
        assert result.issues_upserted == served(sb)["issues"]


def _edit_while_reading(sb) -> tuple[list[str], list[int], Callable[[SyncProgress], None]]:
    """Twelve of the oldest issues, and a progress callback editing four of them on each of three pages."""
    order = sorted(sb.state.issues(), key=lambda i: (i["fields"]["updated"], i["key"]))
    keys = [i["key"] for i in order[:12]]
    edits = iter(keys)
    rounds: list[int] = []

    def edit_some(update: SyncProgress) -> None:
        if update.stage == "issues" and update.pages >= 2 and len(rounds) < 3:
            rounds.append(update.pages)
            for _ in range(4):
                sb.state.update_issue(next(edits), {"summary": "edited mid-sync"})

    return keys, rounds, edit_some


def _edited_and_watermark(store) -> tuple[list[str], datetime]:
    with store.session() as s:
        edited = s.scalars(select(Issue.key).where(Issue.summary == "edited mid-sync")).all()
        return sorted(edited), s.get(SyncState, "portfolio").watermark.replace(tzinfo=None)


def _newest(sb) -> datetime:
    return max(parse_jira_datetime(i["fields"]["updated"]) for i in sb.state.issues()).replace(tzinfo=None)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_issues_edited_while_the_groups_are_read_are_stored_in_their_newest_version(
    sqlite_store, small_batches, flavour
):
    """The catch-up pass, in the same run: it can only find what search shows, so here the index has no lag
    (the next test has the lag: the edits then wait for the next run)."""
    with serve(portfolio(projects=8, issues_per_project=12), flavour) as sb:
        keys, rounds, edit_some = _edit_while_reading(sb)
        result = run_sync(sb, sqlite_store, full=True, cfg=_cfg(sb), progress=edit_some)
        assert len(rounds) == 3
        _complete(sb, sqlite_store)
        edited, watermark = _edited_and_watermark(sqlite_store)
        assert edited == sorted(keys)
        assert watermark == _newest(sb)
        assert result.issues_upserted >= served(sb)["issues"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_edits_search_does_not_show_yet_are_not_skipped_and_the_next_sync_stores_them(
    sqlite_store, small_batches, flavour
):
    """With Jira's index lag, the catch-up pass may not see the edits made while the groups were read; the
    watermark must then stay before them (it records only what was stored), so the next sync stores them."""
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        keys, rounds, edit_some = _edit_while_reading(sb)
        run_sync(sb, sqlite_store, full=True, cfg=_cfg(sb), progress=edit_some)
        assert len(rounds) == 3
        assert stored(sqlite_store)["issues"] == served(sb)["issues"]
        edited, watermark = _edited_and_watermark(sqlite_store)
        updated = {
            i["key"]: parse_jira_datetime(i["fields"]["updated"]).replace(tzinfo=None) for i in sb.state.issues()
        }
        assert all(watermark < updated[key] for key in keys if key not in edited)
        sb.state.settle_index()  # time passes: search shows the edits
        again = run_sync(sb, sqlite_store, cfg=_cfg(sb))
        assert again.mode == "incremental"
        _complete(sb, sqlite_store)
        edited, watermark = _edited_and_watermark(sqlite_store)
        assert edited == sorted(keys) and watermark == _newest(sb)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_an_incremental_sync_with_nothing_changed_still_costs_one_request(sqlite_store, flavour):
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = _cfg(sb)
        run_sync(sb, sqlite_store, full=True, cfg=cfg)
        again = run_sync(sb, sqlite_store, cfg=cfg)
        assert again.mode == "incremental" and again.http_requests_total == 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_full_sync_reads_groups_in_parallel(sqlite_store, flavour):
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        sb.faults.add(FaultRule(path=SEARCH[flavour], delay=0.05))
        result = run_sync(sb, sqlite_store, full=True, cfg=_cfg(sb))
        assert result.rate_limit["peak_in_flight"] >= 2
        _complete(sb, sqlite_store)


# -- the serial steps around the groups, made concurrent (issue 13: the latency benchmark's lost seconds) --


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_the_deletion_listing_read_in_key_slices_covers_every_project_and_finds_every_deletion(
    sqlite_store, flavour, monkeypatch
):
    # 10 ids a listing page: the 96 issues make several slices, listed in parallel with the catch-up.
    monkeypatch.setattr(sync_module, "ID_PAGE_SIZE", {"cloud": 10, "dc": 10})
    listed: list[str] = []
    real_ids = sync_module.IssueSearch.ids

    def spying_ids(self, scope):
        listed.append(scope)
        return real_ids(self, scope)

    monkeypatch.setattr(sync_module.IssueSearch, "ids", spying_ids)
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = _cfg(sb)
        run_sync(sb, sqlite_store, full=True, cfg=cfg)
        assert len(listed) == 4  # min(concurrency, projects, ceil(issues / ids per page))
        keys = sorted(p["key"] for p in sb.state.projects())
        in_slices = [k for scope in listed for k in keys if f'"{k}"' in scope]
        assert sorted(in_slices) == keys  # every project in exactly one slice

        by_project: dict[str, str] = {}
        for issue in sb.state.issues():
            by_project.setdefault(issue["fields"]["project"]["key"], issue["key"])
        victims = [by_project[keys[0]], by_project[keys[-1]]]  # in the first and the last slice
        ids = {int(sb.state.issue(k)["id"]) for k in victims}
        for key in victims:
            sb.state.delete_issue(key)
        result = run_sync(sb, sqlite_store, full=True, cfg=cfg)
        assert result.issues_deleted == 2
        assert not ids & _stored_ids(sqlite_store)
        _complete(sb, sqlite_store)


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_the_deletion_listing_is_read_while_the_groups_are_not_after_them(sqlite_store, flavour, monkeypatch):
    """Listed after the groups, the 200,000-issue listing kept Jira busy for 4 s at the end of the sync while
    the client had nothing left to do; read beside the groups, it fills Jira's idle time instead."""
    monkeypatch.setattr(sync_module, "ID_PAGE_SIZE", {"cloud": 10, "dc": 10})
    groups_over = threading.Event()
    during_groups: list[bool] = []
    real_pipeline, real_ids = sync_module._pipeline, sync_module.IssueSearch.ids

    def pipeline(job, partitions, *args, **kwargs):
        real_pipeline(job, partitions, *args, **kwargs)
        if any(p.name != "catchup" for p in partitions):
            groups_over.set()

    def spying_ids(self, scope):
        during_groups.append(not groups_over.is_set())
        return real_ids(self, scope)

    monkeypatch.setattr(sync_module, "_pipeline", pipeline)
    monkeypatch.setattr(sync_module.IssueSearch, "ids", spying_ids)
    with serve(portfolio(projects=8, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        # Each group needs several pages at 0.1 s a page: the groups cannot be over before the listing starts.
        sb.faults.add(FaultRule(path=SEARCH[flavour], delay=0.1))
        result = run_sync(sb, sqlite_store, full=True, cfg=_cfg(sb))
        # The listing began while groups were still being read, and listed every slice (on fewer threads:
        # a quarter of sync.concurrency, so the later slices may start after the groups).
        assert len(during_groups) == 4 and during_groups[0]
        assert result.issues_deleted == 0
        _complete(sb, sqlite_store)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_missing_project_with_several_groups_drops_the_early_horizon_and_syncs_the_rest(sqlite_store, flavour):
    # The horizon is asked for while the project records load, over the configured projects; one of them
    # does not exist, so that answer (a 400) is dropped and the horizon asked again over the rest.
    from tests.fixtures_connector import settings

    with serve(portfolio(projects=4, issues_per_project=12), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        keys = sorted(p["key"] for p in sb.state.projects())
        cfg = settings(
            [*keys, "NOPE"],
            url=sb.url,
            page_size=PAGE,
            sync={"concurrency": 4, "partitions": 4, "requests_per_second": 500},
        )
        result = run_sync(sb, sqlite_store, full=True, cfg=cfg)
        assert any("NOPE" in w for w in result.warnings)
        assert _cursor(sqlite_store) == {}  # completed
        _complete(sb, sqlite_store)


def test_project_records_are_fetched_in_concurrent_chunks_and_yielded_in_key_order():
    from concurrent.futures import ThreadPoolExecutor

    from pmo_gates.connectors.projects import fetch_projects

    barrier = threading.Barrier(3, timeout=10)  # passes only when the three chunks are in flight at once

    class Client:
        is_cloud = True

        def get(self, path, params):
            barrier.wait()
            return {"values": [{"key": k} for k in params["keys"]], "isLast": True}

    keys = [f"P{i:03d}" for i in range(120)]  # 50 keys a request: three chunks
    with ThreadPoolExecutor(3) as pool:
        got = [p["key"] for p in fetch_projects(Client(), reversed(keys), executor=pool)]
    assert got == keys


def test_a_cancelled_listing_stops_after_the_page_in_flight_and_the_count_runs_off_the_callers_thread():
    """A sync that fails while the listing runs beside its groups must not wait for every remaining page
    of ids (seconds each on a slow Jira); and sizing the slices (a count request) must not hold up the groups."""
    asked, plan_started, release = [], threading.Event(), threading.Event()

    class Search:
        def ids(self, scope):
            for n in range(5):
                asked.append((scope, n))
                yield [(n, f"{scope}-{n}")]
                release.wait(10)

    def plan():
        plan_started.set()
        release.wait(10)  # a slow count: the constructor must have returned already
        return ["A", "B"]

    listing = sync_module._Listing(Search(), plan, 2)  # returns at once although plan is still waiting
    assert plan_started.wait(10)
    release.set()
    done = listing()
    assert [len(part.ids) for part in done] == [5, 5]

    release.clear()
    listing = sync_module._Listing(Search(), lambda: ["C"], 1)
    while not asked or asked[-1][0] != "C":
        threading.Event().wait(0.01)
    cancel = threading.Thread(target=listing.cancel)
    cancel.start()
    threading.Event().wait(0.1)
    release.set()  # the page in flight finishes; no further page may be asked for
    cancel.join(10)
    assert not cancel.is_alive()
    assert [n for scope, n in asked if scope == "C"] == [0, 1]
