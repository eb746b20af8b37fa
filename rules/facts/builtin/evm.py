"""Earned value management (PMBOK): BAC, PV, EV, AC and the indices SPI, CPI, EAC, ETC and VAC.

    PV  = BAC x elapsed fraction of the planned duration (clamped to 0..1)
    EV  = BAC x share of the *baseline* scope completed (by story points, else by issues)
    AC  = the mapped Actual Cost, else logged hours x hourly rate
    SPI = EV / PV      CPI = EV / AC      EAC = BAC / CPI
    ETC = EAC - AC     VAC = BAC - EAC
    SV  = EV - PV      CV  = EV - AC

BAC prices the scope that existed at the baseline (see ``scope``), so EV is earned against that scope:
work added after the baseline neither dilutes what was already earned nor earns baseline value. Its value
(at the baseline's price per item or point) is reported on its own as ``added_scope_value``; re-baselining
(a new baseline date) folds it in. Without any known baseline, EV falls back to the share of all work done.

A ratio whose divisor is zero or unknown is null, never infinite: an EV of 0 gives CPI 0 and so no EAC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.builtin.progress import EMPTY, IssueCounts, issue_counts
from pmo_gates.rules.facts.builtin.projects import ProjectRecord, project_records
from pmo_gates.rules.facts.builtin.scope import ScopeSplit, scope_splits
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import ratio
from pmo_gates.store.models import Issue, Worklog


@dataclass(frozen=True)
class EarnedValue:
    bac: float | None
    pv: float | None
    ev: float | None
    ac: float | None
    added: float | None = None  # value of the work done on scope added after the baseline (not in EV)

    @property
    def spi(self) -> float | None:
        return None if self.ev is None or self.pv is None else ratio(self.ev, self.pv)

    @property
    def cpi(self) -> float | None:
        return None if self.ev is None or self.ac is None else ratio(self.ev, self.ac)

    @property
    def eac(self) -> float | None:
        cpi = self.cpi
        return None if self.bac is None or cpi is None else ratio(self.bac, cpi)

    @property
    def etc(self) -> float | None:
        eac = self.eac
        return None if eac is None or self.ac is None else eac - self.ac

    @property
    def vac(self) -> float | None:
        eac = self.eac
        return None if eac is None or self.bac is None else self.bac - eac

    @property
    def sv(self) -> float | None:
        return None if self.ev is None or self.pv is None else self.ev - self.pv

    @property
    def cv(self) -> float | None:
        return None if self.ev is None or self.ac is None else self.ev - self.ac


def planned_fraction(start: date | None, end: date | None, today: date) -> float | None:
    """Share of the planned duration elapsed by ``today``, clamped to 0..1; None without valid dates."""
    if start is None or end is None or end < start:
        return None
    if end == start:
        return 1.0 if today >= end else 0.0
    return min(1.0, max(0.0, (today - start).days / (end - start).days))


@shared
def logged_hours(ctx: FactContext) -> dict[str, float]:
    """Hours logged on any issue of the project: worklogs, else Jira's time-spent field when no worklogs
    were synced. Projects with neither are absent (unknown, not zero)."""
    worklogs = ctx.session.execute(
        select(Issue.project_key, func.sum(Worklog.time_spent_s))
        .join(Worklog, Worklog.issue_id == Issue.id)
        .where(ctx.in_scope(Issue.project_key))
        .group_by(Issue.project_key)
    )
    hours = {key: float(seconds) / 3600 for key, seconds in worklogs if seconds is not None}
    spent = ctx.session.execute(
        select(Issue.project_key, func.sum(Issue.time_spent_s))
        .where(ctx.in_scope(Issue.project_key), Issue.time_spent_s.is_not(None))
        .group_by(Issue.project_key)
    )
    for key, seconds in spent:
        hours.setdefault(key, float(seconds) / 3600)
    return hours


def actual_cost_of(record: ProjectRecord, hours: float | None, default_rate: float | None) -> float | None:
    if record.actual_cost is not None:
        return record.actual_cost
    rate = record.hourly_rate if record.hourly_rate is not None else default_rate
    if hours is None or rate is None:
        return None
    return hours * rate


@shared
def earned_values(ctx: FactContext) -> dict[str, EarnedValue]:
    counts = issue_counts(ctx)
    splits = scope_splits(ctx)
    hours = logged_hours(ctx)
    out = {}
    for key, record in project_records(ctx).items():
        work = counts.get(key, EMPTY)
        bac = record.budget
        split = splits.get(key)
        done, added = _earned_shares(work, split)
        fraction = planned_fraction(record.planned_start, record.planned_end, ctx.today)
        out[key] = EarnedValue(
            bac=bac,
            pv=None if bac is None or fraction is None else bac * fraction,
            ev=None if bac is None or done is None else bac * done,
            ac=actual_cost_of(record, hours.get(key), ctx.params.default_hourly_rate),
            added=None if bac is None or added is None else bac * added,
        )
    return out


def _earned_shares(work: IssueCounts, split: ScopeSplit | None) -> tuple[float | None, float | None]:
    """(share of the baseline scope done, work done on added scope in baseline units), both vs BAC."""
    if split is not None and split.baseline.day is not None and (split.baseline_items or split.baseline_points):
        if split.baseline_points > 0:
            return split.baseline_share_done, split.added_points_done / split.baseline_points
        return split.baseline_share_done, split.added_done / split.baseline_items
    done = ratio(work.points_done, work.points_total)
    if done is None:
        done = ratio(work.done, work.total)
    return done, None


def _column(ctx: FactContext, name: str) -> dict[str, Any]:
    return {key: getattr(value, name) for key, value in earned_values(ctx).items()}


@registry.register(
    "budget", type=FactType.NUMBER, unit="currency", description="Budget at completion (BAC) from the anchor."
)
def budget(ctx: FactContext) -> dict[str, Any]:
    """Null when unset; 0 is a real (zero) budget, which makes PV and EV 0 and SPI null."""
    return _column(ctx, "bac")


@registry.register(
    "actual_cost",
    type=FactType.NUMBER,
    unit="currency",
    description="Actual cost (AC): the mapped Actual Cost field, else logged hours x hourly rate.",
)
def actual_cost(ctx: FactContext) -> dict[str, Any]:
    """Logged hours come from worklogs on any issue of the project (else Jira's time-spent field); the rate
    is the project's Hourly Rate, else ``default_hourly_rate``. Null when no cost is mapped and either no
    time was ever logged or no rate is known."""
    return _column(ctx, "ac")


@registry.register("ac", type=FactType.NUMBER, unit="currency", description="Actual cost: EVM name of actual_cost.")
def ac(ctx: FactContext) -> dict[str, Any]:
    """Same value as ``actual_cost``."""
    return _column(ctx, "ac")


@registry.register(
    "pv",
    type=FactType.NUMBER,
    unit="currency",
    description="Planned value: BAC x the elapsed fraction of the planned duration (clamped to 0..1).",
)
def pv(ctx: FactContext) -> dict[str, Any]:
    """0 before the planned start, BAC after the planned end. Null without a budget, without both planned
    dates, or when the planned end precedes the planned start. A zero-length plan counts as fully elapsed
    from its day on."""
    return _column(ctx, "pv")


@registry.register(
    "ev",
    type=FactType.NUMBER,
    unit="currency",
    description="Earned value: BAC x share of the baseline scope completed (story points, else issues).",
)
def ev(ctx: FactContext) -> dict[str, Any]:
    """Scope added after the baseline does not lower it (see ``added_scope_value``). Without a known
    baseline: BAC x share of all work done. Null without a budget or without work issues."""
    return _column(ctx, "ev")


@registry.register(
    "added_scope_value",
    type=FactType.NUMBER,
    unit="currency",
    description="Work done on scope added after the baseline, priced like the baseline (not part of EV).",
)
def added_scope_value(ctx: FactContext) -> dict[str, Any]:
    """BAC x (added items, or points, done / baseline items, or points). Null without a budget or a baseline."""
    return _column(ctx, "added")


@registry.register("etc", type=FactType.NUMBER, unit="currency", description="Estimate to complete (PMBOK): EAC - AC.")
def etc(ctx: FactContext) -> dict[str, Any]:
    """What the rest will cost if the cost efficiency so far continues. Null when EAC or AC is."""
    return _column(ctx, "etc")


@registry.register(
    "vac", type=FactType.NUMBER, unit="currency", description="Variance at completion (PMBOK): BAC - EAC."
)
def vac(ctx: FactContext) -> dict[str, Any]:
    """Negative means the project is heading over budget. Null when EAC is."""
    return _column(ctx, "vac")


@registry.register("spi", type=FactType.NUMBER, unit="ratio", description="Schedule performance index: EV / PV.")
def spi(ctx: FactContext) -> dict[str, Any]:
    """Below 1 means behind plan. Null when PV is 0 (before the planned start, or zero budget) or unknown."""
    return _column(ctx, "spi")


@registry.register("cpi", type=FactType.NUMBER, unit="ratio", description="Cost performance index: EV / AC.")
def cpi(ctx: FactContext) -> dict[str, Any]:
    """Below 1 means over cost. Null when AC is 0 or unknown."""
    return _column(ctx, "cpi")


@registry.register(
    "eac", type=FactType.NUMBER, unit="currency", description="Estimate at completion (PMBOK): BAC / CPI."
)
def eac(ctx: FactContext) -> dict[str, Any]:
    """Assumes the cost efficiency so far continues. Null when CPI is null or 0 (nothing earned yet)."""
    return _column(ctx, "eac")


@registry.register("sv", type=FactType.NUMBER, unit="currency", description="Schedule variance: EV - PV.")
def sv(ctx: FactContext) -> dict[str, Any]:
    """Negative means behind plan. Null when EV or PV is."""
    return _column(ctx, "sv")


@registry.register("cv", type=FactType.NUMBER, unit="currency", description="Cost variance: EV - AC.")
def cv(ctx: FactContext) -> dict[str, Any]:
    """Negative means over cost. Null when EV or AC is."""
    return _column(ctx, "cv")
