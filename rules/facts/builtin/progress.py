"""Progress of the work issues: counts, percent complete, throughput, unassigned work, defect share.

All of them come from one GROUP BY over the work issues (see ``pmo_gates.rules.facts.queries``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import DONE, count_where, is_open, ratio, sum_where, utc, work_issue_criteria
from pmo_gates.store.models import Issue


@dataclass(frozen=True)
class IssueCounts:
    total: int = 0
    open: int = 0
    unassigned_open: int = 0
    defects: int = 0
    points_total: float = 0.0
    points_done: float = 0.0
    resolved_in_window: int = 0
    points_in_window: float = 0.0
    last_resolved: datetime | None = None

    @property
    def done(self) -> int:
        return self.total - self.open

    @property
    def points_open(self) -> float:
        return self.points_total - self.points_done

    @property
    def last_resolved_day(self) -> date | None:
        return self.last_resolved.date() if self.last_resolved else None


EMPTY = IssueCounts()


@shared
def issue_counts(ctx: FactContext) -> dict[str, IssueCounts]:
    """Per project; projects without work issues are absent (read them as :data:`EMPTY`)."""
    done = Issue.status_category == DONE
    # Workflows without a resolution leave ``resolved`` empty; the last update stands in for it.
    finished = func.coalesce(Issue.resolved, Issue.updated)
    since = ctx.as_of - timedelta(days=ctx.params.throughput_window_days)
    in_window = [done, finished >= since, finished < ctx.as_of]
    points = func.coalesce(Issue.story_points, 0.0)
    rows = ctx.session.execute(
        select(
            Issue.project_key,
            func.count(),
            count_where(is_open()),
            count_where(is_open(), Issue.assignee_id.is_(None)),
            count_where(Issue.issue_type.in_(ctx.params.defect_issue_types)),
            func.coalesce(func.sum(points), 0.0),
            sum_where(points, done),
            count_where(*in_window),
            sum_where(points, *in_window),
            func.max(finished).filter(done),
        )
        .where(*work_issue_criteria(ctx))
        .group_by(Issue.project_key)
    )
    return {
        row[0]: IssueCounts(
            total=int(row[1]),
            open=int(row[2]),
            unassigned_open=int(row[3]),
            defects=int(row[4]),
            points_total=float(row[5]),
            points_done=float(row[6]),
            resolved_in_window=int(row[7]),
            points_in_window=float(row[8]),
            last_resolved=utc(row[9]),
        )
        for row in rows
    }


def _each(ctx: FactContext) -> dict[str, IssueCounts]:
    """Counts for every project in scope, empty ones included."""
    counts = issue_counts(ctx)
    return {key: counts.get(key, EMPTY) for key in ctx.projects}


@registry.register(
    "total_issues",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Work issues of the project, open and done.",
)
def total_issues(ctx: FactContext) -> dict[str, Any]:
    """Work issues exclude the anchor issue, risk-register entries and pmo-gates' own corrective-action
    tickets; 0 for a project without issues."""
    return {key: counts.total for key, counts in _each(ctx).items()}


@registry.register(
    "open_issues",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Work issues not in a done-category status.",
)
def open_issues(ctx: FactContext) -> dict[str, Any]:
    """0 for a project without issues."""
    return {key: counts.open for key, counts in _each(ctx).items()}


@registry.register(
    "unassigned_open_issues",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Open work issues with no assignee.",
)
def unassigned_open_issues(ctx: FactContext) -> dict[str, Any]:
    """0 for a project without open issues."""
    return {key: counts.unassigned_open for key, counts in _each(ctx).items()}


@registry.register(
    "percent_complete_issues",
    type=FactType.NUMBER,
    unit="%",
    description="Done work issues as a percentage (0-100) of all work issues.",
)
def percent_complete_issues(ctx: FactContext) -> dict[str, Any]:
    """Null for a project without work issues (nothing to complete)."""
    return {key: _pct(counts.done, counts.total) for key, counts in _each(ctx).items()}


@registry.register(
    "percent_complete_points",
    type=FactType.NUMBER,
    unit="%",
    description="Story points of done work issues as a percentage (0-100) of all story points.",
)
def percent_complete_points(ctx: FactContext) -> dict[str, Any]:
    """Issues without an estimate count as 0 points; null when the project has no story points at all."""
    return {key: _pct(counts.points_done, counts.points_total) for key, counts in _each(ctx).items()}


@registry.register(
    "throughput_per_day",
    type=FactType.NUMBER,
    unit="issues/day",
    description="Work issues resolved per day over the throughput window ending today.",
)
def throughput_per_day(ctx: FactContext) -> dict[str, Any]:
    """Resolved issues (done category, resolution date or else last update inside the window) divided by
    ``throughput_window_days``; 0 when nothing was resolved, null for a project without work issues."""
    window = ctx.params.throughput_window_days
    return {key: counts.resolved_in_window / window if counts.total else None for key, counts in _each(ctx).items()}


@registry.register(
    "defect_share",
    type=FactType.NUMBER,
    unit="ratio",
    description="Defects (issue types in defect_issue_types, default Bug) as a share (0-1) of all work issues.",
)
def defect_share(ctx: FactContext) -> dict[str, Any]:
    """Null for a project without work issues."""
    return {key: ratio(counts.defects, counts.total) for key, counts in _each(ctx).items()}


def _pct(part: float, whole: float) -> float | None:
    share = ratio(part, whole)
    return None if share is None else 100.0 * share
