"""Flow: time in status, the bottleneck status, stale work and reopened work, from the status changelog.

One ordered scan streams every work issue with its status changes (issue by issue, oldest change
first) and folds them into per-project tallies; nothing is queried per issue or per project.

An issue's history is cut into segments: from its creation in the first change's *from* status, then
from each change to the next in its *to* status, and for an open issue from its last change to the end
of ``today`` in its current status. Time in a status is the sum of an issue's segments in it. Statuses
whose category is done are left out of time-in-status; a status's category is read from the issues
currently in it (done wins when workflows disagree; a status no issue is in now counts as not done).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import DONE, epoch_seconds, work_issue_criteria
from pmo_gates.store.models import ChangelogItem, Issue

SECONDS_PER_DAY = 86400.0
_STREAM_ROWS = 10_000


@dataclass(frozen=True)
class StatusTime:
    """Time a project's issues spent in one status: per-issue totals, in days."""

    status: str
    median_days: float
    max_days: float
    issues: int


@dataclass
class _Tally:
    days_in_status: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    ever_done: int = 0
    reopened: int = 0
    stale: int = 0
    max_current_days: float | None = None


@dataclass(frozen=True)
class Flow:
    statuses: dict[str, StatusTime]
    ever_done: int
    reopened: int
    stale: int
    max_current_days: float | None

    @property
    def bottleneck(self) -> StatusTime | None:
        if not self.statuses:
            return None
        # Compared at the facts' 6-decimal precision: SQLite's julianday and PostgreSQL's epoch differ in
        # the last bits, and an unrounded tie-break would then pick different statuses on the two stores.
        return max(
            self.statuses.values(),
            key=lambda s: (round(s.median_days, 6), round(s.max_days, 6), s.issues, s.status),
        )


def done_statuses(ctx: FactContext) -> set[str]:
    """Lower-cased names of the statuses in the done category."""
    rows = ctx.session.execute(select(Issue.status).where(Issue.status_category == DONE).distinct())
    return {name.lower() for (name,) in rows}


def _history(ctx: FactContext) -> Iterator[Any]:
    """Rows (issue id, project, created, status, category, change at, from, to), in issue order, with
    times in epoch seconds; an issue without status changes comes once with the change columns null."""
    stmt = (
        select(
            Issue.id,
            Issue.project_key,
            epoch_seconds(ctx, Issue.created),
            Issue.status,
            Issue.status_category,
            epoch_seconds(ctx, ChangelogItem.created),
            ChangelogItem.from_string,
            ChangelogItem.to_string,
        )
        .outerjoin(ChangelogItem, and_(ChangelogItem.issue_id == Issue.id, ChangelogItem.field == "status"))
        .where(*work_issue_criteria(ctx))
        .order_by(Issue.id, ChangelogItem.created, ChangelogItem.id)
        .execution_options(yield_per=_STREAM_ROWS)
    )
    # Core rows, not ORM ones: the scan is the hot loop of the whole computation.
    for rows in ctx.session.connection().execute(stmt).partitions():
        yield from rows


class _DoneStatus(dict[str | None, bool]):
    """Status name -> whether it is in the done category; names are lower-cased once, then looked up."""

    def __init__(self, done: set[str]) -> None:
        super().__init__()
        self._done = done

    def __missing__(self, name: str | None) -> bool:
        value = self[name] = bool(name) and name.lower() in self._done  # type: ignore[union-attr]
        return value


class _IssueWalk:
    """One issue's walk through its status changes, folded into its project's tally when closed."""

    __slots__ = ("category", "current", "done", "reopened", "spent", "start", "tally", "was_done")

    def __init__(self, tally: _Tally, created: float, current: str, category: str, done: _DoneStatus) -> None:
        self.tally, self.start, self.current, self.category, self.done = tally, created, current, category, done
        self.spent: dict[str, float] = {}
        self.was_done = category == DONE
        self.reopened = False

    def change(self, at: float, from_status: str | None, to_status: str | None) -> None:
        from_done, to_done = self.done[from_status], self.done[to_status]
        if from_status and not from_done:
            self.spent[from_status] = self.spent.get(from_status, 0.0) + at - self.start
        if to_done:
            self.was_done = True
        elif from_done:
            self.reopened = True
        self.start = at

    def close(self, as_of: float, stale_after: float) -> None:
        tally = self.tally
        if self.category != DONE:
            in_current = as_of - self.start if as_of > self.start else 0.0
            self.spent[self.current] = self.spent.get(self.current, 0.0) + in_current
            tally.stale += in_current > stale_after
            days = in_current / SECONDS_PER_DAY
            if tally.max_current_days is None or days > tally.max_current_days:
                tally.max_current_days = days
        for status, seconds in self.spent.items():
            tally.days_in_status[status].append(seconds / SECONDS_PER_DAY if seconds > 0 else 0.0)
        tally.ever_done += self.was_done
        tally.reopened += self.reopened


@shared
def flows(ctx: FactContext) -> dict[str, Flow]:
    done = _DoneStatus(done_statuses(ctx))
    as_of = ctx.as_of.timestamp()
    stale_after = ctx.params.stale_status_days * SECONDS_PER_DAY
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    walk: _IssueWalk | None = None
    walking = None
    for issue_id, project, created, current, category, changed_at, from_status, to_status in _history(ctx):
        if issue_id != walking:
            if walk is not None:
                walk.close(as_of, stale_after)
            walk, walking = _IssueWalk(tallies[project], float(created), current, category, done), issue_id
        if changed_at is not None:
            walk.change(float(changed_at), from_status, to_status)
    if walk is not None:
        walk.close(as_of, stale_after)
    return {project: _flow(tally) for project, tally in tallies.items()}


def _flow(tally: _Tally) -> Flow:
    statuses = {
        status: StatusTime(status, statistics.median(days), max(days), len(days))
        for status, days in tally.days_in_status.items()
    }
    return Flow(statuses, tally.ever_done, tally.reopened, tally.stale, tally.max_current_days)


def status_times(ctx: FactContext) -> dict[str, dict[str, StatusTime]]:
    """Per project, time in each not-done status (median and max per issue, in days): the table behind
    the bottleneck facts, for reports and root-cause analysis."""
    return {project: flow.statuses for project, flow in flows(ctx).items()}


def _bottlenecks(ctx: FactContext) -> dict[str, StatusTime]:
    return {key: flow.bottleneck for key, flow in flows(ctx).items() if flow.bottleneck is not None}


@registry.register(
    "bottleneck_status",
    type=FactType.STRING,
    description="The not-done status in which the project's issues spend the longest median time.",
)
def bottleneck_status(ctx: FactContext) -> dict[str, Any]:
    """Medians are over the issues that were ever in the status, of each issue's total time in it
    (ties: the larger maximum wins). Null for a project without work issues or whose issues are all done
    without time in a not-done status."""
    return {key: time.status for key, time in _bottlenecks(ctx).items()}


@registry.register(
    "bottleneck_days",
    type=FactType.NUMBER,
    unit="days",
    description="Median time per issue in the bottleneck status.",
)
def bottleneck_days(ctx: FactContext) -> dict[str, Any]:
    """Null when ``bottleneck_status`` is."""
    return {key: time.median_days for key, time in _bottlenecks(ctx).items()}


@registry.register(
    "bottleneck_max_days",
    type=FactType.NUMBER,
    unit="days",
    description="Longest time one issue spent in the bottleneck status.",
)
def bottleneck_max_days(ctx: FactContext) -> dict[str, Any]:
    """Null when ``bottleneck_status`` is."""
    return {key: time.max_days for key, time in _bottlenecks(ctx).items()}


@registry.register(
    "max_days_in_status",
    type=FactType.NUMBER,
    unit="days",
    description="Longest time any open work issue has been in its current status.",
)
def max_days_in_status(ctx: FactContext) -> dict[str, Any]:
    """Counted from the issue's last status change (or its creation) to the end of today. Null without
    open work issues."""
    return {key: flow.max_current_days for key, flow in flows(ctx).items()}


@registry.register(
    "stale_issues",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Open work issues whose status has not changed for more than stale_status_days days.",
)
def stale_issues(ctx: FactContext) -> dict[str, Any]:
    """Measured like ``max_days_in_status``; 0 without open work issues."""
    return {key: flow.stale for key, flow in flows(ctx).items()}


@registry.register(
    "reopened_issues",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Work issues that ever moved from a done-category status back to another status.",
)
def reopened_issues(ctx: FactContext) -> dict[str, Any]:
    """Each issue counts once however often it was reopened."""
    return {key: flow.reopened for key, flow in flows(ctx).items()}


@registry.register(
    "reopen_rate",
    type=FactType.NUMBER,
    unit="ratio",
    description="Reopened work issues as a share (0-1) of the work issues ever resolved.",
)
def reopen_rate(ctx: FactContext) -> dict[str, Any]:
    """Ever resolved: done now or moved into a done-category status at some point, so a reopened issue
    is in both counts and the rate stays within 0..1. Null when no work issue was ever resolved."""
    return {key: flow.reopened / flow.ever_done if flow.ever_done else None for key, flow in flows(ctx).items()}


__all__ = ["Flow", "StatusTime", "flows", "status_times"]
