"""Delay detection: is a project behind its plan by more than the playbook tolerates, and by how much?

It reads the same facts the PMO's schedule rules read (so a project the rules call late is the project
the analysis explains), and applies two independent signals, each with its threshold in the playbook's
``detection`` section:

- **forecast slip** (fact ``schedule_slip_days``): the forecast end (today + remaining work / recent
  throughput) minus the planned end. A closed or finished project is judged on its actual end instead.
- **progress lag**: SPI below ``spi_below`` (the EVM fact ``spi``; without a budget, percent complete by
  issues over the percent planned by today), lagging by more than ``min_lag_days``: the days of plan
  elapsed times (1 - SPI).

A project is delayed when either signal crosses its threshold. ``slip_days`` is the fact ``delay_days``
(the larger of the two day figures, computed with the same helpers), so the analysis, its comments and
tickets, the rules' tickets and the reports all quote one number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.rules.facts.builtin.delay import delay_of, planned_percent, progress_lag_days, progress_spi

# What detection reads from the facts (see docs/facts.md for their definitions).
DETECTION_FACTS = (
    "planned_start",
    "planned_end",
    "forecast_end",
    "actual_end",
    "schedule_slip_days",
    "delay_days",
    "spi",
    "percent_complete_issues",
    "throughput_per_day",
)


class DetectionThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slip_days: float = Field(14, ge=0, description="Delayed when the forecast (or actual) end is this late.")
    spi_below: float = Field(0.85, gt=0, le=1, description="Delayed when SPI falls below this ...")
    min_lag_days: float = Field(14, ge=0, description="... and progress lags the plan by more than these days.")


class ScheduleStatus(BaseModel):
    """Where a project stands against its plan, and why it is (not) counted as delayed."""

    model_config = ConfigDict(frozen=True)

    delayed: bool
    slip_days: float | None = Field(description="Days behind plan (forecast/actual end or progress lag).")
    closed: bool = False
    planned_end: date | None = None
    forecast_end: date | None = None
    actual_end: date | None = None
    percent_complete: float | None = None
    planned_percent: float | None = None
    spi: float | None = None
    throughput_per_week: float | None = None
    reasons: list[str] = Field(default_factory=list)


def assess_schedule(facts: Mapping[str, Any], thresholds: DetectionThresholds, today: date) -> ScheduleStatus:
    """The schedule status of one project from its facts (``DETECTION_FACTS``)."""
    start: date | None = facts.get("planned_start")
    end: date | None = facts.get("planned_end")
    actual: date | None = facts.get("actual_end")
    slip = facts.get("schedule_slip_days")
    pct = facts.get("percent_complete_issues")
    per_day = facts.get("throughput_per_day")
    common: dict[str, Any] = {
        "planned_end": end,
        "forecast_end": facts.get("forecast_end"),
        "actual_end": actual,
        "percent_complete": pct,
        "throughput_per_week": round(per_day * 7, 2) if per_day is not None else None,
    }
    if end is None:
        return ScheduleStatus(delayed=False, slip_days=None, reasons=["no planned end: schedule not judged"], **common)
    if actual is not None:
        late = slip is not None and slip > thresholds.slip_days
        reason = f"finished {actual} vs planned end {end} ({slip:+d} days)" if slip is not None else ""
        return ScheduleStatus(
            delayed=late, slip_days=_float(slip), closed=True, reasons=[reason] if late else [], **common
        )
    if start is not None and today < start:
        return ScheduleStatus(delayed=False, slip_days=0.0, reasons=["not started (planned start ahead)"], **common)

    reasons = []
    if slip is not None and slip > thresholds.slip_days:
        where = (
            f"forecast end {common['forecast_end']}" if common["forecast_end"] else "with no recent throughput, today"
        )
        reasons.append(f"{where} is {slip} days after the planned end {end}")
    planned_pct = planned_percent(start, end, today)
    spi = progress_spi(facts.get("spi"), pct, start, end, today)
    lag = progress_lag_days(spi, start, end, today)
    if spi is not None and lag is not None and spi < thresholds.spi_below and lag > thresholds.min_lag_days:
        reasons.append(f"SPI {spi:.2f}: {lag:.0f} days of planned progress not achieved")
    # The one delay figure: the fact when computed, else the same formula on these facts.
    delay = facts["delay_days"] if "delay_days" in facts else _delay(facts, today)
    return ScheduleStatus(
        delayed=bool(reasons),
        slip_days=delay,
        planned_percent=round(planned_pct, 1) if planned_pct is not None else None,
        spi=round(spi, 3) if spi is not None else None,
        reasons=reasons,
        **common,
    )


def _delay(facts: Mapping[str, Any], today: date) -> float | None:
    return delay_of(
        slip=facts.get("schedule_slip_days"),
        spi=facts.get("spi"),
        percent_complete=facts.get("percent_complete_issues"),
        start=facts.get("planned_start"),
        end=facts.get("planned_end"),
        finished=facts.get("actual_end") is not None,
        today=today,
    )


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None
