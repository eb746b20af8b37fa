"""Scope against the phase baseline: what existed at the baseline, what was added after it.

The baseline day is the mapped ``baseline_date``, else inferred from the data (the day the project entered
its current phase, else the end of the initial backlog build-up; see
:mod:`pmo_gates.rules.facts.scope_baseline`). Earned value (``evm``) is measured against the same split.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.builtin.projects import project_records
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import DONE, count_where, day_of, ratio, sum_where, work_issue_criteria
from pmo_gates.rules.facts.scope_baseline import ScopeBaseline, infer_baseline
from pmo_gates.store.models import Issue


@dataclass(frozen=True)
class ScopeSplit:
    """One project's work on either side of its scope baseline."""

    baseline: ScopeBaseline
    baseline_items: int = 0
    baseline_done: int = 0
    baseline_points: float = 0.0
    baseline_points_done: float = 0.0
    added_items: int = 0
    added_done: int = 0
    added_points: float = 0.0
    added_points_done: float = 0.0

    @property
    def baseline_share_done(self) -> float | None:
        """Share of the baseline scope completed: by story points when the baseline has any, else by items."""
        if self.baseline_points > 0:
            return self.baseline_points_done / self.baseline_points
        return ratio(self.baseline_done, self.baseline_items)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@shared
def scope_splits(ctx: FactContext) -> dict[str, ScopeSplit]:
    """Per project in scope: its baseline (mapped or inferred) and its work issues on either side of it.

    One GROUP BY (project, creation day); the creation curve without defects is what the backlog build-up
    is read from, since bugs found later are not planned scope."""
    created = day_of(ctx, Issue.created)
    done = Issue.status_category == DONE
    points = func.coalesce(Issue.story_points, 0.0)
    defect = Issue.issue_type.in_(ctx.params.defect_issue_types)
    rows = ctx.session.execute(
        select(
            Issue.project_key,
            created,
            count_where(~defect),
            func.count(),
            count_where(done),
            func.coalesce(func.sum(points), 0.0),
            sum_where(points, done),
        )
        .where(*work_issue_criteria(ctx))
        .group_by(Issue.project_key, created)
    )
    per_day: dict[str, list[tuple[date, int, int, int, float, float]]] = defaultdict(list)
    for key, day, planned, count, n_done, pts, pts_done in rows:
        if day is not None:
            per_day[key].append((_day(day), int(planned), int(count), int(n_done), float(pts), float(pts_done)))
    out = {}
    for key, record in project_records(ctx).items():
        days = per_day.get(key, [])
        baseline = infer_baseline(
            mapped=record.baseline_date,
            phase_entered=record.phase_changed.date() if record.phase_changed else None,
            created=[(d, planned) for d, planned, *_ in days],
            today=ctx.today,
        )
        totals = [0, 0, 0.0, 0.0, 0, 0, 0.0, 0.0]
        for day, _, count, n_done, pts, pts_done in days:
            side = 0 if baseline.day is None or day <= baseline.day else 4
            totals[side] += count
            totals[side + 1] += n_done
            totals[side + 2] += pts
            totals[side + 3] += pts_done
        out[key] = ScopeSplit(baseline, *totals)  # type: ignore[arg-type]
    return out


@registry.register(
    "scope_baseline_date",
    type=FactType.DATE,
    description="The scope baseline: the baseline date if mapped, else inferred (phase entry, backlog build-up).",
)
def scope_baseline_date(ctx: FactContext) -> dict[str, Any]:
    """Null when no baseline can be told from the data (see ``scope_baseline_source``)."""
    return {key: split.baseline.day for key, split in scope_splits(ctx).items()}


@registry.register(
    "scope_baseline_source",
    type=FactType.STRING,
    description="Where the scope baseline comes from: mapped, phase_change, backlog_knee or none.",
)
def scope_baseline_source(ctx: FactContext) -> dict[str, Any]:
    """``mapped``: the Phase Baseline Date field; ``phase_change``: the last change of the phase field on the
    anchor's changelog; ``backlog_knee``: the end of the initial burst of work-item creation; ``none``: no
    baseline can be inferred (no work, or work created at a steady rate)."""
    return {key: split.baseline.source for key, split in scope_splits(ctx).items()}


@registry.register(
    "issues_added_since_baseline",
    type=FactType.INTEGER,
    unit="issues",
    description="Work issues created after the scope baseline (mapped, else inferred).",
)
def issues_added_since_baseline(ctx: FactContext) -> dict[str, Any]:
    """Days are UTC calendar days; an issue created on the baseline day is part of the baseline. Null
    when no baseline is known."""
    return {key: s.added_items for key, s in scope_splits(ctx).items() if s.baseline.day is not None}


@registry.register(
    "scope_growth_pct",
    type=FactType.NUMBER,
    unit="%",
    description="Work issues created after the scope baseline per 100 work issues that existed at it.",
)
def scope_growth_pct(ctx: FactContext) -> dict[str, Any]:
    """Issues deleted since the baseline are not known and do not count. Null without a baseline or
    when no work issue existed at the baseline (nothing to grow from)."""
    out = {}
    for key, split in scope_splits(ctx).items():
        if split.baseline.day is None:
            continue
        share = ratio(split.added_items, split.baseline_items)
        out[key] = None if share is None else 100.0 * share
    return out
