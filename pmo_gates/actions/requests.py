"""``ActionRequest``: what the planner needs to know about one obligation, whatever found it.

Rule findings (:mod:`pmo_gates.actions.from_findings`) and delay root-cause analysis (``kind="rca"``,
``period="YYYY-MM"``) both produce these, so both go through the same ledger: one Jira ticket per
fingerprint, updated in place, escalated, resolved and reopened the same way.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pmo_gates.review.markup import Block

# Jira labels cannot hold spaces; the fingerprint becomes part of one (see ledger.fingerprint_label).
FINGERPRINT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")


class ActionRequest(BaseModel):
    """One obligation's state in this run, as the planner consumes it.

    ``status`` says what the source concluded: ``failing`` wants an open ticket (mandatory) or a comment
    (advisory); ``passing`` resolves an open ticket; ``unknown`` (missing data) leaves everything as it is,
    because a ticket must not close just because the data to judge it went missing.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str = Field(min_length=1, max_length=64, description="Stable identity (rule x project [x period]).")
    kind: Literal["finding", "rca"] = "finding"
    rule_id: str = Field(min_length=1, max_length=128, description="Rule id, or the root-cause id for rca.")
    project_key: str = Field(min_length=1, max_length=64)
    period: str | None = Field(None, max_length=16, description="'YYYY-MM' or 'YYYY-Www' for recurring ones.")
    status: Literal["failing", "passing", "unknown"]
    outcome: str | None = Field(None, description="The source's own outcome (pass, waived, not_applicable...).")
    rollout: Literal["shadow", "advisory", "mandatory"] = "mandatory"
    severity: str = "medium"
    title: str = Field("", description="The rule's title (one line).")
    summary: str = Field(min_length=1, max_length=255, description="Ticket summary.")
    description: str = Field("", description="Ticket body text (plain; rendered to wiki or ADF).")
    evidence: dict[str, Any] = Field(default_factory=dict, description="Fact values that decided the outcome.")
    next_steps: list[str] = Field(default_factory=list)
    owner: str | None = Field(None, description="accountId (Cloud) / username (DC); None: the PMO lead.")
    due_days: int = Field(14, ge=0, le=3650)
    due_date: date | None = Field(None, description="An explicit due date; default: today + due_days at open.")
    issue_type: str | None = Field(None, description="Jira issue type; default: actions.issue_type.")
    labels: list[str] = Field(default_factory=list, description="Extra labels from the rule's ticket action.")
    comment: str | None = Field(
        None, description="Advisory only: the comment to keep on the project's anchor issue (None: no comment)."
    )

    @field_validator("fingerprint")
    @classmethod
    def _label_safe(cls, value: str) -> str:
        if not FINGERPRINT.match(value):
            raise ValueError(
                f"fingerprint {value!r} may hold only letters, digits and . _ : / - (it travels in a Jira label)"
            )
        return value

    @field_validator("labels")
    @classmethod
    def _no_spaces(cls, labels: list[str]) -> list[str]:
        bad = [label for label in labels if not label or " " in label]
        if bad:
            raise ValueError(f"Jira labels cannot be empty or contain spaces: {bad}")
        return labels

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}-(\d{2}|W\d{2})", value):
            raise ValueError(f"period {value!r} must be 'YYYY-MM' or 'YYYY-Www'")
        return value


class CommentRequest(BaseModel):
    """A comment to keep up to date on a project's anchor issue, whatever wrote it (e.g. the monthly
    root-cause analysis): one per ``(anchor_issue_key, purpose)``, edited in place when its content changes,
    left alone when it does not. ``blocks`` are rendered in the markup the Jira target takes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_key: str = Field(min_length=1, max_length=64)
    anchor_issue_key: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:._-]+$")
    blocks: list[Block]
    reason: str = Field(min_length=1, description="Why the comment is posted, shown in the plan.")
