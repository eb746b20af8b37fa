"""Sync the portfolio from Jira into the store, incrementally.

Guarantees:

- **Never skips data.** Issues are read oldest change first (``updated ASC, key ASC``, see search.py) and
  stored a batch at a time; the watermark (the newest ``updated`` actually stored) is advanced in the same
  transaction as the batch it covers. A crash or an error mid-pagination leaves the watermark at the last
  stored batch, and the next run starts there (minus ``sync.overlap_minutes``, which also absorbs Jira
  Cloud's search index lagging behind writes).
- **Never duplicates.** Rows are upserted by Jira id; the children of a re-synced issue (links, changelog
  items, worklogs) are replaced, not appended.
- **Deletions are reconciled safely.** Only a full sync deletes, only after it has listed every issue id in
  scope completely (ids only, 5000 per page on Cloud), and every would-be deletion is confirmed absent by
  one more lookup first.
- **Cheap when nothing changed.** An incremental sync reuses what the last full sync learnt about the site
  (flavour, the user's time zone, field ids: kept in ``sync_state.context``), so it costs one search
  request; issues whose ``updated`` equals the stored value are not re-fetched or rewritten.

A full sync runs when asked (``full=True``), on the first sync, and when the last one is older than
``sync.full_sync_every_days``; an interrupted full sync resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import math
import queue
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import takewhile
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy import delete, func, or_, select

from pmo_gates.bulk_gc import fewer_collections
from pmo_gates.config import Settings
from pmo_gates.connectors.client import JiraClient, RequestStats, build_client
from pmo_gates.connectors.conflicts import drop_duplicates, settle_anchors
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.connectors.errors import JiraConfigError, JiraConnectorError, JiraHTTPError
from pmo_gates.connectors.fields import FieldIds, resolve_fields
from pmo_gates.connectors.mapping import (
    PROJECT_FIELDS,
    SYSTEM_FIELDS,
    DataError,
    MappedIssue,
    changelog_truncated,
    map_issue,
    parse_jira_datetime,
    worklogs_truncated,
)
from pmo_gates.connectors.people import write_people
from pmo_gates.connectors.plausibility import Checker
from pmo_gates.connectors.prefetch import prefetch
from pmo_gates.connectors.projects import fetch_projects, project_row
from pmo_gates.connectors.rate import RequestBudget
from pmo_gates.connectors.redact import Redactor
from pmo_gates.connectors.search import ID_PAGE_SIZE, IssueSearch, fetch_changelogs, fetch_worklogs, scope_jql
from pmo_gates.store import Store, upsert
from pmo_gates.store.models import (
    ChangelogItem,
    Issue,
    IssueLink,
    Project,
    SyncRun,
    SyncState,
    Worklog,
)
from pmo_gates.store.upsert import among, insert_many

log = logging.getLogger(__name__)

SCOPE = "portfolio"
BATCH_ISSUES = 1000  # issues per transaction: bulkfetch takes 1000 issues, so one batch = one changelog call
# Batches waiting for the writer are stored together up to this many issues: fewer commits, while the
# decoded rows held at once stay bounded (at 1,000 the full-size benchmark's peak RSS passed 300 MB).
WRITER_GROUP_ISSUES = 500
MAX_REPORTED_ERRORS = 1000
_ID_CHUNK = 5000  # values per IN (...) lookup (one bound parameter each: see store.upsert.among)
ANALYZE_AFTER = 10_000  # issues written by one sync from which the tables' statistics are refreshed
LISTING_SHARE = 4  # the deletion listing reads with this share of sync.concurrency (see _id_listing)


class SyncProgress(BaseModel):
    stage: Literal["metadata", "projects", "issues", "reconcile", "done"]
    issues: int = 0
    expected: int | None = Field(None, description="Jira's estimate of the issues this sync reads (progress only).")
    pages: int = 0
    requests: int = 0


class SyncResult(BaseModel):
    """What a sync did; also stored (without the long lists) on its ``sync_runs`` row."""

    run_id: int | None = None
    mode: Literal["full", "incremental"]
    flavour: str = ""
    projects: int = 0
    issues_seen: int = Field(0, description="Issues the searches returned (overlap re-reads included).")
    issues_upserted: int = 0
    issues_unchanged: int = Field(0, description="Returned but identical to the stored version: skipped.")
    issues_deleted: int = 0
    changelog_items: int = 0
    worklogs: int = 0
    data_errors: list[DataError] = Field(default_factory=list)
    data_errors_total: int = 0
    warnings: list[str] = Field(default_factory=list)
    http_requests: dict[str, int] = Field(default_factory=dict)
    http_requests_total: int = 0
    duration_s: float = 0.0
    watermark: datetime | None = None
    rate_limit: dict[str, int | float] = Field(
        default_factory=dict,
        description="The request budget at the end: rate and concurrency reached, 429/503 seen, peak in flight.",
    )


class SiteContext(BaseModel):
    """What a full sync learns about the site, reused by incremental syncs."""

    jira_url: str
    flavour: Literal["cloud", "dc"]
    timezone: str = "UTC"
    fields: FieldIds
    statuses: list[str] = Field(default_factory=list, description="Status names Jira lists (empty: unknown).")

    def zone(self) -> tzinfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return UTC


@dataclass
class _State:
    watermark: datetime | None
    last_full_sync: datetime | None
    cursor: dict[str, Any] | None
    context: SiteContext | None


@dataclass
class _Run:
    """The mutable bookkeeping of one sync."""

    result: SyncResult
    progress: Callable[[SyncProgress], None] | None
    stats: RequestStats
    synced_at: datetime
    pages: int = 0
    expected: int | None = None
    project_keys_seen: set[str] = field(default_factory=set)
    budget: RequestBudget | None = None

    def error(self, item: DataError) -> None:
        self.result.data_errors_total += 1
        if len(self.result.data_errors) < MAX_REPORTED_ERRORS:
            self.result.data_errors.append(item)

    def report(self, stage: str) -> None:
        if self.progress is not None:
            self.progress(
                SyncProgress(
                    stage=stage,  # type: ignore[arg-type]
                    issues=self.result.issues_upserted + self.result.issues_unchanged,
                    expected=self.expected,
                    pages=self.pages,
                    requests=self.stats.total,
                )
            )


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes for timezone-aware columns: they were stored as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _chunks(items: Sequence[Any], size: int = _ID_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _load_state(store: Store) -> _State:
    with store.session() as s:
        row = s.get(SyncState, SCOPE)
        if row is None:
            s.add(SyncState(scope=SCOPE))
            return _State(None, None, None, None)
        cursor = None
        if row.cursor:
            try:
                cursor = json.loads(row.cursor)
            except ValueError:
                cursor = None
        context = None
        if row.context:
            try:
                context = SiteContext.model_validate(row.context)
            except ValueError:
                context = None
        return _State(_aware(row.watermark), _aware(row.last_full_sync), cursor, context)


def _choose_mode(state: _State, settings: Settings, full: bool, now: datetime) -> Literal["full", "incremental"]:
    if full or state.watermark is None or state.last_full_sync is None:
        return "full"
    if now - state.last_full_sync >= timedelta(days=settings.sync.full_sync_every_days):
        return "full"
    return "incremental"


def _context_fits(context: SiteContext | None, connection: JiraConnection, settings: Settings) -> bool:
    return (
        context is not None
        and context.jira_url == connection.url
        and context.fields.matches(settings.fields)
        and connection.flavour in ("auto", context.flavour)
    )


def _learn_context(client: JiraClient, connection: JiraConnection, settings: Settings) -> SiteContext:
    """serverInfo (when auto-detecting, done by build_client), /myself, /field and /status: the three at
    once, since each pays Jira's latency and none needs another's answer."""
    status_warnings: list[str] = []
    with ThreadPoolExecutor(3, thread_name_prefix="pmo-gates-context") as pool:
        myself_call = pool.submit(client.get, "/myself")
        fields_call = pool.submit(client.jira.fields)
        statuses_call = pool.submit(_statuses, client, status_warnings)
        myself, raw_fields, statuses = myself_call.result(), fields_call.result(), statuses_call.result()
    timezone = str(myself.get("timeZone") or "UTC")
    warnings: list[str] = []
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        warnings.append(f"Jira reports an unknown time zone {timezone!r} for the sync user; using UTC")
        timezone = "UTC"
    fields = resolve_fields(raw_fields, settings.fields)
    fields.warnings[:0] = warnings
    fields.warnings.extend(status_warnings)
    return SiteContext(
        jira_url=connection.url, flavour=client.flavour, timezone=timezone, fields=fields, statuses=statuses
    )


def _statuses(client: JiraClient, warnings: list[str]) -> list[str]:
    """The names of Jira's statuses, to flag changelog moves into a status Jira does not know; when they
    cannot be read, the sync goes on without that check."""
    try:
        listed = client.get("/status")
    except JiraConnectorError as exc:
        warnings.append(f"cannot read Jira's statuses ({exc}); changelog statuses are not checked")
        return []
    if not isinstance(listed, list):
        return []
    return sorted({str(s["name"]) for s in listed if isinstance(s, dict) and s.get("name")})


def sync_portfolio(
    connection: JiraConnection,
    store: Store,
    settings: Settings,
    *,
    full: bool = False,
    progress: Callable[[SyncProgress], None] | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncResult:
    """Sync the portfolio ``settings.portfolio`` describes into ``store``; see the module docstring.

    ``now`` pins the clock (tests, replays); ``sleep`` is what retries wait with (tests pass a fake).
    Raises ``JiraConnectorError`` subclasses on Jira failures (the run is recorded as failed first).
    """
    # Pages, rows and tuples by the million, none of them in a reference cycle: collect less often.
    with fewer_collections():
        return _sync_portfolio(connection, store, settings, full=full, progress=progress, now=now, sleep=sleep)


def _sync_portfolio(
    connection: JiraConnection,
    store: Store,
    settings: Settings,
    *,
    full: bool,
    progress: Callable[[SyncProgress], None] | None,
    now: datetime | None,
    sleep: Callable[[float], None],
) -> SyncResult:
    began = time.perf_counter()
    started = _aware(now) or datetime.now(UTC)
    state = _load_state(store)
    mode = _choose_mode(state, settings, full, started)
    stats = RequestStats()
    run = _Run(SyncResult(mode=mode), progress, stats, started)
    with store.session() as s:
        row = SyncRun(started_at=started, mode=mode, status="running", stats={})
        s.add(row)
        s.flush()
        run.result.run_id = row.id
    redact = Redactor(connection.secrets(), email=connection.email)
    client: JiraClient | None = None
    try:
        reuse = mode == "incremental" and _context_fits(state.context, connection, settings)
        cached_flavour = state.context.flavour if reuse and state.context else None
        budget = RequestBudget(
            rate=settings.sync.requests_per_second, concurrency=settings.sync.concurrency, sleep=sleep
        )
        run.budget = budget
        client = build_client(connection, flavour=cached_flavour, stats=stats, sleep=budget.sleep, budget=budget)
        run.result.flavour = client.flavour
        run.report("metadata")
        if reuse and state.context is not None:
            context = state.context
        else:
            context = _learn_context(client, connection, settings)
            _save_context(store, context)
        run.result.warnings.extend(context.fields.warnings)
        _sync(client, store, settings, context, state, run, page_size=connection.page_size)
    except Exception as exc:
        message = redact(str(exc)) or type(exc).__name__
        _finish(store, run, began, status="failed", error=message)
        raise
    finally:
        if client is not None:
            client.close()
    _finish(store, run, began, status="completed")
    return run.result


def _save_context(store: Store, context: SiteContext) -> None:
    with store.session() as s:
        row = s.get(SyncState, SCOPE)
        assert row is not None  # created by _load_state
        row.context = context.model_dump(mode="json")


def _finish(store: Store, run: _Run, began: float, *, status: str, error: str | None = None) -> None:
    result = run.result
    result.duration_s = round(time.perf_counter() - began, 3)
    result.http_requests = run.stats.as_dict()
    result.http_requests_total = run.stats.total
    if run.budget is not None:
        result.rate_limit = run.budget.snapshot()
    with store.session() as s:
        state = s.get(SyncState, SCOPE)
        result.watermark = _aware(state.watermark) if state else None
        row = s.get(SyncRun, result.run_id)
        if row is not None:
            row.status = status
            row.finished_at = datetime.now(UTC)
            row.error = error
            row.stats = result.model_dump(mode="json", exclude={"data_errors"}) | {
                "data_errors": [e.model_dump() for e in result.data_errors[:50]]
            }
    run.report("done")


@dataclass
class _Partition:
    """A slice of the scope read by one worker, oldest change first. ``projects`` empty: the whole scope."""

    name: str
    scope: str
    since: datetime | None
    projects: list[str] = field(default_factory=list)


@dataclass
class _Fetched:
    """One batch a worker read, completed (changelogs, worklogs) and mapped: what the writer stores."""

    partition: str
    pages: int
    seen: int
    newest: datetime | None
    mapped: list[MappedIssue]
    errors: list[DataError]
    unchanged: int = 0
    unchanged_projects: set[str] = field(default_factory=set)


@dataclass
class _Done:
    partition: str


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


@dataclass
class _Job:
    """What every worker of one sync shares (all of it safe to use from several threads)."""

    client: JiraClient
    store: Store
    settings: Settings
    context: SiteContext
    search: IssueSearch
    synced_at: datetime
    aux: ThreadPoolExecutor  # changelog and worklog fetches of a batch, paced by the same budget
    drop_unchanged: bool


def _partition_count(settings: Settings, projects: int) -> int:
    if not settings.sync.partitions and settings.sync.concurrency == 1:
        return 1  # one worker reads one stream: groups would only add requests
    wanted = settings.sync.partitions or 2 * settings.sync.concurrency
    return max(1, min(wanted, projects))


def _full_plan(state: _State, in_scope: list[str], jql: str | None, settings: Settings) -> dict[str, Any] | None:
    """The interrupted full sync's plan when it still fits the portfolio (then it resumes), else None."""
    cursor = state.cursor
    if not cursor or cursor.get("mode") != "full" or not isinstance(cursor.get("partitions"), dict):
        return None
    if cursor.get("projects") != sorted(in_scope) or cursor.get("jql") != (jql or None):
        return None
    return cursor


def _new_plan(in_scope: list[str], jql: str | None, settings: Settings, run: _Run) -> dict[str, Any]:
    ordered = sorted(in_scope)
    count = _partition_count(settings, len(ordered)) if ordered else 1
    # Round robin over the sorted keys: big and small projects spread over the groups.
    groups = [ordered[i::count] for i in range(count)] if ordered else [[]]
    return {
        "mode": "full",
        "started": run.synced_at.isoformat(),
        "projects": ordered,
        "jql": jql or None,
        "horizon": None,
        "catchup": None,
        "partitions": {f"p{i}": {"projects": g, "position": None, "done": False} for i, g in enumerate(groups)},
    }


def _save_cursor(store: Store, cursor: dict[str, Any]) -> None:
    with store.session() as s:
        row = s.get(SyncState, SCOPE)
        assert row is not None
        row.cursor = json.dumps(cursor, sort_keys=True)


def _sync(
    client: JiraClient,
    store: Store,
    settings: Settings,
    context: SiteContext,
    state: _State,
    run: _Run,
    *,
    page_size: int,
) -> None:
    with store.session() as s:
        known_projects = set(s.scalars(select(Project.key)))

    field_ids = context.fields
    custom = [field_ids.get(n) for n in ("story_points", "sprint", "epic_link", *PROJECT_FIELDS)]
    fields = [f for f in SYSTEM_FIELDS if settings.sync.sync_worklogs or f != "worklog"]
    fields += [f for f in custom if f]
    search = IssueSearch(client, fields=fields, page_size=page_size, tz=context.zone(), expand="changelog")
    with ThreadPoolExecutor(settings.sync.concurrency, thread_name_prefix="pmo-gates-fetch") as aux:
        _sync_with(client, store, settings, context, state, run, search, aux, known_projects)


def _sync_with(
    client: JiraClient,
    store: Store,
    settings: Settings,
    context: SiteContext,
    state: _State,
    run: _Run,
    search: IssueSearch,
    aux: ThreadPoolExecutor,
    known_projects: set[str],
) -> None:
    portfolio = settings.portfolio
    full = run.result.mode == "full"
    run.report("projects")
    configured = set(portfolio.projects)
    wanted = configured if full else configured - known_projects
    # A new multi-group full sync needs the horizon before its groups read: ask for it while the project
    # records are fetched (both pay Jira's latency). It is used only if every configured project exists.
    ahead_scope = scope_jql(list(portfolio.projects), portfolio.jql) if portfolio.projects else None
    horizon_ahead: Future[datetime | None] | None = None
    if full and ahead_scope and _partition_count(settings, len(configured)) > 1 and not _resumable(state):
        horizon_ahead = aux.submit(search.newest, ahead_scope)
    found = _store_projects(client, store, wanted, run, executor=aux)
    missing = sorted(wanted - found)
    if missing:
        # Jira refuses a whole search that names an unknown project: leave them out, and say so.
        run.result.warnings.append(
            f"portfolio.projects: Jira has no project {', '.join(missing)} visible to the sync user (check the "
            "keys and the user's permissions); synced without it"
        )
    in_scope = [p for p in portfolio.projects if p not in missing]
    if portfolio.projects and not in_scope and not portfolio.jql:
        raise JiraConfigError(
            f"portfolio.projects: none of {', '.join(portfolio.projects)} exists in Jira or is visible to the sync user"
        )
    scope = scope_jql(in_scope, portfolio.jql)
    overlap = timedelta(minutes=settings.sync.overlap_minutes)
    if horizon_ahead is not None and scope != ahead_scope:
        horizon_ahead.cancel()
        _quietly(horizon_ahead)  # asked over projects Jira does not have: asked again below
        horizon_ahead = None

    # A full sync reads everything in scope (its groups resume on their own); an incremental one from the watermark.
    since = state.watermark - overlap if not full and state.watermark is not None else None
    if run.progress is not None:  # one extra request, only for someone watching a progress bar
        run.expected = search.count(scope, since)
    run.report("issues")
    job = _Job(client, store, settings, context, search, run.synced_at, aux, drop_unchanged=not full)
    listing: _Listing | None = None
    if full:
        listing = _full_sync(job, state, run, in_scope, scope, overlap, horizon_ahead)
    else:
        _pipeline(job, [_Partition("all", scope, since)], run, _watermark_writer(job, run))

    new_keys = run.project_keys_seen - known_projects - found
    try:
        found |= _store_projects(client, store, new_keys, run, executor=aux) if new_keys else set()
    except BaseException:
        if listing is not None:
            listing.cancel()
        raise
    if full:
        run.report("reconcile")
        listed = listing() if listing is not None else [_listed(search.ids(scope))]
        _reconcile(search, store, listed, in_scope, scope, bool(portfolio.jql), run)
        with store.session() as s:
            unanchored = s.scalars(select(Project.key).where(Project.anchor_issue_key.is_(None)))
            unanchored_keys = sorted(unanchored)
        for key in unanchored_keys:
            run.error(
                DataError(
                    key=key,
                    field="anchor",
                    message=f"no issue of type {portfolio.anchor_issue_type!r}: the project's PMO metadata stays empty",
                )
            )
    if run.result.issues_upserted >= ANALYZE_AFTER:
        _refresh_statistics(store)
    with store.session() as s:
        run.result.projects = len(set(s.scalars(select(Project.key))))
        row = s.get(SyncState, SCOPE)
        assert row is not None
        if full:
            row.last_full_sync = run.synced_at
        row.cursor = None


def _refresh_statistics(store: Store) -> None:
    """After a large load the planner's statistics describe the tables as they were (often empty): refresh
    them, so later syncs' lookups and deletes, the facts and the reports use the indexes."""
    tables = ("issues", "changelog_items", "worklogs", "issue_links", "people", "projects")
    with store.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in tables:
            connection.exec_driver_sql(f"ANALYZE {table}")


def _resumable(state: _State) -> bool:
    cursor = state.cursor
    return bool(cursor) and cursor.get("mode") == "full" and isinstance(cursor.get("partitions"), dict)  # type: ignore[union-attr]


def _quietly(future: Future[Any]) -> None:
    """Wait for a request whose answer is no longer wanted, ignoring its failure."""
    try:
        future.result()
    except Exception:
        log.debug("discarded an early request's failure", exc_info=True)


def _full_sync(
    job: _Job,
    state: _State,
    run: _Run,
    in_scope: list[str],
    scope: str,
    overlap: timedelta,
    horizon_ahead: Future[datetime | None] | None = None,
) -> _Listing | None:
    """Project groups read in parallel, then one catch-up pass over what changed meanwhile.

    Returns how to get the id listing deletion reconciliation needs when it was started here (several
    groups: it is read in key-range slices, beside the groups and the catch-up pass), None otherwise.

    Why it never skips an issue: before any group is read, the newest ``updated`` in scope is noted (the
    horizon). An issue that did not change after that is read by its group (every group pages its slice
    oldest first and records how far it stored, so a resumed sync continues each group where it stopped);
    an issue that changed later has ``updated >= horizon`` and the catch-up pass, which reads everything
    from the horizon (minus the overlap) in one keyset-paged query, stores its newest version. Only that
    pass moves the watermark, exactly as an incremental sync does.
    """
    jql = job.settings.portfolio.jql
    cursor = _full_plan(state, in_scope, jql, job.settings)
    if cursor is None:
        cursor = _new_plan(in_scope, jql, job.settings, run)
        if len(cursor["partitions"]) > 1:
            try:
                horizon = horizon_ahead.result() if horizon_ahead is not None else job.search.newest(scope)
            except JiraHTTPError as exc:
                raise _config_error(exc) if exc.status_code == 400 else exc from None
            cursor["horizon"] = horizon.isoformat() if horizon else None
        _save_cursor(job.store, cursor)
    if len(cursor["partitions"]) == 1:
        # One stream, oldest change first: an issue edited meanwhile moves ahead of the reader, so the
        # stream itself is the proof and its position is the watermark (no horizon, no catch-up).
        (name, part), *_ = cursor["partitions"].items()
        if horizon_ahead is not None:
            _quietly(horizon_ahead)  # one stream needs no horizon
        since = parse_jira_datetime(part["position"]) - overlap if part.get("position") else None

        def store_stream(group: list[_Fetched]) -> None:
            newest = _newest(group)
            if newest is not None:
                part["position"] = newest.isoformat()
            _store_fetched(job, group, run, cursor=cursor, watermark=True)

        _pipeline(job, [_Partition(name, scope, since)], run, store_stream)
        return None
    if horizon_ahead is not None:
        _quietly(horizon_ahead)  # resuming: the horizon of the interrupted sync stands
    partitions = []
    for name, part in cursor["partitions"].items():
        if part["done"]:
            continue
        position = parse_jira_datetime(part["position"]) - overlap if part.get("position") else None
        part_scope = scope_jql(part["projects"], jql) if part["projects"] else scope
        partitions.append(_Partition(name, part_scope, position, part["projects"]))

    def store_part(group: list[_Fetched]) -> None:
        for fetched in group:
            part = cursor["partitions"][fetched.partition]
            if fetched.newest is not None:
                current = parse_jira_datetime(part["position"]) if part.get("position") else None
                if current is None or fetched.newest > current:
                    part["position"] = fetched.newest.isoformat()
        _store_fetched(job, group, run, cursor=cursor)

    def part_done(name: str) -> None:
        cursor["partitions"][name]["done"] = True
        _save_cursor(job.store, cursor)

    # The deletion listing depends on no write of this sync: it is read beside the groups (see _id_listing).
    listing = _id_listing(job, in_scope, scope, run)
    try:
        _pipeline(job, partitions, run, store_part, part_done)

        # The catch-up: everything changed since the horizon, stored as an incremental sync stores it.
        start = cursor.get("catchup") or cursor.get("horizon")
        since = parse_jira_datetime(start) - overlap if start else None
        catchup = replace(job, drop_unchanged=True)
        writer = _watermark_writer(catchup, run, cursor=cursor)
        _pipeline(catchup, [_Partition("catchup", scope, since)], run, writer)
    except BaseException:
        listing.cancel()
        raise
    horizon = parse_jira_datetime(cursor["horizon"]) if cursor.get("horizon") else None
    if horizon is not None:
        with job.store.session() as s:
            row = s.get(SyncState, SCOPE)
            assert row is not None
            if row.watermark is None or _aware(row.watermark) < horizon:  # type: ignore[operator]
                row.watermark = horizon
    return listing


class _Listed(NamedTuple):
    """A listing (or one slice of it) as reconciliation needs it: the ids, and the projects they are in.
    Compact on purpose: 200,000 (id, key) tuples would hold about 30 MB while the catch-up runs."""

    ids: array[int]
    projects: frozenset[str]


def _listed(pages: Iterable[list[tuple[int, str]]]) -> _Listed:
    ids: array[int] = array("q")
    projects: set[str] = set()
    for page in pages:
        for issue_id, key in page:
            ids.append(issue_id)
            if "-" in key:
                projects.add(key.rsplit("-", 1)[0])
    return _Listed(ids, frozenset(projects))


class _Listing:
    """The id listing of the scope, read in slices on their own threads; ``()`` waits for all of them.

    ``plan`` gives the slices' scopes; it runs on the listing's first thread, so that a count request
    sizing the slices never delays the caller."""

    def __init__(self, search: IssueSearch, plan: Callable[[], list[str]], workers: int) -> None:
        self._search = search
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="pmo-gates-ids")
        self._cancelled = threading.Event()
        self._plan = self._pool.submit(self._start, plan)

    def _start(self, plan: Callable[[], list[str]]) -> list[Future[_Listed]]:
        try:
            scopes = [] if self._cancelled.is_set() else plan()
            return [self._pool.submit(self._slice, sc) for sc in scopes]
        finally:
            self._pool.shutdown(wait=False)

    def _slice(self, scope: str) -> _Listed:
        # A cancelled listing (the sync failed) stops after the page in flight, not after its last page.
        return _listed(takewhile(lambda _: not self._cancelled.is_set(), self._search.ids(scope)))

    def __call__(self) -> list[_Listed]:
        return [future.result() for future in self._plan.result()]

    def cancel(self) -> None:
        self._cancelled.set()
        self._plan.cancel()
        if self._plan.cancelled():
            self._pool.shutdown(wait=False)
            return
        try:
            futures = self._plan.result()
        except Exception:
            log.debug("discarded the listing plan's failure", exc_info=True)
            return
        for future in futures:
            future.cancel()
        for future in futures:
            if not future.cancelled():
                _quietly(future)


def _id_listing(job: _Job, in_scope: list[str], scope: str, run: _Run) -> _Listing:
    """Start listing every (id, key) in scope, for deletion reconciliation, beside the groups.

    Why it may run while the groups store: reconciliation deletes only what the listing lacks *and* Jira
    answers 404 for (``IssueSearch.existing``), so an issue created after the listing is kept; one deleted
    after it waits for the next full sync, as it would have if deleted a moment after a later listing.
    Read at the end instead, the listing of 200,000 issues kept Jira busy for seconds while the sync had
    nothing else to do.

    One keyset listing pays Jira's latency once per page of ids (5,000 on Cloud): 40 pages in a row for
    200,000 issues. So the projects are cut into contiguous key slices, about one listing page each (as
    many as the scope holds issues, up to ``sync.concurrency`` slices), listed in parallel. The slices
    together are exactly the scope (each is the scope's JQL over its own projects), so the union is as
    complete as one listing; a JQL-only portfolio is listed in one piece. How many issues: the store's
    count, or on an empty store Jira's estimate (one request, on the listing's thread; the progress bar's
    count when there is one).
    """
    concurrency = job.settings.sync.concurrency
    if not in_scope or concurrency <= 1:
        return _Listing(job.search, lambda: [scope], 1)
    with job.store.session() as s:
        stored = s.scalar(select(func.count()).select_from(Issue)) or 0
    expected = run.expected

    def plan() -> list[str]:
        issues = stored or (expected if expected is not None else (job.search.count(scope) or 0))
        per_page = ID_PAGE_SIZE[job.client.flavour]
        slices = max(1, min(concurrency, len(in_scope), math.ceil(issues / per_page)))
        if slices == 1:
            return [scope]
        ordered = sorted(in_scope)
        size = math.ceil(len(ordered) / slices)
        return [scope_jql(ordered[i : i + size], job.settings.portfolio.jql) for i in range(0, len(ordered), size)]

    # A quarter of the workers: the listing has the whole group phase to finish in, and fewer threads
    # decoding its 5,000-issue pages beside the groups' keep a full re-sync's peak RSS where it was.
    return _Listing(job.search, plan, max(1, concurrency // LISTING_SHARE))


def _watermark_writer(
    job: _Job, run: _Run, *, cursor: dict[str, Any] | None = None
) -> Callable[[list[_Fetched]], None]:
    """Stores a single, oldest-first stream of batches, moving the watermark with each group of them."""

    def write(group: list[_Fetched]) -> None:
        if cursor is not None:
            newest = _newest(group)
            if newest is not None:
                cursor["catchup"] = newest.isoformat()
            for fetched in group:
                # The catch-up re-reads what the groups stored a moment ago: not issues of their own.
                fetched.unchanged = 0
        _store_fetched(job, group, run, cursor=cursor, watermark=True)

    return write


def _config_error(exc: JiraHTTPError) -> JiraConfigError:
    return JiraConfigError(f"Jira rejected the portfolio's search ({exc}); check portfolio.projects and portfolio.jql")


def _pipeline(
    job: _Job,
    partitions: list[_Partition],
    run: _Run,
    store_batch: Callable[[list[_Fetched]], None],
    partition_done: Callable[[str], None] | None = None,
) -> None:
    """Workers read, complete and map the partitions' batches; this thread stores them one transaction
    at a time, in each partition's order. A failure anywhere stops every worker and is raised here.

    Batches that are already waiting when the writer comes back are stored together, up to
    ``WRITER_GROUP_ISSUES`` issues in one transaction: with several workers each batch is small (memory), and a
    commit, the child-row deletes and the bookkeeping per small batch cost more than its rows."""
    if not partitions:
        return
    out: queue.Queue[object] = queue.Queue(maxsize=max(2, min(len(partitions), job.settings.sync.concurrency)))
    stop = threading.Event()
    workers = min(len(partitions), job.settings.sync.concurrency)
    # Smaller batches per worker when several read at once: memory stays that of one batch in all, and
    # the writer gets work steadily instead of in bursts.
    batch_issues = max(1, BATCH_ISSUES // workers)

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work(part: _Partition) -> None:
        pages_read = 0
        try:
            pages = job.search.pages(part.scope, part.since)
            if len(partitions) == 1:
                pages = prefetch(pages)
            for batch in _batches(pages, batch_issues):
                if stop.is_set():
                    return
                pages_read += len(batch)
                if not offer(_prepare(job, part.name, batch)):
                    return
            offer(_Done(part.name))
        except JiraHTTPError as exc:
            config = exc.status_code == 400 and pages_read == 0 and run.pages == 0
            offer(_Failure(_config_error(exc) if config else exc))
        except BaseException as exc:  # handed to the writer thread, which re-raises it
            offer(_Failure(exc))

    pool = ThreadPoolExecutor(workers, thread_name_prefix="pmo-gates-sync")
    try:
        for part in partitions:
            pool.submit(work, part)
        remaining = len(partitions)
        group: list[_Fetched] = []
        issues = 0

        def flush() -> None:
            nonlocal group, issues
            if group:
                pending, group, issues = group, [], 0
                store_batch(pending)

        while remaining:
            if group:
                try:
                    item = out.get_nowait()
                except queue.Empty:  # nothing else waiting: store what is there now
                    flush()
                    continue
            else:
                item = out.get()
            if isinstance(item, _Failure):
                flush()  # what was read before the failure is kept: a re-run continues after it
                raise item.error
            if isinstance(item, _Done):
                flush()  # the partition's batches are stored before it is marked done
                remaining -= 1
                if partition_done is not None:
                    partition_done(item.partition)
                continue
            assert isinstance(item, _Fetched)
            group.append(item)
            issues += len(item.mapped)
            if issues >= min(WRITER_GROUP_ISSUES, BATCH_ISSUES):
                flush()
        flush()
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def _batches(pages: Iterable[list[dict[str, Any]]], size: int | None = None) -> Iterator[list[list[dict[str, Any]]]]:
    """Group search pages into batches of about ``size`` (``BATCH_ISSUES``) issues, one transaction each."""
    size = size or BATCH_ISSUES
    pending: list[list[dict[str, Any]]] = []
    count = 0
    for page in pages:
        pending.append(page)
        count += len(page)
        if count >= size:
            yield pending
            pending, count = [], 0
    if pending:
        yield pending


def _store_projects(
    client: JiraClient, store: Store, keys: set[str], run: _Run, *, executor: Executor | None = None
) -> set[str]:
    if not keys:
        return set()
    raws = fetch_projects(client, keys, executor=executor)
    rows = [project_row(raw, run.synced_at) for raw in raws if raw.get("key")]
    if rows:
        with store.session() as s:
            _drop_renamed_projects(s, rows)
            upsert(
                s,
                Project.__table__,
                rows,
                key=["key"],
                update=["jira_id", "name", "lead_account_id", "category", "synced_at"],
            )
    return {r["key"] for r in rows}


def _drop_renamed_projects(s: Any, rows: list[dict[str, Any]]) -> None:
    """A project whose key changed in Jira keeps its id: drop the row under the old key first."""
    for chunk in _chunks(rows):
        ids, keys = [r["jira_id"] for r in chunk], [r["key"] for r in chunk]
        s.execute(delete(Project).where(Project.jira_id.in_(ids), Project.key.not_in(keys)))


def _updated_of(raw: dict[str, Any]) -> datetime | None:
    value = (raw.get("fields") or {}).get("updated")
    try:
        return parse_jira_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _prepare(job: _Job, partition: str, pages: list[list[dict[str, Any]]]) -> _Fetched:
    """In a worker: skip what is already stored (incremental), fetch what the search truncated, map."""
    raw_issues = [i for page in pages for i in page if isinstance(i, dict)]
    seen = len(raw_issues)
    newest = max((u for u in map(_updated_of, raw_issues) if u is not None), default=None)
    if newest is not None:
        # An issue "updated" in 2099 must not stop later syncs seeing changes: nothing is newer than now.
        newest = min(newest, datetime.now(UTC))
    unchanged, unchanged_projects = 0, set()
    if job.drop_unchanged:
        raw_issues, unchanged, unchanged_projects = _drop_unchanged(job.store, raw_issues)

    settings = job.settings
    truncated = [i for i in raw_issues if changelog_truncated(i)]
    histories = fetch_changelogs(job.client, truncated, executor=job.aux) if truncated else {}
    worklogs: dict[str, list[dict[str, Any]]] = {}
    if settings.sync.sync_worklogs:
        paged = [i for i in raw_issues if worklogs_truncated(i)]
        keys = [str(i["key"]) for i in paged]
        for issue, logs in zip(paged, job.aux.map(lambda k: fetch_worklogs(job.client, k), keys), strict=True):
            worklogs[str(issue["id"])] = logs

    mapped: list[MappedIssue] = []
    checker = Checker(job.synced_at, job.context.statuses, today=settings.today)
    errors: list[DataError] = []
    for raw in raw_issues:
        issue_id = str(raw.get("id"))
        result = map_issue(
            raw,
            job.context.fields,
            anchor_issue_type=settings.portfolio.anchor_issue_type,
            synced_at=job.synced_at,
            histories=_dedupe_histories(histories[issue_id]) if issue_id in histories else None,
            worklogs=worklogs.get(issue_id) if settings.sync.sync_worklogs else [],
            checker=checker,
        )
        if isinstance(result, DataError):
            errors.append(result)
            continue
        errors.extend(result.errors)
        mapped.append(result)
    mapped, conflicts = drop_duplicates(mapped)
    errors.extend(conflicts)
    return _Fetched(partition, len(pages), seen, newest, mapped, errors, unchanged, unchanged_projects)


def _newest(group: list[_Fetched]) -> datetime | None:
    return max((f.newest for f in group if f.newest is not None), default=None)


def _merged(group: list[_Fetched]) -> list[MappedIssue]:
    """The issues of batches stored in one transaction, as storing them one batch after another would
    leave them: an issue read again by a later batch (edited meanwhile) is its later version, and a key
    that a later batch gives to another issue id belongs to that issue (the earlier holder is deleted)."""
    if len(group) == 1:
        return group[0].mapped
    by_id = {m.id: m for f in group for m in f.mapped}
    by_key = {m.issue["key"]: m for m in by_id.values()}  # exact: the store's key column is case-sensitive
    if len(by_key) == len(by_id):
        return list(by_id.values())
    kept = {id(m) for m in by_key.values()}
    return [m for m in by_id.values() if id(m) in kept]


def _store_fetched(
    job: _Job,
    group: list[_Fetched],
    run: _Run,
    *,
    cursor: dict[str, Any] | None = None,
    watermark: bool = False,
) -> None:
    """In the writer thread: batches and how far their streams got, in one transaction."""
    for fetched in group:
        run.pages += fetched.pages
        run.result.issues_seen += fetched.seen
        run.result.issues_unchanged += fetched.unchanged
        run.project_keys_seen |= fetched.unchanged_projects
        for item in fetched.errors:
            run.error(item)
    mapped, newest = _merged(group), _newest(group)
    with job.store.session() as s:
        for item in settle_anchors(s, mapped, job.settings.portfolio.anchor_issue_type):
            run.error(item)
        _write(s, mapped, sync_worklogs=job.settings.sync.sync_worklogs)
        row = s.get(SyncState, SCOPE)
        assert row is not None
        if watermark:
            current = _aware(row.watermark)
            if newest is not None and (current is None or newest > current):
                row.watermark = newest
        if cursor is not None:
            row.cursor = json.dumps(cursor, sort_keys=True)
    for m in mapped:
        run.project_keys_seen.add(m.issue["project_key"])
        run.result.changelog_items += len(m.changelog)
        run.result.worklogs += len(m.worklogs)
    run.result.issues_upserted += len(mapped)
    run.report("issues")


def _dedupe_histories(histories: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for history in histories:
        ident = str(history.get("id"))
        if ident not in seen:
            seen.add(ident)
            out.append(history)
    return out


def _drop_unchanged(store: Store, raw_issues: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, set[str]]:
    """Leave out issues whose stored copy is already this version (the overlap window's re-reads).
    Returns the rest, how many were left out and their projects."""
    ids = [int(i["id"]) for i in raw_issues if str(i.get("id", "")).isdigit()]
    stored: dict[int, datetime] = {}
    with store.session() as s:
        for chunk in _chunks(ids):
            for issue_id, updated in s.execute(select(Issue.id, Issue.updated).where(among(s, Issue.id, chunk))):
                stored[issue_id] = _aware(updated)  # type: ignore[assignment]
    kept = []
    unchanged = 0
    projects: set[str] = set()
    for raw in raw_issues:
        issue_id = int(raw["id"]) if str(raw.get("id", "")).isdigit() else None
        updated = _updated_of(raw)
        if issue_id is not None and updated is not None and stored.get(issue_id) == updated:
            unchanged += 1
            projects.add(str((raw.get("fields") or {}).get("project", {}).get("key") or ""))
            continue
        kept.append(raw)
    projects.discard("")
    return kept, unchanged, projects


def _write(s: Any, mapped: list[MappedIssue], *, sync_worklogs: bool) -> None:
    """One batch's rows, replacing the children of every issue in it."""
    if not mapped:
        return
    people: dict[str, dict[str, Any]] = {}
    for m in mapped:
        people.update(m.people)
    write_people(s, people)

    # The anchor issue carries the project's PMO metadata (the project row itself may not exist yet when
    # the portfolio is defined by JQL: then this creates it and /project/search completes it later).
    projects = {m.issue["project_key"]: m.project for m in mapped if m.project is not None}
    if projects:
        rows = list(projects.values())
        _drop_renamed_projects(s, rows)
        upsert(
            s,
            Project.__table__,
            rows,
            key=["key"],
            update=[c for c in rows[0] if c not in ("key", "lead_account_id", "category")],
        )

    ids = [m.id for m in mapped]
    keys = [m.issue["key"] for m in mapped]
    # A key that now belongs to another issue id: the stored holder moved or was deleted in Jira.
    for chunk in _chunks(keys):
        s.execute(delete(Issue).where(among(s, Issue.key, chunk), ~among(s, Issue.id, ids)))
    # Only issues stored before have children to replace: a first sync deletes nothing (on PostgreSQL,
    # deletes planned on a table still growing without statistics used to scan it whole).
    stored = [i for chunk in _chunks(ids) for i in s.scalars(select(Issue.id).where(among(s, Issue.id, chunk)))]
    upsert(s, Issue.__table__, [m.issue for m in mapped], key=["id"])
    for chunk in _chunks(stored):
        s.execute(delete(ChangelogItem).where(among(s, ChangelogItem.issue_id, chunk)))
        if sync_worklogs:
            s.execute(delete(Worklog).where(among(s, Worklog.issue_id, chunk)))
        s.execute(delete(IssueLink).where(among(s, IssueLink.issue_id, chunk)))

    for chunk in _chunks(keys):
        s.execute(delete(IssueLink).where(or_(among(s, IssueLink.from_key, chunk), among(s, IssueLink.to_key, chunk))))

    changelog = [row for m in mapped for row in m.changelog]
    if changelog:
        insert_many(s, ChangelogItem.__table__, changelog)
    if sync_worklogs:
        worklogs = {row["id"]: row for m in mapped for row in m.worklogs}
        upsert(s, Worklog.__table__, list(worklogs.values()), key=["id"])
    links = {row["id"]: row for m in mapped for row in m.links}
    upsert(s, IssueLink.__table__, list(links.values()), key=["id"])


def _reconcile(
    search: IssueSearch,
    store: Store,
    listing: Iterable[_Listed],
    projects: list[str],
    scope: str,
    has_jql: bool,
    run: _Run,
) -> None:
    """Delete stored issues Jira no longer has in scope, after a complete ``listing`` of their ids (taken
    after the issues were read: an issue created since is not in it, but its lookup below keeps it)."""
    listed: set[int] = set()
    listed_projects: set[str] = set()
    for part in listing:
        listed.update(part.ids)
        listed_projects |= part.projects
    configured = set(projects)
    with store.session() as s:
        candidates = [(i, p) for i, p in s.execute(select(Issue.id, Issue.project_key)) if i not in listed]
    # Issues of projects outside the portfolio are out of scope by definition; the others are looked up
    # once more, since a listing paged while issues are deleted can skip one that still exists.
    doomed = [i for i, p in candidates if configured and p not in configured]
    to_check = [i for i, p in candidates if not configured or p in configured]
    if to_check:
        still_there = search.existing(scope, to_check, projects=configured, check_jql=has_jql)
        doomed += [i for i in to_check if i not in still_there]
    keep_projects = configured | listed_projects
    with store.session() as s:
        for chunk in _chunks(doomed):
            s.execute(delete(Issue).where(among(s, Issue.id, chunk)))
        stale = [k for k in s.scalars(select(Project.key)) if k not in keep_projects]
        for chunk in _chunks(stale):
            s.execute(delete(Project).where(Project.key.in_(chunk)))
    run.result.issues_deleted += len(doomed)
    if doomed:
        log.info("deleted %d issues no longer in Jira's portfolio scope", len(doomed))
