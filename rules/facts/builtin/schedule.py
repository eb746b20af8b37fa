"""Schedule: when the remaining work will be done at the recent pace, and how late that is."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.builtin.progress import EMPTY, issue_counts
from pmo_gates.rules.facts.builtin.projects import project_records
from pmo_gates.rules.facts.context import FactContext, shared


@dataclass(frozen=True)
class Schedule:
    actual_end: date | None = None
    forecast_end: date | None = None
    slip_days: int | None = None


@shared
def schedules(ctx: FactContext) -> dict[str, Schedule]:
    counts = issue_counts(ctx)
    records = project_records(ctx)
    window = ctx.params.throughput_window_days
    out = {}
    for key, record in records.items():
        work = counts.get(key, EMPTY)
        actual_end = forecast_end = None
        if work.total and (record.closed or work.open == 0):
            actual_end = forecast_end = work.last_resolved_day
        elif work.total:
            remaining, per_day = work.open, work.resolved_in_window / window
            if ctx.params.forecast_basis == "points" and work.points_in_window > 0:
                remaining, per_day = work.points_open, work.points_in_window / window
            if per_day > 0:
                forecast_end = ctx.today + timedelta(days=math.ceil(remaining / per_day))
        slip = None
        if record.planned_end is not None:
            if forecast_end is not None:
                slip = (forecast_end - record.planned_end).days
            elif work.open and not record.closed and ctx.today > record.planned_end:
                # No pace to forecast from, but work remains past the planned end: at least this late.
                slip = (ctx.today - record.planned_end).days
        out[key] = Schedule(actual_end=actual_end, forecast_end=forecast_end, slip_days=slip)
    return out


@registry.register(
    "actual_end",
    type=FactType.DATE,
    description="When the work was finished: the last resolution, once the project is closed or all work is done.",
)
def actual_end(ctx: FactContext) -> dict[str, Any]:
    """Null while open work remains in a project that is not closed, and for a project without work
    issues."""
    return {key: schedule.actual_end for key, schedule in schedules(ctx).items()}


@registry.register(
    "forecast_end",
    type=FactType.DATE,
    description="Today plus the remaining work divided by the recent throughput (the actual end once finished).",
)
def forecast_end(ctx: FactContext) -> dict[str, Any]:
    """Remaining work is open work issues (or open story points with ``forecast_basis: points``, when
    points were resolved in the window); throughput is what was resolved per day over
    ``throughput_window_days``; the days are rounded up. Null when nothing was resolved in the window
    (no pace to forecast from) or the project has no work issues. For a closed project or one whose work
    is all done it is the actual end."""
    return {key: schedule.forecast_end for key, schedule in schedules(ctx).items()}


@registry.register(
    "schedule_slip_days",
    type=FactType.INTEGER,
    unit="days",
    description="Forecast (or actual) end minus planned end in days; positive means late.",
)
def schedule_slip_days(ctx: FactContext) -> dict[str, Any]:
    """Closed or finished projects use the actual end. When there is no forecast (no recent throughput)
    but open work remains after the planned end has passed, it is today minus the planned end: a lower
    bound on the slip. Null without a planned end, or without a forecast before the planned end."""
    return {key: schedule.slip_days for key, schedule in schedules(ctx).items()}
