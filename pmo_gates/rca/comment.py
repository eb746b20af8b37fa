"""The root-cause analysis of one project as a Jira comment (wiki markup, as v2 and Data Center take it).

It reads top-down the way a project manager would: how late, why (ranked causes with the share of the
delay each explains), the evidence to check in Jira, and what the PMO's playbook says to do.
"""

from __future__ import annotations

import re

from pmo_gates.rca.analyse import ProjectAnalysis

# Characters that start wiki-markup effects when they appear in free text (names, statuses, summaries).
# A dash only matters where it could open strikethrough (-text-), i.e. after a space and before a word.
_SPECIAL = re.compile(r"([\\{}\[\]|*_^~+?]|(?<!\S)-(?=\S))")


def escape(text: str) -> str:
    """``text`` with wiki-markup characters escaped, so a status like ``QA|UAT`` cannot break a table."""
    return _SPECIAL.sub(r"\\\1", text)


def render_rca_comment(analysis: ProjectAnalysis) -> str:
    """The comment posted on the project's anchor issue (Jira wiki markup)."""
    schedule = analysis.schedule
    lines = [f"h3. Delay root-cause analysis {analysis.period}"]
    if not analysis.delayed:
        lines.append(f"*{analysis.key}* is within the PMO's schedule tolerance: no delay to analyse.")
        return _finish(lines, analysis)
    lines.append(f"*{analysis.key}* is *{_days(analysis.slip_days)}* behind plan.")
    lines += [f"* {escape(reason)}" for reason in schedule.reasons]
    if not analysis.causes:
        lines.append("")
        lines.append("No cause in the PMO's catalogue explains this delay from the synced data: review it by hand.")
        return _finish(lines, analysis)
    lines += ["", "h4. Causes", "||#||Cause||Share of delay||Est. days||What we found||"]
    for rank, cause in enumerate(analysis.causes, 1):
        lines.append(
            f"|{rank}|{escape(cause.title)} ({{{{{cause.cause}}}}})|{cause.share:.0%}|{cause.impact_days:.1f}|"
            f"{escape(cause.evidence.summary)}|"
        )
    lines += ["", "h4. Evidence"]
    for cause in analysis.causes:
        evidence = cause.evidence
        lines.append(f"*{escape(cause.title)}*")
        if evidence.people:
            lines.append(f"People: {escape(', '.join(evidence.people))}")
        if evidence.projects:
            lines.append(f"Other projects: {escape(', '.join(evidence.projects))}")
        lines += [f"* {escape(item)}" for item in evidence.details]
        cited = " ".join(evidence.details)
        uncited = [key for key in evidence.issues if key not in cited]
        if uncited:
            lines.append(f"Issues: {escape(', '.join(uncited))}")
        lines.append("")
    if analysis.remedies:
        lines.append("h4. What to do (PMO playbook)")
        for remedy in analysis.remedies:
            answers = ", ".join(remedy.causes)
            lines.append(f"# *{escape(remedy.title)}* ({escape(answers)}): {escape(remedy.action)}")
    return _finish(lines, analysis)


def _days(value: float | None) -> str:
    return "an unknown number of days" if value is None else f"{value:.0f} days"


def _finish(lines: list[str], analysis: ProjectAnalysis) -> str:
    # No run date in the text: a re-run on unchanged data must leave the comment as it is.
    lines += ["", f"_Computed by pmo-gates from the synced Jira data; kept up to date here for {analysis.period}._"]
    return "\n".join(line.rstrip() for line in lines).strip() + "\n"
