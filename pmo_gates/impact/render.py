"""The impact report for people: a text summary for the terminal, markdown for a pull request or a
Prefect artifact, and flat rows for a table artifact."""

from __future__ import annotations

from typing import Any

from pmo_gates.impact.compare import ImpactReport


def summary_line(report: ImpactReport) -> str:
    changed = len(report.projects)
    return (
        f"{report.projects_compared} projects compared: {changed} with changed findings or decisions, "
        f"{report.decisions_changed} gate decision{'s' if report.decisions_changed != 1 else ''} changed"
    )


def rows(report: ImpactReport) -> list[dict[str, Any]]:
    """One row per changed finding or decision."""
    out: list[dict[str, Any]] = []
    for project in report.projects:
        if project.decision is not None:
            d = project.decision
            out.append(
                {
                    "project": project.project_key,
                    "what": f"gate {d.gate_after or d.gate_before}",
                    "before": f"{d.decision_before} ({d.score_before})" if d.decision_before else "-",
                    "after": f"{d.decision_after} ({d.score_after})" if d.decision_after else "-",
                    "why": d.why,
                }
            )
        for f in project.findings:
            out.append(
                {
                    "project": project.project_key,
                    "what": f.rule_id,
                    "before": f.before or "-",
                    "after": f.after or "-",
                    "why": f.why,
                }
            )
    return out


def render_text(report: ImpactReport) -> str:
    lines = [f"Rule-change impact: {report.base} -> {report.head}"]
    for rule_id, parts in report.rule_changes.items():
        lines.append(f"  changed {rule_id}: {', '.join(parts)}")
    if not report.rule_changes:
        lines.append("  no rule or gate definition changed")
    for row in rows(report):
        lines.append(f"{row['project']:<10} {row['what']:<40} {row['before']} -> {row['after']}   why: {row['why']}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def render_markdown(report: ImpactReport) -> str:
    lines = [f"## Rule-change impact: `{report.base}` -> `{report.head}`", "", summary_line(report) + ".", ""]
    if report.rule_changes:
        lines += ["**Changed definitions**", ""]
        lines += [f"- `{rule_id}`: {', '.join(parts)}" for rule_id, parts in report.rule_changes.items()]
        lines.append("")
    table = rows(report)
    if table:
        lines += ["| project | rule / gate | before | after | why |", "|---|---|---|---|---|"]
        for row in table:
            cells = [str(row[c]).replace("|", "\\|") for c in ("project", "what", "before", "after", "why")]
            lines.append("| " + " | ".join(cells) + " |")
    else:
        lines.append("_No project's findings or gate decisions change._")
    return "\n".join(lines) + "\n"
