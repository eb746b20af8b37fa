"""The gate-review comment on a project's anchor issue: decision, criteria table, what to do next.

It holds nothing that changes without the review changing (no run time, no sync time), so an unchanged
review renders to the same bytes and the comment is left alone.
"""

from __future__ import annotations

from typing import Any

from pmo_gates.formatting import plain
from pmo_gates.review.markup import (
    Block,
    BulletList,
    Heading,
    Markup,
    Paragraph,
    Strong,
    Table,
    render,
    to_adf,
    to_wiki,
)
from pmo_gates.review.models import CriterionView, ProjectReview

COMMENT_DATA_ERRORS = 10  # listed in the comment; the rest are counted

DECISION_LABEL = {
    "go": "Go",
    "conditional_go": "Conditional Go",
    "hold": "Hold",
    "recycle": "Recycle",
    "kill": "Kill",
}
OUTCOME_LABEL = {
    "pass": "pass",
    "fail": "FAIL",
    "unknown": "no data",
    "waived": "waived",
    "not_applicable": "n/a",
    None: "pack off",
}


def _value(value: Any) -> str:
    return plain(value)


def _evidence(criterion: CriterionView) -> str:
    return "; ".join(f"{k}={_value(v)}" for k, v in sorted(criterion.evidence.items())) or "-"


def _result(criterion: CriterionView) -> str:
    text = OUTCOME_LABEL.get(criterion.outcome, str(criterion.outcome))
    if not criterion.counted and criterion.outcome not in (None, "not_applicable"):
        text += " (not counted)"
    return text


def gate_comment_blocks(review: ProjectReview, rules_hash: str | None = None) -> list[Block]:
    decision = DECISION_LABEL.get(review.decision, review.decision)
    blocks: list[Block] = [
        Heading(text=f"Gate review: {review.gate} gate of {review.project_key}"),
        Paragraph(parts=["Decision: ", Strong(text=decision), f" (score {review.score:.0f}/100)"]),
    ]
    rows = []
    for c in review.criteria:
        kind = "must-meet" if c.kind == "must_meet" else f"should-meet ({c.weight:g})" if c.weight else "should-meet"
        rows.append([c.title, kind, _result(c), _evidence(c)])
    if rows:
        blocks.append(Table(header=["Criterion", "Type", "Result", "Evidence"], rows=rows))
    if review.reasons:
        blocks.append(Heading(text="Why", level=4))
        blocks.append(BulletList(items=[[reason] for reason in review.reasons]))
    if review.next_steps:
        blocks.append(Heading(text="What to do next", level=4))
        blocks.append(BulletList(items=[[step] for step in review.next_steps]))
    flagged = review.data_errors
    if flagged.total:
        # Judged on the valid data only: say what was left out, so the team can fix it in Jira.
        blocks.append(Heading(text=f"Data errors ({flagged.total}): fix these in Jira", level=4))
        items = [[problem.line()] for problem in flagged.shown[:COMMENT_DATA_ERRORS]]
        if flagged.total > len(items):
            items.append([f"... and {flagged.total - len(items)} more"])
        blocks.append(BulletList(items=items))
    footer = "Decided by pmo-gates from the PMO's rule files"
    if rules_hash:
        footer += f" (rules {rules_hash[:12]})"
    blocks.append(Paragraph(parts=[footer + "; the record is kept in the pmo-gates store."]))
    return blocks


def render_gate_comment(review: ProjectReview, markup: Markup = "wiki", rules_hash: str | None = None) -> str:
    """The comment in Jira wiki markup (REST v2 / Data Center)."""
    if markup != "wiki":
        raise ValueError("render_gate_comment returns wiki markup; use render_gate_comment_adf for ADF")
    return to_wiki(gate_comment_blocks(review, rules_hash))


def render_gate_comment_adf(review: ProjectReview, rules_hash: str | None = None) -> dict[str, Any]:
    """The comment as an Atlassian Document Format document (REST v3 / Cloud)."""
    return to_adf(gate_comment_blocks(review, rules_hash))


def render_body(review: ProjectReview, markup: Markup, rules_hash: str | None = None) -> str | dict[str, Any]:
    return render(gate_comment_blocks(review, rules_hash), markup)
