"""One streamed pass over the store: every project with its issues, status transitions and inbound blockers.

Root-cause evidence needs issue keys, people and statuses, not just the aggregate facts, so the analysis
reads the synced rows itself -- in bulk: a handful of queries over the whole portfolio, each sorted by
project key and merged here project by project. Memory holds one project's rows at a time plus a few
portfolio-wide aggregates (people's open load, status categories); never a query per project or issue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, and_, case, cast, func, select
from sqlalchemy.orm import aliased

from pmo_gates.store import Store
from pmo_gates.store.models import ActionTicket, ChangelogItem, Issue, IssueLink, Person, Project

_STREAM_ROWS = 5000


@dataclass(slots=True)
class IssueRow:
    id: int
    key: str
    issue_type: str
    status: str
    status_category: str
    assignee_id: str | None
    created: float  # days since the epoch (UTC), so intervals are plain subtraction
    resolved: float | None
    due_date: date | None
    original_estimate_s: int | None
    time_spent_s: int | None


@dataclass(slots=True)
class StatusChange:
    issue_id: int
    at: float
    from_status: str | None
    to_status: str | None


@dataclass(slots=True)
class BlockerLink:
    blocked_key: str
    blocker_key: str
    blocker_project: str | None  # None: the blocker is not in the store (outside the portfolio)
    blocker_status: str | None
    blocker_category: str | None


@dataclass(slots=True)
class ProjectRows:
    """Everything the analysis reads about one project."""

    project: dict[str, Any]
    issues: list[IssueRow] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)  # sorted by issue, then time
    blockers: list[BlockerLink] = field(default_factory=list)


@dataclass(frozen=True)
class PersonLoad:
    """A person's open work over the whole portfolio."""

    account_id: str
    name: str
    open_items: int
    in_progress: int
    projects: tuple[str, ...]


@dataclass(frozen=True)
class PortfolioContext:
    """Portfolio-wide aggregates every project's analysis may consult."""

    status_categories: dict[str, str]
    people: dict[str, PersonLoad]
    names: dict[str, str]


def epoch_days(column: Any, dialect: str) -> ColumnElement[float]:
    """A timestamp column as days since 1970-01-01 UTC, computed by the database (it is in every row
    of the scan, and converting datetimes in Python dominated its time)."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", column) / 86400, Float)  # extract() is numeric: make it a float
    # SQLite keeps UTC timestamps as text; julianday() of the Unix epoch is 2440587.5.
    return func.julianday(column) - 2440587.5


def date_days(value: date) -> float:
    """Days since the epoch of the start of ``value`` (UTC)."""
    return float(value.toordinal() - date(1970, 1, 1).toordinal())


def work_issue_filter(issue: Any, ignore_issue_types: Sequence[str]) -> ColumnElement[bool]:
    """Work items: not of an ignored type, not a project's anchor issue, not one of our own tickets.

    The same definition as the facts' work issues, so percentages and counts agree with the rules."""
    anchors = select(Project.anchor_issue_key).where(Project.anchor_issue_key.is_not(None))
    tickets = select(ActionTicket.ticket_key).where(ActionTicket.ticket_key.is_not(None))
    return and_(issue.issue_type.not_in(list(ignore_issue_types)), issue.key.not_in(anchors), issue.key.not_in(tickets))


def _ordered(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    # The merge below compares keys in Python (code-point order): PostgreSQL must sort the same way,
    # not by the database's locale collation.
    return column.collate("C") if dialect == "postgresql" else column


def _stream(stack: ExitStack, store: Store, statement: Select[Any]) -> Iterator[Any]:
    """The rows of ``statement`` fetched in batches, on a connection ``stack`` closes."""
    conn = stack.enter_context(store.engine.connect())
    return iter(conn.execution_options(stream_results=True, yield_per=_STREAM_ROWS).execute(statement))


def _grouped(rows: Iterable[Any]) -> Iterator[tuple[str, list[Any]]]:
    """Consecutive rows with the same first column, as (that value, rows)."""
    current: str | None = None
    bucket: list[Any] = []
    for row in rows:
        if row[0] != current:
            if bucket:
                yield current, bucket  # type: ignore[misc]
            current, bucket = row[0], []
        bucket.append(row)
    if bucket:
        yield current, bucket  # type: ignore[misc]


class _Cursor:
    """A grouped stream that can be asked for the rows of project ``key`` as keys ascend."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self._groups = _grouped(rows)
        self._head: tuple[str, list[Any]] | None = next(self._groups, None)

    def take(self, key: str) -> list[Any]:
        # Rows of projects missing from the projects table (orphans) are skipped, not mis-assigned.
        while self._head is not None and self._head[0] < key:
            self._head = next(self._groups, None)
        if self._head is not None and self._head[0] == key:
            rows = self._head[1]
            self._head = next(self._groups, None)
            return rows
        return []


PROJECT_COLUMNS = (
    "key",
    "name",
    "phase",
    "planned_start",
    "planned_end",
    "baseline_date",
    "budget",
    "actual_cost",
    "project_manager_id",
    "project_manager_name",
    "lead_account_id",
    "anchor_issue_key",
    "strategic_value",
    "expected_roi",
)


def scan_projects(
    store: Store, *, ignore_issue_types: Sequence[str], blocking_link_types: Sequence[str]
) -> Iterator[ProjectRows]:
    """Every project (key order) with its work issues, status changes and inbound blocking links."""
    dialect = store.dialect
    is_work = work_issue_filter(Issue, ignore_issue_types)
    projects = select(*(getattr(Project, c) for c in PROJECT_COLUMNS)).order_by(_ordered(Project.key, dialect))
    issues = (
        select(
            Issue.project_key,
            Issue.id,
            Issue.key,
            Issue.issue_type,
            Issue.status,
            Issue.status_category,
            Issue.assignee_id,
            epoch_days(Issue.created, dialect),
            epoch_days(Issue.resolved, dialect),
            Issue.due_date,
            Issue.original_estimate_s,
            Issue.time_spent_s,
        )
        .where(is_work)
        .order_by(_ordered(Issue.project_key, dialect), Issue.id)
    )
    changes = (
        select(
            Issue.project_key,
            ChangelogItem.issue_id,
            epoch_days(ChangelogItem.created, dialect),
            ChangelogItem.from_string,
            ChangelogItem.to_string,
        )
        .join(Issue, Issue.id == ChangelogItem.issue_id)
        .where(ChangelogItem.field == "status", is_work)
        .order_by(
            _ordered(Issue.project_key, dialect),
            ChangelogItem.issue_id,
            ChangelogItem.created,
            ChangelogItem.history_id,
            ChangelogItem.item_index,
        )
    )
    blocked = aliased(Issue)
    blocker = aliased(Issue)
    links = (
        select(
            blocked.project_key,
            IssueLink.to_key,
            IssueLink.from_key,
            blocker.project_key,
            blocker.status,
            blocker.status_category,
        )
        .join(blocked, blocked.key == IssueLink.to_key)
        .outerjoin(blocker, blocker.key == IssueLink.from_key)
        .where(func.lower(IssueLink.link_type).in_([t.lower() for t in blocking_link_types]))
        .order_by(_ordered(blocked.project_key, dialect), IssueLink.to_key, IssueLink.from_key)
    )
    with ExitStack() as stack:
        issue_cursor = _Cursor(_stream(stack, store, issues))
        change_cursor = _Cursor(_stream(stack, store, changes))
        link_cursor = _Cursor(_stream(stack, store, links))
        for row in _stream(stack, store, projects):
            yield _project_rows(row, issue_cursor.take(row[0]), change_cursor.take(row[0]), link_cursor.take(row[0]))


def _project_rows(row: Any, issues: list[Any], changes: list[Any], links: list[Any]) -> ProjectRows:
    return ProjectRows(
        project=dict(zip(PROJECT_COLUMNS, row, strict=True)),
        issues=[
            IssueRow(
                id=r[1],
                key=r[2],
                issue_type=r[3],
                status=r[4],
                status_category=r[5],
                assignee_id=r[6],
                created=r[7],
                resolved=r[8],
                due_date=r[9],
                original_estimate_s=r[10],
                time_spent_s=r[11],
            )
            for r in issues
        ],
        changes=[StatusChange(issue_id=r[1], at=r[2], from_status=r[3], to_status=r[4]) for r in changes],
        blockers=[
            BlockerLink(
                blocked_key=r[1],
                blocker_key=r[2],
                blocker_project=r[3],
                blocker_status=r[4],
                blocker_category=r[5],
            )
            for r in links
        ],
    )


def portfolio_context(store: Store, *, ignore_issue_types: Sequence[str]) -> PortfolioContext:
    """Status categories and every assignee's open load across the portfolio (two GROUP BY queries)."""
    open_work = and_(Issue.status_category != "done", work_issue_filter(Issue, ignore_issue_types))
    with store.session() as session:
        categories = {
            status: category
            for status, category in session.execute(select(Issue.status, Issue.status_category).distinct())
        }
        names = {pid: name or pid for pid, name in session.execute(select(Person.account_id, Person.display_name))}
        load_rows = session.execute(
            select(
                Issue.assignee_id,
                Issue.project_key,
                func.count(),
                func.sum(case((Issue.status_category == "indeterminate", 1), else_=0)),
            )
            .where(open_work, Issue.assignee_id.is_not(None))
            .group_by(Issue.assignee_id, Issue.project_key)
        ).all()
    per_person: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for person, project, count, in_progress in load_rows:
        per_person[person].append((project, int(count), int(in_progress or 0)))
    people = {
        person: PersonLoad(
            account_id=person,
            name=names.get(person, person),
            open_items=sum(c for _, c, _ in rows),
            in_progress=sum(w for _, _, w in rows),
            projects=tuple(sorted(p for p, _, _ in rows)),
        )
        for person, rows in per_person.items()
    }
    return PortfolioContext(status_categories=categories, people=people, names=names)
