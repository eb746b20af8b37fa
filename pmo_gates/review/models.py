"""Gate-review results: one ``ProjectReview`` per project, the ``ReviewResult`` of a portfolio run."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.store.data_errors import ProjectDataErrors


class CriterionView(BaseModel):
    """One gate criterion as reviewed: its rule, result, points and the evidence that decided it."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    title: str
    kind: Literal["must_meet", "should_meet"]
    outcome: str | None = Field(description="pass | fail | unknown | waived | not_applicable; None: pack off.")
    rollout: str | None = None
    weight: float | None = None
    points: float = 0
    counted: bool = True
    note: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)


class ProjectReview(BaseModel):
    model_config = ConfigDict(frozen=True)

    project_key: str
    project_name: str | None = None
    anchor_issue_key: str | None = None
    gate: str
    decision: str
    score: float
    kill: bool | None = None
    reasons: list[str] = Field(default_factory=list)
    criteria: list[CriterionView] = Field(default_factory=list)
    failed_must_meet: list[str] = Field(default_factory=list, description="Rule ids of failed knock-outs.")
    next_steps: list[str] = Field(default_factory=list)
    data_hash: str = Field(description="sha256 of this project's facts as reviewed.")
    record_id: int | None = Field(None, description="The gate_decisions row holding this review.")
    recorded: bool = Field(False, description="True when this run added the row (False: identical to today's).")
    data_errors: ProjectDataErrors = Field(
        default_factory=ProjectDataErrors, description="Bad data in Jira and what failed judging it."
    )

    def why(self) -> str:
        """The decision's reason in one line: the missed must-meets (failed or without data), the kill
        condition, or the score against its threshold."""
        missed = [
            c.rule_id + (" (no data)" if c.outcome == "unknown" else "")
            for c in self.criteria
            if c.kind == "must_meet" and c.counted and c.outcome in ("fail", "unknown")
        ]
        if missed and not self.kill:
            return "missed must-meet: " + ", ".join(missed)
        return "; ".join(self.reasons) or "-"


class ReviewResult(BaseModel):
    reviewed_on: date
    evaluated_at: datetime
    rules_hash: str
    rules_commit: str | None = None
    data_hash: str = Field(description="sha256 of every reviewed project's facts.")
    data_synced_at: datetime | None = None
    approved_by: str | None = None
    reviews: list[ProjectReview] = Field(default_factory=list)
    without_gate: list[str] = Field(default_factory=list, description="Projects with no reviewable gate.")
    not_judged: dict[str, str] = Field(
        default_factory=dict, description="Why each project of ``without_gate`` could not be reviewed."
    )
    recorded: int = Field(0, description="Decision records added by this run.")
    data_errors: dict[str, ProjectDataErrors] = Field(
        default_factory=dict,
        description="Every project's data errors by key, reviewed or not (a project whose review failed is only here).",
    )

    def decisions(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for review in self.reviews:
            counts[review.decision] = counts.get(review.decision, 0) + 1
        return counts

    def summary(self) -> list[dict[str, Any]]:
        """Per project: gate, decision, score, failed criteria (the demo's ``reviews``)."""
        return [
            {
                "project": r.project_key,
                "gate": r.gate,
                "decision": r.decision,
                "score": r.score,
                "failed": [c.rule_id for c in r.criteria if c.outcome == "fail"],
                "data_errors": r.data_errors.total,
                "why": r.why(),
            }
            for r in self.reviews
        ]
