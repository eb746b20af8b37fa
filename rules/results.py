"""What evaluation produces: findings per (rule, project) and gate results per project.

These models are the boundary consumed by gate reviews, corrective actions and reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.rules.models import Decision, LifecycleGate, Outcome, Pack, Rollout, Severity


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """An instance from values the evaluator built itself, every field given, already of its type.

        Validation costs about 20 us per finding (30 times the rule evaluation itself, seconds for a
        portfolio), and everything the evaluator passes comes from validated rules and its own code, so
        the hot path skips it; a value from outside (facts) only goes into ``evidence``, typed ``Any``.
        ``tests/test_rules_evaluate.py`` checks that every trusted result equals its validated twin.
        ``model_construct`` would also fill defaults and check names, which is what makes it slow.
        """
        instance = cls.__new__(cls)
        object.__setattr__(instance, "__dict__", values)
        object.__setattr__(instance, "__pydantic_fields_set__", set(values))
        object.__setattr__(instance, "__pydantic_extra__", None)
        object.__setattr__(instance, "__pydantic_private__", None)
        return instance


class WaiverRef(_Result):
    """The waiver that covered a finding."""

    approver: str
    reason: str
    expires: dt.date
    location: str = Field(description="path:line of the waiver, for audit")


class Finding(_Result):
    """The result of one rule for one project on one evaluation date."""

    rule_id: str
    project_key: str
    outcome: Outcome = Field(description="pass | fail | not_applicable | unknown | waived")
    severity: Severity
    rollout: Rollout
    pack: Pack
    title: str = Field(description="The rule's title.")
    evidence: dict[str, Any] = Field(
        description="Every fact the rule reads (applies, check, owner, templates) with its value; None = unknown."
    )
    fingerprint: str = Field(description="Stable id of (rule, project[, period]): finds our own ticket again.")
    period: str | None = Field(None, description="'2026-11' (monthly) or '2026-W47' (weekly) for recurring rules.")
    owner: str = Field(description="Who should act: the owner fact's value, the fixed id, or 'pmo_lead'.")
    due_date: dt.date | None = Field(None, description="today + due_days, for failures.")
    waived_outcome: Outcome | None = Field(None, description="The outcome a waiver covered (fail or unknown).")
    waiver: WaiverRef | None = None
    error: str | None = Field(None, description="Why evaluation failed (bad fact types); the outcome is unknown.")

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAIL


class CriterionResult(_Result):
    """One gate criterion (a rule) as it counted in a gate decision."""

    rule_id: str
    outcome: Outcome | None = Field(description="The rule's outcome; None when the rule's pack is not enabled.")
    weight: float | None = Field(None, description="Should-meet weight; None for must-meet.")
    points: float = Field(0, description="Points earned (should-meet: weight when pass or waived).")
    counted: bool = Field(description="False when not applicable, shadow rollout, or pack not enabled.")
    note: str = ""


class GateResult(_Result):
    """A project's review at its current lifecycle gate."""

    project_key: str
    gate: LifecycleGate
    decision: Decision
    score: float = Field(description="Should-meet points earned / points possible x 100 (100 when none apply).")
    must_meet: list[CriterionResult]
    should_meet: list[CriterionResult]
    kill: bool | None = Field(None, description="The kill condition's value (None: unknown or none set).")
    reasons: list[str] = Field(description="Why this decision, in a PMO's words.")


class Evaluation(_Result):
    """Everything one evaluation run produced, deterministic for the same rules, facts and date."""

    today: dt.date
    rule_set_digest: str = Field(description="sha256 of the rule files' contents (the reproducible record).")
    findings: list[Finding]
    gate_results: list[GateResult]
    warnings: list[str] = Field(default_factory=list, description="E.g. expired waivers, with file:line.")
    project_errors: dict[str, str] = Field(
        default_factory=dict, description="Projects whose evaluation failed (no findings, no gate result): why."
    )

    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.outcome is Outcome.FAIL]

    def for_project(self, project_key: str) -> list[Finding]:
        return [f for f in self.findings if f.project_key == project_key]
