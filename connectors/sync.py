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
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field
from sqlalchemy import delete, or_, select

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
from pmo_gates.connectors.plausibility import Checker
from pmo_gates.connectors.prefetch import prefetch
from pmo_gates.connectors.projects import fetch_projects, project_row
from pmo_gates.connectors.redact import Redactor
from pmo_gates.connectors.search import IssueSearch, fetch_changelogs, fetch_worklogs, scope_jql
from pmo_gates.store import Store, upsert
from pmo_gates.store.models import (
    ChangelogItem,
    Issue,
    IssueLink,
    Person,
    Project,
    SyncRun,
    SyncState,
    Worklog,
)

log = logging.getLogger(__name__)

SCOPE = "portfolio"
BATCH_ISSUES = 1000  # issues per transaction: bulkfetch takes 1000 issues, so one batch = one changelog call
MAX_REPORTED_ERRORS = 1000
_ID_CHUNK = 900  # ids per IN (...) clause


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
    """serverInfo (when auto-detecting, done by build_client), /myself and /field."""
    myself = client.get("/myself")
    timezone = str(myself.get("timeZone") or "UTC")
    warnings: list[str] = []
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        warnings.append(f"Jira reports an unknown time zone {timezone!r} for the sync user; using UTC")
        timezone = "UTC"
    fields = resolve_fields(client.jira.fields(), settings.fields)
    fields.warnings[:0] = warnings
    statuses = _statuses(client, fields.warnings)
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
        client = build_client(connection, flavour=cached_flavour, stats=stats, sleep=sleep)
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
    portfolio = settings.portfolio
    with store.session() as s:
        known_projects = set(s.scalars(select(Project.key)))
    full = run.result.mode == "full"

    run.report("projects")
    configured = set(portfolio.projects)
    wanted = configured if full else configured - known_projects
    found = _store_projects(client, store, wanted, run)
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

    # Where to start: an interrupted full sync resumes; an incremental one re-reads the overlap window.
    overlap = timedelta(minutes=settings.sync.overlap_minutes)
    since: datetime | None = None
    resume = state.cursor if full and state.cursor and state.cursor.get("mode") == "full" else None
    if resume and resume.get("position"):
        since = parse_jira_datetime(resume["position"]) - overlap
    elif not full and state.watermark is not None:
        since = state.watermark - overlap
    full_started = resume.get("started") if resume else run.synced_at.isoformat()

    field_ids = context.fields
    custom = [field_ids.get(n) for n in ("story_points", "sprint", "epic_link", *PROJECT_FIELDS)]
    fields = [f for f in SYSTEM_FIELDS if settings.sync.sync_worklogs or f != "worklog"]
    fields += [f for f in custom if f]
    search = IssueSearch(client, fields=fields, page_size=page_size, tz=context.zone(), expand="changelog")
    if run.progress is not None:  # one extra request, only for someone watching a progress bar
        run.expected = search.count(scope, since)
    run.report("issues")
    try:
        for batch in _batches(prefetch(search.pages(scope, since))):
            _store_batch(client, store, settings, context, batch, run, full=full, full_started=full_started)
    except JiraHTTPError as exc:
        if exc.status_code == 400 and run.pages == 0:
            raise JiraConfigError(
                f"Jira rejected the portfolio's search ({exc}); check portfolio.projects and portfolio.jql"
            ) from None
        raise

    new_keys = run.project_keys_seen - known_projects - found
    found |= _store_projects(client, store, new_keys, run) if new_keys else set()
    if full:
        run.report("reconcile")
        _reconcile(search, store, scope, in_scope, bool(portfolio.jql), run)
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
    with store.session() as s:
        run.result.projects = len(set(s.scalars(select(Project.key))))
        row = s.get(SyncState, SCOPE)
        assert row is not None
        if full:
            row.last_full_sync = run.synced_at
        row.cursor = None


def _batches(pages: Iterable[list[dict[str, Any]]]) -> Iterator[list[list[dict[str, Any]]]]:
    """Group search pages into batches of about ``BATCH_ISSUES`` issues (one transaction each)."""
    pending: list[list[dict[str, Any]]] = []
    count = 0
    for page in pages:
        pending.append(page)
        count += len(page)
        if count >= BATCH_ISSUES:
            yield pending
            pending, count = [], 0
    if pending:
        yield pending


def _store_projects(client: JiraClient, store: Store, keys: set[str], run: _Run) -> set[str]:
    if not keys:
        return set()
    rows = [project_row(raw, run.synced_at) for raw in fetch_projects(client, keys) if raw.get("key")]
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


def _store_batch(
    client: JiraClient,
    store: Store,
    settings: Settings,
    context: SiteContext,
    pages: list[list[dict[str, Any]]],
    run: _Run,
    *,
    full: bool,
    full_started: str,
) -> None:
    raw_issues = [i for page in pages for i in page if isinstance(i, dict)]
    run.pages += len(pages)
    run.result.issues_seen += len(raw_issues)
    newest = max((u for u in map(_updated_of, raw_issues) if u is not None), default=None)
    if newest is not None:
        newest = min(newest, run.synced_at)  # an issue "updated" in 2099 must not stop later syncs seeing changes

    if not full:
        raw_issues = _drop_unchanged(store, raw_issues, run)

    truncated = [i for i in raw_issues if changelog_truncated(i)]
    histories = fetch_changelogs(client, truncated) if truncated else {}
    worklogs: dict[str, list[dict[str, Any]]] = {}
    if settings.sync.sync_worklogs:
        for issue in raw_issues:
            if worklogs_truncated(issue):
                worklogs[str(issue["id"])] = fetch_worklogs(client, str(issue["key"]))

    mapped: list[MappedIssue] = []
    checker = Checker(run.synced_at, context.statuses, today=settings.today)
    for raw in raw_issues:
        issue_id = str(raw.get("id"))
        result = map_issue(
            raw,
            context.fields,
            anchor_issue_type=settings.portfolio.anchor_issue_type,
            synced_at=run.synced_at,
            histories=_dedupe_histories(histories[issue_id]) if issue_id in histories else None,
            worklogs=worklogs.get(issue_id) if settings.sync.sync_worklogs else [],
            checker=checker,
        )
        if isinstance(result, DataError):
            run.error(result)
            continue
        for item in result.errors:
            run.error(item)
        mapped.append(result)
    mapped, conflicts = drop_duplicates(mapped)

    with store.session() as s:
        conflicts += settle_anchors(s, mapped, settings.portfolio.anchor_issue_type)
        _write(s, mapped, sync_worklogs=settings.sync.sync_worklogs)
        row = s.get(SyncState, SCOPE)
        assert row is not None
        current = _aware(row.watermark)
        if newest is not None and (current is None or newest > current):
            row.watermark = newest
        if full and newest is not None:
            row.cursor = json.dumps(
                {"mode": "full", "started": full_started, "position": newest.isoformat()}, sort_keys=True
            )
    for item in conflicts:
        run.error(item)
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


def _drop_unchanged(store: Store, raw_issues: list[dict[str, Any]], run: _Run) -> list[dict[str, Any]]:
    """Leave out issues whose stored copy is already this version (the overlap window's re-reads)."""
    ids = [int(i["id"]) for i in raw_issues if str(i.get("id", "")).isdigit()]
    stored: dict[int, datetime] = {}
    with store.session() as s:
        for chunk in _chunks(ids):
            for issue_id, updated in s.execute(select(Issue.id, Issue.updated).where(Issue.id.in_(chunk))):
                stored[issue_id] = _aware(updated)  # type: ignore[assignment]
    kept = []
    for raw in raw_issues:
        issue_id = int(raw["id"]) if str(raw.get("id", "")).isdigit() else None
        updated = _updated_of(raw)
        if issue_id is not None and updated is not None and stored.get(issue_id) == updated:
            run.result.issues_unchanged += 1
            run.project_keys_seen.add(str((raw.get("fields") or {}).get("project", {}).get("key") or ""))
            continue
        kept.append(raw)
    run.project_keys_seen.discard("")
    return kept


def _write(s: Any, mapped: list[MappedIssue], *, sync_worklogs: bool) -> None:
    """One batch's rows, replacing the children of every issue in it."""
    if not mapped:
        return
    people: dict[str, dict[str, Any]] = {}
    for m in mapped:
        people.update(m.people)
    upsert(s, Person.__table__, list(people.values()), key=["account_id"])

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
        s.execute(delete(Issue).where(Issue.key.in_(chunk), Issue.id.not_in(ids)))
    upsert(s, Issue.__table__, [m.issue for m in mapped], key=["id"])

    for chunk in _chunks(ids):
        s.execute(delete(ChangelogItem).where(ChangelogItem.issue_id.in_(chunk)))
        if sync_worklogs:
            s.execute(delete(Worklog).where(Worklog.issue_id.in_(chunk)))
        s.execute(delete(IssueLink).where(IssueLink.issue_id.in_(chunk)))
    for chunk in _chunks(keys):
        s.execute(delete(IssueLink).where(or_(IssueLink.from_key.in_(chunk), IssueLink.to_key.in_(chunk))))

    changelog = [row for m in mapped for row in m.changelog]
    if changelog:
        s.execute(ChangelogItem.__table__.insert(), changelog)
    if sync_worklogs:
        worklogs = {row["id"]: row for m in mapped for row in m.worklogs}
        upsert(s, Worklog.__table__, list(worklogs.values()), key=["id"])
    links = {row["id"]: row for m in mapped for row in m.links}
    upsert(s, IssueLink.__table__, list(links.values()), key=["id"])


def _reconcile(search: IssueSearch, store: Store, scope: str, projects: list[str], has_jql: bool, run: _Run) -> None:
    """Delete stored issues Jira no longer has in scope, after a complete listing of ids."""
    listed: set[int] = set()
    listed_projects: set[str] = set()
    for page in search.ids(scope):
        for issue_id, key in page:
            listed.add(issue_id)
            if "-" in key:
                listed_projects.add(key.rsplit("-", 1)[0])
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
            s.execute(delete(Issue).where(Issue.id.in_(chunk)))
        stale = [k for k in s.scalars(select(Project.key)) if k not in keep_projects]
        for chunk in _chunks(stale):
            s.execute(delete(Project).where(Project.key.in_(chunk)))
    run.result.issues_deleted += len(doomed)
    if doomed:
        log.info("deleted %d issues no longer in Jira's portfolio scope", len(doomed))
