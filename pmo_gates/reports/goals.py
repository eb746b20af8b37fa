"""Goal achievement: gate reviews ending Go / Conditional Go and projects on schedule, against the targets
of the config's ``reports:`` section.

Schedule status is the root-cause analysis's own delay detection (:func:`pmo_gates.rca.detect.assess_schedule`
on the same facts and playbook thresholds), so "on schedule" here means "not delayed" there, tolerance
included; a finished project is on time when its actual end is within that tolerance. Projects without a
planned end are not judged. Gate decisions are each project's latest stored review (one window-function
query).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmo_gates.rca.detect import DETECTION_FACTS, DetectionThresholds, ScheduleStatus, assess_schedule
from pmo_gates.reports.models import ChartSpec, Row, Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.text import iso, listing, pct, plural, share_pct
from pmo_gates.rules.facts.queries import utc
from pmo_gates.rules.models import Decision
from pmo_gates.store.models import GateDecision

FACTS = (*DETECTION_FACTS, "phase")
DECISIONS = [d.value for d in Decision]  # best to worst
# Decisions keep their colour in every chart, from green (go) to red (kill).
DECISION_COLORS = {
    "go": "#2e7d32",
    "conditional_go": "#9ccc65",
    "hold": "#ffb300",
    "recycle": "#8e24aa",
    "kill": "#c62828",
}
PASSING = {Decision.GO.value, Decision.CONDITIONAL_GO.value}
GO_RATE = "Gate reviews ending Go / Conditional Go"
ON_SCHEDULE = "Projects on schedule"
FINISHED_ON_TIME = "Finished projects delivered on time"
CHART_LABELS = ["Go / Cond. Go", "On schedule", "Finished on time"]
SCHEDULE_COLUMNS = [
    "project",
    "name",
    "phase",
    "planned_end",
    "forecast_end",
    "actual_end",
    "slip_days",
    "on_schedule",
    "latest_gate",
    "decision",
    "reviewed",
    "why",
]


@dataclass(frozen=True)
class LatestGate:
    project: str
    gate: str
    decision: str
    reviewed: date


def latest_decisions(session: Session, before: datetime) -> dict[str, LatestGate]:
    """Each project's latest gate decision evaluated before ``before`` (a replay must not see its future)."""
    order = func.row_number().over(
        partition_by=GateDecision.project_key, order_by=(GateDecision.evaluated_at.desc(), GateDecision.id.desc())
    )
    ranked = (
        select(
            GateDecision.project_key,
            GateDecision.gate,
            GateDecision.decision,
            GateDecision.evaluated_at,
            order.label("n"),
        )
        .where(GateDecision.evaluated_at < before)
        .subquery()
    )
    rows = select(ranked.c.project_key, ranked.c.gate, ranked.c.decision, ranked.c.evaluated_at).where(ranked.c.n == 1)
    latest = {}
    for project, gate, decision, evaluated_at in session.execute(rows):
        stamp = utc(evaluated_at)
        assert stamp is not None  # the column is NOT NULL
        latest[project] = LatestGate(project, gate, decision, stamp.date())
    return latest


def schedule_statuses(
    facts: Mapping[str, Mapping[str, object]], thresholds: DetectionThresholds, today: date
) -> dict[str, ScheduleStatus]:
    return {key: assess_schedule(project, thresholds, today) for key, project in facts.items()}


@dataclass(frozen=True)
class Measure:
    name: str
    achieved: int
    basis: int
    target: float

    @property
    def actual(self) -> float | None:
        return share_pct(self.achieved, self.basis)

    @property
    def met(self) -> bool | None:
        return None if self.actual is None else self.actual >= self.target

    def row(self) -> Row:
        return {
            "measure": self.name,
            "actual_pct": self.actual,
            "target_pct": self.target,
            "met": self.met,
            "basis": self.basis,
            "achieved": self.achieved,
        }

    def sentence(self) -> str:
        if self.actual is None:
            return f"{self.name}: no data yet (target {pct(self.target)})."
        verdict = "met" if self.met else "missed"
        return (
            f"{self.name}: **{pct(self.actual)}** vs target {pct(self.target)} "
            f"(**{verdict}**, {plural(self.basis, 'project')})."
        )


def goals_section(
    facts: Mapping[str, Mapping[str, object]],
    names: Mapping[str, str],
    statuses: Mapping[str, ScheduleStatus],
    latest: Mapping[str, LatestGate],
    options: ReportOptions,
) -> Section:
    reviewed = {key: gate for key, gate in latest.items() if key in facts}
    judged = {key: s for key, s in statuses.items() if s.planned_end is not None}  # no plan: not judged
    finished = {key: s for key, s in judged.items() if s.closed}
    delayed = sorted(key for key, s in judged.items() if s.delayed)
    measures = [
        Measure(
            GO_RATE,
            sum(1 for g in reviewed.values() if g.decision in PASSING),
            len(reviewed),
            options.go_rate_target_pct,
        ),
        Measure(ON_SCHEDULE, len(judged) - len(delayed), len(judged), options.on_time_target_pct),
        Measure(
            FINISHED_ON_TIME,
            sum(1 for s in finished.values() if not s.delayed),
            len(finished),
            options.on_time_target_pct,
        ),
    ]
    decisions = Counter(g.decision for g in reviewed.values())
    # Late projects first, the latest first by slip; projects not judged (no planned end) last.
    order = sorted(
        facts,
        key=lambda key: (
            not statuses[key].delayed,
            statuses[key].planned_end is None,
            -(statuses[key].slip_days or 0.0),
            key,
        ),
    )
    schedule = [_schedule_row(key, names.get(key, ""), facts[key], statuses[key], reviewed.get(key)) for key in order]
    summary = [m.sentence() for m in measures]
    if delayed:
        summary.append(f"Delayed: **{listing(delayed)}**.")
    if reviewed:
        counts = ", ".join(f"{d.replace('_', ' ')} {decisions.get(d, 0)}" for d in DECISIONS)
        summary.append(f"Latest gate decisions: {counts}.")
    measured = [(label, m) for label, m in zip(CHART_LABELS, measures, strict=True) if m.actual is not None]
    chart = ChartSpec(
        key="goals",
        title="Goal achievement vs target (%)",
        kind="bar_grouped",
        categories=[label for label, _ in measured],  # a measure without data is left out, not drawn as 0%
        series={"actual": [m.actual or 0.0 for _, m in measured], "target": [m.target for _, m in measured]},
        ylabel="%",
    )
    return Section(
        key="goals",
        title="Goal achievement",
        intro="Latest gate review per project, and schedule status by the root-cause analysis's delay "
        "detection, against the targets in the config (reports.go_rate_target_pct, reports.on_time_target_pct).",
        summary=summary,
        tables=[
            Table(
                key="goals", title="Goals vs targets", columns=list(measures[0].row()), rows=[m.row() for m in measures]
            ),
            Table(
                key="schedule", title="Schedule and latest gate per project", columns=SCHEDULE_COLUMNS, rows=schedule
            ),
        ],
        charts=[chart],
        figures={
            "decisions": {d: decisions.get(d, 0) for d in DECISIONS},
            "projects_delayed": len(delayed),
            "go_rate_pct": measures[0].actual,
            "on_schedule_pct": measures[1].actual,
            "finished_on_time_pct": measures[2].actual,
            "targets_met": sum(1 for m in measures if m.met),
        },
    )


def _schedule_row(
    key: str, name: str, facts: Mapping[str, object], status: ScheduleStatus, gate: LatestGate | None
) -> Row:
    return {
        "project": key,
        "name": name,
        "phase": str(facts["phase"]) if facts.get("phase") is not None else None,
        "planned_end": iso(status.planned_end),
        "forecast_end": iso(status.forecast_end),
        "actual_end": iso(status.actual_end),
        "slip_days": status.slip_days,
        "on_schedule": None if status.planned_end is None else not status.delayed,
        "latest_gate": gate.gate if gate else None,
        "decision": gate.decision if gate else None,
        "reviewed": iso(gate.reviewed) if gate else None,
        "why": "; ".join(status.reasons),
    }
