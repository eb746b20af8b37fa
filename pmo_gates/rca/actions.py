"""Root-cause analysis -> the corrective-action ledger and the anchor-issue comments.

One ticket per delayed project per month (fingerprint: ``delay-root-cause`` x project x ``YYYY-MM``),
updated in place by later runs in the same month; a project no longer delayed that month gets a
``passing`` request, so its ticket resolves. The comment on the anchor issue is kept per month too.
"""

from __future__ import annotations

from pmo_gates.actions.requests import ActionRequest, CommentRequest
from pmo_gates.rca.analyse import ProjectAnalysis, RcaReport
from pmo_gates.rca.comment import rca_comment_blocks
from pmo_gates.rules.fingerprints import fingerprint

RCA_RULE_ID = "delay-root-cause"
RCA_TITLE = "Delay root-cause analysis"
SEVERE_SLIP_DAYS = 30


RcaComment = CommentRequest  # the anchor-issue comment of one delayed project and month


def rca_fingerprint(project_key: str, period: str) -> str:
    return fingerprint(RCA_RULE_ID, project_key, period)


def rca_action_requests(report: RcaReport) -> list[ActionRequest]:
    """One request per project for this month's ticket (failing when delayed, passing otherwise), and one
    resolving last month's ticket: this month's analysis supersedes it, so a project has one open at most."""
    requests = []
    for project in report.projects:
        if project.slip_days is None and not project.delayed:
            continue  # not judged (no plan, or not started): leave any ticket as it is
        requests.append(_request(project))
        last = previous_period(project.period)
        requests.append(
            ActionRequest(
                fingerprint=rca_fingerprint(project.key, last),
                kind="rca",
                rule_id=RCA_RULE_ID,
                project_key=project.key,
                period=last,
                status="passing",
                outcome=f"superseded by the {project.period} analysis",
                title=RCA_TITLE,
                summary=f"[PMO] {project.key}: delay {last}",
            )
        )
    return requests


def previous_period(period: str) -> str:
    """'2026-01' -> '2025-12'."""
    year, month = (int(part) for part in period.split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def _request(project: ProjectAnalysis) -> ActionRequest:
    base = {
        "fingerprint": rca_fingerprint(project.key, project.period),
        "kind": "rca",
        "rule_id": RCA_RULE_ID,
        "project_key": project.key,
        "period": project.period,
        "rollout": "mandatory",
        "title": RCA_TITLE,
        "owner": project.manager_id,
    }
    if not project.delayed:
        return ActionRequest(
            **base, status="passing", outcome="on_time", summary=f"[PMO] {project.key}: delay {project.period}"
        )
    top = project.causes[0] if project.causes else None
    slip = f"{project.slip_days:.0f} days late" if project.slip_days is not None else "behind plan"
    headline = f"top cause: {top.title}" if top else "cause to be analysed by hand"
    return ActionRequest(
        **base,
        status="failing",
        outcome="delayed",
        severity="high" if (project.slip_days or 0) > SEVERE_SLIP_DAYS else "medium",
        summary=f"[PMO] {project.key}: {slip} ({project.period}), {headline}"[:255],
        description=ticket_description(project),
        evidence={
            "slip_days": project.slip_days,
            "spi": project.schedule.spi,
            "forecast_end": str(project.schedule.forecast_end) if project.schedule.forecast_end else None,
            "causes": {cause.cause: cause.share for cause in project.causes},
            "unexplained_days": project.unexplained_days,
        },
        next_steps=[f"{remedy.title}: {remedy.action}" for remedy in project.remedies]
        or ["Review the delay with the PMO: no cause in the catalogue explains it from the Jira data."],
        due_days=14,
    )


def ticket_description(project: ProjectAnalysis) -> str:
    """Plain text (the ledger renders it to wiki markup or ADF): why the project is late and what to do."""
    lines = [f"{project.key} is behind plan ({project.period}):"]
    lines += [f"- {reason}" for reason in project.schedule.reasons]
    if project.causes:
        lines += ["", "Root causes, with the share of the delay each explains:"]
        for rank, cause in enumerate(project.causes, 1):
            lines.append(
                f"{rank}. {cause.title} ({cause.share:.0%} of the delay, confidence {cause.confidence:.0%}): "
                f"{cause.evidence.summary}"
            )
            if cause.evidence.issues:
                lines.append(f"   Issues: {', '.join(cause.evidence.issues)}")
            if cause.evidence.people:
                lines.append(f"   People: {', '.join(cause.evidence.people)}")
    if project.remedies:
        lines += ["", "What the PMO playbook says to do:"]
        lines += [f"- {remedy.title}: {remedy.action}" for remedy in project.remedies]
    return "\n".join(lines)


def rca_comments(report: RcaReport) -> list[CommentRequest]:
    """This month's comment for every delayed project that has an anchor issue."""
    return [
        CommentRequest(
            project_key=project.key,
            anchor_issue_key=project.anchor_issue_key,
            purpose=f"rca:{project.period}",
            blocks=rca_comment_blocks(project),
            reason=f"delayed {project.slip_days or 0:.0f} day(s): root-cause analysis {project.period}",
        )
        for project in report.delayed
        if project.anchor_issue_key
    ]
