"""What the flows return: compact, JSON-ready summaries, not the runs' internal objects.

A flow's return value is its Prefect result: Prefect walks it looking for futures when the flow ends, and
persists it when result persistence is on. A review of 2,000 projects with every criterion and its
evidence costs seconds to walk and megabytes to store; the summaries below are what a caller (the demo,
another flow, a person reading the run) uses. The details live in the store and in the artifacts.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pmo_gates.actions.run import ActionsRun
from pmo_gates.flows.approval import ApprovalDecision


def actions_summary(run: ActionsRun) -> dict[str, Any]:
    """``ActionsRun.summary()``: planned and applied changes per operation, the tickets created."""
    return run.summary()


class WriteResult(BaseModel):
    """The Jira-writing part of a flow run: its plan and what was applied, and how it was approved."""

    actions: dict[str, Any] = Field(description="Planned and applied changes (see actions_summary).")
    approval: ApprovalDecision
    not_applied: list[str] = Field(default_factory=list, description="Approved ids changed before applying.")


class GateReviewResult(WriteResult):
    reviewed_on: str
    rules_hash: str
    decisions: dict[str, int]
    reviews: list[dict[str, Any]] = Field(description="Per project: gate, decision, score, failed criteria.")
    records_added: int
    scorecards: int = Field(description="Per-project scorecard artifacts published.")


class CorrectiveActionsResult(WriteResult):
    pass


class RootCauseResult(WriteResult):
    period: str
    delayed: int
    projects: list[dict[str, Any]] = Field(description="As ``pmo-gates rca --json`` prints them.")


class ReportResult(BaseModel):
    today: str
    out_dir: str
    html: str
    charts: list[str]
    figures: dict[str, dict[str, Any]]
