"""Trends from the stored history: gate decisions per month, and delayed projects per month by top cause.

Both come straight from the tables the flows fill (``gate_decisions``, ``rca_results``), grouped by month
in SQL, so the history can grow for years without the report reading it row by row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from pmo_gates.reports.dates import end_of_day, first_month
from pmo_gates.reports.goals import DECISION_COLORS, DECISIONS
from pmo_gates.reports.models import ChartSpec, Row, Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.text import plural
from pmo_gates.rules.facts.queries import count_where
from pmo_gates.store.models import GateDecision, RcaResult

DECISION_COLUMNS = ["month", *DECISIONS]
RCA_COLUMNS = ["month", "analysed", "delayed", "mean_slip_days", "top_cause"]
_CHART_CAUSES = 6  # more colours than this in one stacked bar are unreadable: the rest are "other causes"
NO_CAUSE = "no cause found"


def month_of(column: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC timestamp column, computed by the database."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)  # SQLite keeps UTC timestamps as text


def decision_trend(session: Session, today: date, months: int) -> dict[str, Counter[str]]:
    """Gate decisions per month (``YYYY-MM``) and decision, oldest month first."""
    month = month_of(GateDecision.evaluated_at, session.get_bind().dialect.name)
    start = datetime.combine(first_month(today, months), time.min, tzinfo=UTC)
    query = (
        select(month, GateDecision.decision, func.count())
        .where(GateDecision.evaluated_at >= start, GateDecision.evaluated_at < end_of_day(today))
        .group_by(month, GateDecision.decision)
    )
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for period, decision, count in session.execute(query):
        counts[period][decision] += int(count)
    return dict(sorted(counts.items()))


@dataclass
class RcaMonth:
    month: str
    analysed: int
    delayed: int
    mean_slip_days: float | None
    by_cause: Counter[str] = field(default_factory=Counter)  # delayed projects by their top cause

    @property
    def top_cause(self) -> str | None:
        found = [(n, cause) for cause, n in self.by_cause.items() if cause != NO_CAUSE]
        # Most delayed projects first, then the name, so a tie reads the same every run.
        return min(found, key=lambda f: (-f[0], f[1]))[1] if found else None

    def row(self) -> Row:
        return {
            "month": self.month,
            "analysed": self.analysed,
            "delayed": self.delayed,
            "mean_slip_days": self.mean_slip_days,
            "top_cause": self.top_cause,
        }


def rca_trend(session: Session, today: date, months: int) -> list[RcaMonth]:
    """Per analysed month: projects analysed, delayed, their mean slip and their top causes."""
    first, last = first_month(today, months).strftime("%Y-%m"), today.strftime("%Y-%m")
    in_window = (RcaResult.period >= first, RcaResult.period <= last)
    delayed = RcaResult.delayed.is_(True)
    totals = (
        select(RcaResult.period, func.count(), count_where(delayed), func.avg(case((delayed, RcaResult.slip_days))))
        .where(*in_window)
        .group_by(RcaResult.period)
    )
    found = {
        period: RcaMonth(period, int(analysed), int(late), round(float(slip), 1) if slip is not None else None)
        for period, analysed, late, slip in session.execute(totals)
    }
    top = RcaResult.causes[0]["cause"].as_string()
    causes = select(RcaResult.period, top, func.count()).where(delayed, *in_window).group_by(RcaResult.period, top)
    for period, cause, count in session.execute(causes):
        found[period].by_cause[cause or NO_CAUSE] += int(count)
    return [found[period] for period in sorted(found)]


def cause_series(months: list[RcaMonth]) -> dict[str, list[float]]:
    overall: Counter[str] = Counter()
    for month in months:
        overall.update(month.by_cause)
    shown = [cause for cause, _ in sorted(overall.items(), key=lambda c: (-c[1], c[0]))[:_CHART_CAUSES]]
    series = {cause: [float(m.by_cause.get(cause, 0)) for m in months] for cause in shown}
    rest = [float(sum(n for cause, n in m.by_cause.items() if cause not in shown)) for m in months]
    if any(rest):
        series["other causes"] = rest
    return series


def trends_section(session: Session, *, today: date, options: ReportOptions) -> Section:
    decisions = decision_trend(session, today, options.trend_months)
    delays = rca_trend(session, today, options.trend_months)
    summary = []
    if decisions:
        total = sum(sum(counts.values()) for counts in decisions.values())
        first, last = next(iter(decisions)), next(reversed(decisions))
        summary.append(f"{plural(total, 'gate decision')} over {plural(len(decisions), 'month')} ({first} to {last}).")
    else:
        summary.append("No gate decisions stored yet (the gate-review flow records them).")
    if delays:
        latest = delays[-1]
        cause = f", most often **{latest.top_cause}**" if latest.top_cause else ""
        summary.append(f"{latest.month}: **{latest.delayed}** of {latest.analysed} projects delayed{cause}.")
    else:
        summary.append("No root-cause analyses stored yet (the delay-root-cause flow records them).")
    return Section(
        key="trends",
        title="Trends",
        intro=f"From the stored history (the last {options.trend_months} months): gate decisions per month, "
        "and delayed projects per month by their top root cause.",
        summary=summary,
        tables=[
            Table(
                key="decision_trend",
                title="Gate decisions per month",
                columns=DECISION_COLUMNS,
                rows=[
                    {"month": month, **{d: counts.get(d, 0) for d in DECISIONS}} for month, counts in decisions.items()
                ],
            ),
            Table(
                key="rca_trend", title="Delayed projects per month", columns=RCA_COLUMNS, rows=[m.row() for m in delays]
            ),
        ],
        charts=[
            ChartSpec(
                key="decision-trend",
                title="Gate decisions per month",
                kind="bar_stacked",
                categories=list(decisions),
                series={d.replace("_", " "): [float(c.get(d, 0)) for c in decisions.values()] for d in DECISIONS},
                colors={d.replace("_", " "): colour for d, colour in DECISION_COLORS.items()},
                ylabel="decisions",
                counts=True,
            ),
            ChartSpec(
                key="rca-trend",
                title="Delayed projects per month by top cause",
                kind="bar_stacked",
                categories=[m.month for m in delays],
                series=cause_series(delays),
                ylabel="delayed projects",
                counts=True,
            ),
        ],
        figures={
            "decision_months": len(decisions),
            "decisions": sum(sum(counts.values()) for counts in decisions.values()),
            "rca_months": len(delays),
            "delayed_latest_month": delays[-1].delayed if delays else None,
        },
    )
