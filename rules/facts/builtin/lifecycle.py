"""Lifecycle and governance metadata: phase, gate, project manager, planned dates, charter, approvals."""

from __future__ import annotations

from typing import Any

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.builtin.projects import GATES, PHASES, phase_start, project_records
from pmo_gates.rules.facts.context import FactContext

PHASE_GATE = {"initiation": "initiation", "planning": "planning", "execution": "execution", "closure": "closure"}


@registry.register(
    "phase",
    type=FactType.STRING,
    choices=PHASES,
    description="Lifecycle phase from the anchor issue's phase field: initiation, planning, execution, closure "
    "or closed.",
)
def phase(ctx: FactContext) -> dict[str, Any]:
    """The mapped phase value is matched by word stem ("Initiating" -> initiation, "In Execution" ->
    execution, "Completed" or "Done" -> closed); null when unset or when it names no known phase."""
    return {key: record.phase for key, record in project_records(ctx).items()}


@registry.register(
    "current_gate",
    type=FactType.STRING,
    choices=GATES,
    description="The gate the project is heading to: the gate that ends its current phase.",
)
def current_gate(ctx: FactContext) -> dict[str, Any]:
    """Initiation phase -> initiation gate (approval to plan), planning -> planning gate (approval to
    execute), execution -> execution gate (acceptance, approval to close), closure -> closure gate (final
    review). Null for closed projects (no gate left) and when the phase is unknown."""
    return {key: PHASE_GATE.get(record.phase or "") for key, record in project_records(ctx).items()}


@registry.register(
    "days_in_phase", type=FactType.INTEGER, unit="days", description="Days since the current phase began."
)
def days_in_phase(ctx: FactContext) -> dict[str, Any]:
    """The phase began at the last change of the phase field on the anchor issue's changelog; without
    one, on the phase baseline date; without that, when the anchor issue was created. Null when none of
    these is known; 0 when the start lies after today."""
    out = {}
    for key, record in project_records(ctx).items():
        start = phase_start(record)
        out[key] = None if start is None else max(0, (ctx.today - start).days)
    return out


@registry.register(
    "project_manager",
    type=FactType.STRING,
    description="The project manager's display name (their account id when no name is known).",
)
def project_manager(ctx: FactContext) -> dict[str, Any]:
    """Null when the anchor issue names no project manager."""
    return {
        key: record.project_manager_name or record.project_manager_id for key, record in project_records(ctx).items()
    }


@registry.register("project_manager_id", type=FactType.STRING, description="The project manager's Jira account id.")
def project_manager_id(ctx: FactContext) -> dict[str, Any]:
    """Null when the anchor issue names no project manager, or names one without an account."""
    return {key: record.project_manager_id for key, record in project_records(ctx).items()}


@registry.register(
    "has_project_manager",
    type=FactType.BOOL,
    nullable=False,
    default=False,
    description="Whether the anchor issue names a project manager.",
)
def has_project_manager(ctx: FactContext) -> dict[str, Any]:
    """True when either the account id or the display name is set."""
    return {
        key: bool(record.project_manager_id or record.project_manager_name)
        for key, record in project_records(ctx).items()
    }


@registry.register("planned_start", type=FactType.DATE, description="Planned start date of the project.")
def planned_start(ctx: FactContext) -> dict[str, Any]:
    """Null when the field is unset or unparseable."""
    return {key: record.planned_start for key, record in project_records(ctx).items()}


@registry.register("planned_end", type=FactType.DATE, description="Planned end date of the project.")
def planned_end(ctx: FactContext) -> dict[str, Any]:
    """Null when the field is unset or unparseable."""
    return {key: record.planned_end for key, record in project_records(ctx).items()}


@registry.register(
    "baseline_date",
    type=FactType.DATE,
    description="Date the current phase's scope was baselined (scope growth counts from it).",
)
def baseline_date(ctx: FactContext) -> dict[str, Any]:
    """Null when the field is unset or unparseable."""
    return {key: record.baseline_date for key, record in project_records(ctx).items()}


@registry.register(
    "has_approved_budget",
    type=FactType.BOOL,
    nullable=False,
    default=False,
    description="Whether the anchor issue marks the budget as approved.",
)
def has_approved_budget(ctx: FactContext) -> dict[str, Any]:
    """False when the field is unset."""
    return {key: record.budget_approved is True for key, record in project_records(ctx).items()}


@registry.register(
    "has_charter",
    type=FactType.BOOL,
    nullable=False,
    default=False,
    description="Whether the anchor issue links a project charter.",
)
def has_charter(ctx: FactContext) -> dict[str, Any]:
    """A blank value counts as no charter."""
    return {key: bool((record.charter_url or "").strip()) for key, record in project_records(ctx).items()}


@registry.register(
    "has_lessons_learned",
    type=FactType.BOOL,
    nullable=False,
    default=False,
    description="Whether the anchor issue records lessons learned.",
)
def has_lessons_learned(ctx: FactContext) -> dict[str, Any]:
    """A blank value counts as none."""
    return {key: bool((record.lessons_learned or "").strip()) for key, record in project_records(ctx).items()}


@registry.register("strategic_value", type=FactType.NUMBER, description="Strategic value score from the anchor issue.")
def strategic_value(ctx: FactContext) -> dict[str, Any]:
    """On whatever scale the PMO uses; null when unset."""
    return {key: record.strategic_value for key, record in project_records(ctx).items()}


@registry.register(
    "expected_roi", type=FactType.NUMBER, unit="%", description="Expected return on investment from the anchor."
)
def expected_roi(ctx: FactContext) -> dict[str, Any]:
    """As entered in Jira (a percentage by convention); null when unset."""
    return {key: record.expected_roi for key, record in project_records(ctx).items()}


@registry.register(
    "has_priority_rank",
    type=FactType.BOOL,
    nullable=False,
    default=False,
    description="Whether both strategic value and expected ROI are set, so the project can be ranked.",
)
def has_priority_rank(ctx: FactContext) -> dict[str, Any]:
    """Zero counts as set; only a missing value does not."""
    return {
        key: record.strategic_value is not None and record.expected_roi is not None
        for key, record in project_records(ctx).items()
    }
