"""What the flows show in Prefect: plain rows and markdown built from the runs' results (no Prefect here).

Tables are lists of flat dicts (one Prefect table artifact each); markdown pages lead with the figures a
PMO looks at first. Long lists are cut with a note, since an artifact is a page, not an export.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pmo_gates.actions.plan import Plan
from pmo_gates.flows.artifacts import markdown_table

if TYPE_CHECKING:
    from pmo_gates.actions.run import ActionsRun
    from pmo_gates.flows.approval import ApprovalDecision
    from pmo_gates.rca.analyse import RcaReport
    from pmo_gates.review.models import ProjectReview, ReviewResult

MAX_MARKDOWN_ROWS = 200
DECISION_ORDER = ("kill", "recycle", "hold", "conditional_go", "go")


def _cut(rows: Sequence[dict[str, Any]], what: str) -> str:
    text = markdown_table(list(rows[:MAX_MARKDOWN_ROWS]))
    if len(rows) > MAX_MARKDOWN_ROWS:
        text += f"\n\n_{len(rows) - MAX_MARKDOWN_ROWS} more {what} in the table artifact._"
    return text


# ---- plans -----------------------------------------------------------------------------------------


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "id": item.id,
            "op": item.op,
            "project": item.project_key,
            "target": item.target or "(new)",
            "rule": item.rule_id or "",
            "reason": item.reason,
        }
        for item in plan.items
    ]


def plan_markdown(plan: Plan, flow_name: str, *, approval: bool) -> str:
    counts = ", ".join(f"{op} {n}" for op, n in plan.counts.items() if n) or "nothing to change"
    lines = [
        f"# {flow_name}: planned Jira changes",
        "",
        f"**{len(plan.items)} change(s)**: {counts}. Unchanged tickets: {plan.unchanged}; advisory findings: "
        f"{plan.advisory}; shadow findings: {plan.shadow}.",
    ]
    if approval and plan.items:
        lines += [
            "",
            "Approve with **Resume**: tick `approve_all`, or list item ids in `approved_items`; fill in "
            "`approver`. Items not approved are not applied (the next run plans them again).",
        ]
    if plan.warnings:
        lines += ["", "## Warnings", *[f"- {w}" for w in plan.warnings]]
    if plan.items:
        lines += ["", "## Items", _cut(plan_rows(plan), "items")]
    return "\n".join(lines)


def approval_markdown(decision: ApprovalDecision, run: ActionsRun, not_applied: Sequence[str]) -> str:
    lines = ["# Approval", "", decision.summary(), ""]
    if decision.approver:
        lines.append(f"- approver: {decision.approver}")
    if decision.note:
        lines.append(f"- note: {decision.note}")
    lines.append(f"- approved items: {len(decision.approved_ids)} of {len(run.plan.items)} planned")
    if run.applied is not None:
        lines.append(f"- applied: {run.applied.counts()}")
    else:
        lines.append("- applied: nothing")
    if not_applied:
        lines.append(f"- approved but changed or no longer needed (not applied): {', '.join(not_applied)}")
    if decision.unknown_ids:
        lines.append(f"- ids named in the form but not in the plan (ignored): {', '.join(decision.unknown_ids)}")
    return "\n".join(lines)


def applied_rows(run: ActionsRun) -> list[dict[str, Any]]:
    if run.applied is None:
        return []
    return [
        {"id": r.id, "op": r.op, "status": r.status, "ticket": r.ticket_key or "", "note": r.error or r.note}
        for r in run.applied.items
    ]


# ---- gate reviews ----------------------------------------------------------------------------------


def scorecard_rows(review: ProjectReview) -> list[dict[str, Any]]:
    return [
        {
            "criterion": c.rule_id,
            "title": c.title,
            "kind": c.kind.replace("_", "-"),
            "result": c.outcome or "off",
            "weight": c.weight,
            "points": c.points,
            "counted": c.counted,
            "note": c.note,
        }
        for c in review.criteria
    ]


def attention_first(reviews: Sequence[ProjectReview]) -> list[ProjectReview]:
    """Projects needing attention first (kill, recycle, hold, conditional go), then by score."""
    rank = {d: i for i, d in enumerate(DECISION_ORDER)}
    return sorted(reviews, key=lambda r: (rank.get(r.decision, len(rank)), r.score, r.project_key))


def portfolio_rows(result: ReviewResult) -> list[dict[str, Any]]:
    return [
        {
            "project": r.project_key,
            "name": r.project_name or "",
            "gate": r.gate,
            "decision": r.decision,
            "score": round(r.score, 1),
            "failed must-meet": r.failed_must_meet,
            "failed": [c.rule_id for c in r.criteria if c.outcome == "fail"],
        }
        for r in attention_first(result.reviews)
    ]


def portfolio_markdown(result: ReviewResult) -> str:
    counts = Counter(r.decision for r in result.reviews)
    decided = ", ".join(f"{d.replace('_', ' ')} {counts[d]}" for d in DECISION_ORDER if counts.get(d))
    lines = [
        f"# Gate reviews {result.reviewed_on.isoformat()}",
        "",
        f"**{len(result.reviews)} project(s) reviewed**: {decided or 'none'}.",
        f"Rules `{result.rules_hash[:12]}`"
        + (f" (commit `{result.rules_commit[:12]}`)" if result.rules_commit else "")
        + f"; data `{result.data_hash[:12]}`"
        + (f", synced {result.data_synced_at.isoformat(timespec='minutes')}" if result.data_synced_at else "")
        + f"; {result.recorded} new decision record(s).",
    ]
    if result.without_gate:
        lines.append(f"No reviewable gate: {', '.join(result.without_gate)}.")
    lines += ["", _cut(portfolio_rows(result), "projects")]
    return "\n".join(lines)


# ---- root-cause analysis ---------------------------------------------------------------------------


def rca_rows(report: RcaReport) -> list[dict[str, Any]]:
    rows = []
    for p in sorted(report.delayed, key=lambda p: -(p.slip_days or 0)):
        top = p.causes[0] if p.causes else None
        rows.append(
            {
                "project": p.key,
                "slip days": round(p.slip_days, 1) if p.slip_days is not None else None,
                "top cause": top.cause if top else "",
                "share": round(top.share, 2) if top else None,
                "causes": [c.cause for c in p.causes],
                "remedies": [r.title for r in p.remedies],
            }
        )
    return rows


def rca_markdown(report: RcaReport) -> str:
    delayed = sorted(report.delayed, key=lambda p: -(p.slip_days or 0))
    lines = [
        f"# Delay root causes {report.period}",
        "",
        f"**{len(delayed)} of {len(report.projects)} project(s) delayed** (as of {report.today.isoformat()}).",
    ]
    for p in delayed[:MAX_MARKDOWN_ROWS]:
        slip = f"{p.slip_days:.0f} days late" if p.slip_days is not None else "behind plan"
        lines += ["", f"## {p.key} {p.name}: {slip}"]
        lines += [f"- **{c.cause}** ({c.share:.0%} of the slip): {c.evidence.summary}" for c in p.causes[:3]]
        if p.remedies:
            lines.append("- remedies: " + "; ".join(r.title for r in p.remedies[:3]))
    if len(delayed) > MAX_MARKDOWN_ROWS:
        lines.append(f"\n_{len(delayed) - MAX_MARKDOWN_ROWS} more delayed projects in the table artifact._")
    return "\n".join(lines)
