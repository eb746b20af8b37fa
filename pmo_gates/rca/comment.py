"""The root-cause analysis of one project as a Jira comment, built once as markup-neutral blocks and rendered
as wiki markup (REST v2, Data Center) or ADF (REST v3, Cloud) by the ledger that posts it.

It reads top-down the way a project manager would: how late, why (ranked causes with the share of the
delay each explains), the evidence to check in Jira, and what the PMO's playbook says to do.
"""

from __future__ import annotations

from pmo_gates.rca.analyse import ProjectAnalysis
from pmo_gates.review.markup import (
    Block,
    BulletList,
    Code,
    Heading,
    Markup,
    NumberedList,
    Paragraph,
    Strong,
    Table,
    render,
    wiki_escape,
)

escape = wiki_escape  # kept under its old name: the escaping rules live with the renderer


def rca_comment_blocks(analysis: ProjectAnalysis) -> list[Block]:
    """The comment posted on the project's anchor issue."""
    blocks: list[Block] = [Heading(text=f"Delay root-cause analysis {analysis.period}")]
    if not analysis.delayed:
        blocks.append(
            Paragraph(
                parts=[Strong(text=analysis.key), " is within the PMO's schedule tolerance: no delay to analyse."]
            )
        )
        return _finish(blocks, analysis)
    blocks.append(
        Paragraph(parts=[Strong(text=analysis.key), " is ", Strong(text=_days(analysis.slip_days)), " behind plan."])
    )
    if analysis.schedule.reasons:
        blocks.append(BulletList(items=[[reason] for reason in analysis.schedule.reasons]))
    if not analysis.causes:
        blocks.append(
            Paragraph(
                parts=["No cause in the PMO's catalogue explains this delay from the synced data: review it by hand."]
            )
        )
        return _finish(blocks, analysis)
    blocks.append(Heading(text="Causes", level=4))
    blocks.append(
        Table(
            header=["#", "Cause", "Share of delay", "Est. days", "Confidence", "What we found"],
            rows=[
                [
                    str(rank),
                    f"{cause.title} ({cause.cause})",
                    f"{cause.share:.0%}",
                    f"{cause.impact_days:.1f}",
                    f"{cause.confidence:.0%}",
                    cause.evidence.summary,
                ]
                for rank, cause in enumerate(analysis.causes, 1)
            ],
        )
    )
    if analysis.unexplained_days and analysis.causes[0].cause != "unexplained":
        blocks.append(
            Paragraph(parts=[f"Not explained by the synced data: {analysis.unexplained_days:.1f} days of the delay."])
        )
    baseline = analysis.scope_baseline
    if baseline.get("source") not in (None, "mapped"):
        blocks.append(Paragraph(parts=[f"Scope baseline: {baseline.get('reason')}."]))
    blocks.append(Heading(text="Evidence", level=4))
    for cause in analysis.causes:
        evidence = cause.evidence
        blocks.append(Paragraph(parts=[Strong(text=cause.title), " (", Code(text=cause.cause), ")"]))
        if evidence.people:
            blocks.append(Paragraph(parts=["People: " + ", ".join(evidence.people)]))
        if evidence.projects:
            blocks.append(Paragraph(parts=["Other projects: " + ", ".join(evidence.projects)]))
        if evidence.details:
            blocks.append(BulletList(items=[[item] for item in evidence.details]))
        cited = " ".join(evidence.details)
        uncited = [key for key in evidence.issues if key not in cited]
        if uncited:
            blocks.append(Paragraph(parts=["Issues: " + ", ".join(uncited)]))
    if analysis.remedies:
        blocks.append(Heading(text="What to do (PMO playbook)", level=4))
        blocks.append(
            NumberedList(
                items=[
                    [Strong(text=remedy.title), f" ({', '.join(remedy.causes)}): {remedy.action}"]
                    for remedy in analysis.remedies
                ]
            )
        )
    return _finish(blocks, analysis)


def render_rca_comment(analysis: ProjectAnalysis, markup: Markup = "wiki") -> str | dict:
    """The comment as Jira takes it: a wiki string, or an ADF document for ``markup="adf"``."""
    return render(rca_comment_blocks(analysis), markup)


def _days(value: float | None) -> str:
    return "an unknown number of days" if value is None else f"{value:.0f} days"


def _finish(blocks: list[Block], analysis: ProjectAnalysis) -> list[Block]:
    # No run date in the text: a re-run on unchanged data must leave the comment as it is.
    note = f"Computed by pmo-gates from the synced Jira data; kept up to date here for {analysis.period}."
    return [*blocks, Paragraph(parts=[note])]
