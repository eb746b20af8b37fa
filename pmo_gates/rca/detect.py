"""Delay detection: is a project behind its plan by more than the playbook tolerates, and by how much?

Two independent signals, each with its own threshold in the playbook's ``detection`` section:

- **forecast slip**: the forecast end (today + remaining items / recent throughput) is later than the
  planned end. A closed project is judged on its actual end (its last resolution) instead.
- **progress lag**: actual percent complete behind the percent the plan expects by today (linear
  between planned start and end); SPI = actual / planned, and the lag in days = (planned - actual)
  x planned duration.

A project is delayed when either signal crosses its threshold. ``slip_days`` is the larger of the two
day figures, so it is comparable across projects whichever signal fired.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.rca.profile import ProjectProfile


class DetectionThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slip_days: float = Field(14, ge=0, description="Delayed when the forecast (or actual) end is this late.")
    spi_below: float = Field(0.85, gt=0, le=1, description="Delayed when SPI falls below this ...")
    min_lag_days: float = Field(5, ge=0, description="... and progress lags the plan by at least these days.")
    closed_phases: list[str] = Field(
        default_factory=lambda: ["closed", "done"], description="Phases meaning the project has ended."
    )


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


def assess_schedule(profile: ProjectProfile, thresholds: DetectionThresholds) -> ScheduleStatus:
    """The schedule status of one project from its profile."""
    project = profile.project
    start: date | None = project.get("planned_start")
    end: date | None = project.get("planned_end")
    today = profile.today
    pct = profile.done / profile.total if profile.total else None
    weekly = round(profile.throughput * 7, 2)
    phase = (project.get("phase") or "").lower()
    closed = profile.total > 0 and (profile.open == 0 or phase in {p.lower() for p in thresholds.closed_phases})
    if end is None:
        return ScheduleStatus(
            delayed=False,
            slip_days=None,
            closed=closed,
            percent_complete=_pct(pct),
            reasons=["no planned end: schedule not judged"],
        )
    if closed:
        actual = _to_date(profile.last_resolved) if profile.last_resolved is not None else None
        slip = float((actual - end).days) if actual else None
        delayed = slip is not None and slip > thresholds.slip_days
        reasons = [f"closed; actual end {actual} vs planned {end} ({_signed(slip)} days)"] if actual else []
        return ScheduleStatus(
            delayed=delayed,
            slip_days=slip,
            closed=True,
            planned_end=end,
            actual_end=actual,
            percent_complete=_pct(pct),
            throughput_per_week=weekly,
            reasons=reasons,
        )
    if start is not None and today < start:
        return ScheduleStatus(
            delayed=False,
            slip_days=0.0,
            planned_end=end,
            percent_complete=_pct(pct),
            reasons=["not started yet (planned start in the future)"],
        )

    reasons: list[str] = []
    forecast = _forecast(profile)
    slip_candidates: list[float] = []
    forecast_slip: float | None = None
    if forecast is not None:
        forecast_slip = float((forecast - end).days)
    elif profile.open and today > end:
        forecast_slip = float((today - end).days)  # no throughput: at least as late as today
    if forecast_slip is not None:
        slip_candidates.append(forecast_slip)
        if forecast_slip > thresholds.slip_days:
            where = f"forecast end {forecast}" if forecast else "no recent throughput"
            reasons.append(f"{where} is {forecast_slip:.0f} days after planned end {end}")

    planned_pct = spi = None
    if start is not None and end > start and pct is not None:
        duration = (end - start).days
        planned_pct = min(1.0, max(0.0, (today - start).days / duration))
        if planned_pct > 0:
            spi = pct / planned_pct
            lag = (planned_pct - pct) * duration
            slip_candidates.append(lag)
            if spi < thresholds.spi_below and lag >= thresholds.min_lag_days:
                reasons.append(
                    f"{pct:.0%} complete vs {planned_pct:.0%} planned by today (SPI {spi:.2f}, {lag:.0f} days behind)"
                )
    slip = round(max(slip_candidates), 1) if slip_candidates else None
    return ScheduleStatus(
        delayed=bool(reasons),
        slip_days=slip,
        planned_end=end,
        forecast_end=forecast,
        percent_complete=_pct(pct),
        planned_percent=_pct(planned_pct),
        spi=round(spi, 3) if spi is not None else None,
        throughput_per_week=weekly,
        reasons=reasons,
    )


def _forecast(profile: ProjectProfile) -> date | None:
    """Today + remaining items at the recent throughput; None when nothing was resolved recently."""
    if profile.open == 0:
        return profile.today
    if profile.throughput <= 0:
        return None
    return profile.today + timedelta(days=math.ceil(profile.open / profile.throughput))


def _to_date(days: float) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(days))


def _pct(value: float | None) -> float | None:
    return round(value * 100, 1) if value is not None else None


def _signed(value: float | None) -> str:
    return "?" if value is None else f"{value:+.0f}"
