"""Delay: how many days behind its plan a project is, as the one number every answer quotes.

Tickets, gate-review evidence, ``rca``, its comments and the reports all say how late a project is; they
read this fact, so they say the same number. It is the larger of two measures (each alone can miss a
delay): the forecast (or actual) end's slip past the planned end, and the progress lag, the days of
planned progress not achieved (days of plan elapsed x (1 - SPI)). Root-cause analysis applies its own
thresholds to the same two measures (``pmo_gates.rca.detect``) using the helpers below.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.builtin.evm import earned_values
from pmo_gates.rules.facts.builtin.progress import EMPTY, issue_counts
from pmo_gates.rules.facts.builtin.projects import project_records
from pmo_gates.rules.facts.builtin.schedule import schedules
from pmo_gates.rules.facts.context import FactContext


def planned_percent(start: date | None, end: date | None, today: date) -> float | None:
    """Percent of the work the plan expects done by today (linear between planned start and end)."""
    if start is None or end is None or end <= start:
        return None
    return 100.0 * min(1.0, max(0.0, (today - start).days / (end - start).days))


def progress_spi(
    spi: float | None, percent_complete: float | None, start: date | None, end: date | None, today: date
) -> float | None:
    """The EVM SPI; without one (no budget), percent complete by issues over the percent planned by today."""
    if spi is not None:
        return spi
    planned = planned_percent(start, end, today)
    return percent_complete / planned if planned and percent_complete is not None else None


def progress_lag_days(spi: float | None, start: date | None, end: date | None, today: date) -> float | None:
    """Days of planned progress not achieved: the days of plan elapsed times (1 - SPI)."""
    if spi is None or start is None or end is None:
        return None
    elapsed = min((today - start).days, (end - start).days)
    return max(0.0, elapsed * (1 - spi))


def delay_of(
    *,
    slip: float | None,
    spi: float | None,
    percent_complete: float | None,
    start: date | None,
    end: date | None,
    finished: bool,
    today: date,
) -> float | None:
    """The delay in whole days from the schedule facts (see the module docstring); None when it cannot be
    judged."""
    if end is None:
        return None
    if finished:
        return float(slip) if slip is not None else None
    if start is not None and today < start:
        return 0.0
    lag = progress_lag_days(progress_spi(spi, percent_complete, start, end, today), start, end, today)
    candidates = [float(v) for v in (slip, lag) if v is not None]
    # Whole days: every text quoting it ("46 days late") then shows exactly this value.
    return float(round(max(candidates))) if candidates else None


@registry.register(
    "delay_days",
    type=FactType.NUMBER,
    unit="days",
    description="Days behind plan: the larger of the forecast (or actual) end's slip and the progress lag "
    "(days of plan elapsed x (1 - SPI)); the figure tickets, comments, rca and reports quote.",
)
def delay_days(ctx: FactContext) -> dict[str, Any]:
    """Finished or closed projects: the actual end's slip. Not started (planned start ahead): 0. Without
    EVM, SPI is percent complete by issues over the percent planned by today. Null without a planned end,
    or when neither measure is known."""
    records = project_records(ctx)
    plans = schedules(ctx)
    values = earned_values(ctx)
    counts = issue_counts(ctx)
    out: dict[str, Any] = {}
    for key, record in records.items():
        schedule = plans.get(key)
        work = counts.get(key, EMPTY)
        earned = values.get(key)
        out[key] = delay_of(
            slip=schedule.slip_days if schedule else None,
            spi=earned.spi if earned else None,
            percent_complete=100.0 * work.done / work.total if work.total else None,
            start=record.planned_start,
            end=record.planned_end,
            finished=bool(schedule and schedule.actual_end is not None),
            today=ctx.today,
        )
    return out
