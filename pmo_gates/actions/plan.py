"""The plan: every Jira change a run intends to make, itemised, each with its reason and its exact payload.

A plan is computed without writing anything, shown (``--dry-run``, the approval artifact), and then applied
item by item; ``apply_plan`` executes exactly these items (or the approved subset, by ``id``).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

PlanOp = Literal[
    "create_ticket",
    "update_ticket",
    "comment",
    "escalate",
    "resolve",
    "reopen",
    "post_gate_comment",
    "update_gate_comment",
    "sync_property",
]
OPS: tuple[str, ...] = PlanOp.__args__  # type: ignore[attr-defined]


class LedgerRecord(BaseModel):
    """The ledger columns an item changes once applied (``None``: left as it is).

    Each item records only its own change, so applying an approved subset (an escalation without the
    update planned beside it) never claims content the ticket does not have.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    kind: str
    rule_id: str
    project_key: str
    period: str | None = None
    state: Literal["open", "resolved"] | None = None
    summary: str | None = None
    content_hash: str | None = None
    due_date: date | None = None
    escalation_level: int | None = None
    reopen_count: int | None = None


class CommentRecord(BaseModel):
    """What ``posted_comments`` holds once a kept-in-place comment is posted or edited."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issue_key: str
    purpose: str
    content_hash: str


class PlanItem(BaseModel):
    """One Jira change.

    ``payload`` is what is sent: for ``create_ticket`` the issue (``fields`` + ``properties``) as it goes
    into ``POST /issue/bulk``; for ``update_ticket`` the ``PUT /issue/{key}`` body; for comments
    ``{"body": ...}``; ``resolve``/``reopen`` carry ``comment`` and ``transition_to`` (a status category,
    the transition id being looked up on the ticket when applied) and ``reopen`` also ``fields``;
    ``escalate`` carries ``comment`` and/or ``fields`` (priority, assignee); ``sync_property`` rewrites the
    ``pmo-gates`` entity property from the ledger when Jira's copy is stale (a property write that failed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Stable id (op:fingerprint[:step]) used to approve items.")
    op: PlanOp
    project_key: str
    fingerprint: str | None = None
    rule_id: str | None = None
    target: str | None = Field(None, description="Ticket key, or the anchor issue key for comments.")
    comment_id: str | None = Field(None, description="The comment edited in place (update_gate_comment).")
    reason: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    payload: dict[str, Any]
    ledger: LedgerRecord | None = None
    comment_record: CommentRecord | None = None


class Plan(BaseModel):
    """The itemised plan, plus what was deliberately not planned (shadow and advisory findings)."""

    model_config = ConfigDict(extra="forbid")

    markup: Literal["wiki", "adf"] = Field("wiki", description="Body format: wiki (REST v2) or ADF (REST v3).")
    items: list[PlanItem] = Field(default_factory=list)
    shadow: int = Field(0, description="Failing shadow-rollout findings: counted, never written.")
    advisory: int = Field(0, description="Failing advisory findings (a kept comment at most, never a ticket).")
    unchanged: int = Field(0, description="Open tickets whose content is already what we would write.")
    warnings: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(item.op for item in self.items)
        return {op: counted.get(op, 0) for op in OPS}

    def subset(self, ids: set[str] | list[str] | None) -> Plan:
        """The plan restricted to the approved item ids (``None``: everything)."""
        if ids is None:
            return self
        wanted = set(ids)
        unknown = wanted - {item.id for item in self.items}
        if unknown:
            raise ValueError(f"approved ids not in the plan: {sorted(unknown)}")
        return self.model_copy(update={"items": [item for item in self.items if item.id in wanted]})

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True)

    def render_table(self, title: str = "Planned Jira changes"):  # type: ignore[no-untyped-def]
        """A ``rich`` table of the items (what a reviewer approves)."""
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for column in ("id", "op", "project", "target", "rule", "reason"):
            table.add_column(column, overflow="fold")
        for item in self.items:
            table.add_row(item.id, item.op, item.project_key, item.target or "(new)", item.rule_id or "", item.reason)
        counts = ", ".join(f"{op} {n}" for op, n in self.counts.items() if n)
        table.caption = (
            f"{len(self.items)} changes ({counts or 'none'}); unchanged {self.unchanged}, "
            f"advisory {self.advisory}, shadow {self.shadow}"
        )
        return table

    def render_markdown(self) -> str:
        """The plan as a markdown table (the approval artifact)."""
        lines = ["| id | op | project | target | rule | reason |", "|---|---|---|---|---|---|"]
        for item in self.items:
            cells = [item.id, item.op, item.project_key, item.target or "(new)", item.rule_id or "", item.reason]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines)
