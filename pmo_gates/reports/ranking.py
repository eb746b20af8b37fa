"""The priority ranking section: every project scored by the priority file, best first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pmo_gates.rca.detect import ScheduleStatus
from pmo_gates.reports.models import ChartSpec, Row, Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.priority import PriorityScorer
from pmo_gates.reports.text import listing, plural


def priority_section(
    scorer: PriorityScorer,
    facts: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
    statuses: Mapping[str, ScheduleStatus],
    today: date,
    options: ReportOptions,
) -> Section:
    criteria = scorer.playbook.criteria
    ranked = scorer.rank(facts, today)
    rows: list[Row] = []
    for row in ranked:
        status = statuses.get(row.key)
        rows.append(
            {
                "rank": row.rank,
                "project": row.key,
                "name": names.get(row.key, ""),
                "score": row.score,
                **row.values,
                "delayed": status.delayed if status is not None else None,
            }
        )
    columns = ["rank", "project", "name", "score", *(c.id for c in criteria), "delayed"]
    top = ranked[: options.chart_items]
    chart = ChartSpec(
        key="priority",
        title="Priority ranking: points per criterion",
        kind="barh_stacked",
        categories=[row.key for row in top],
        series={c.label: [row.points[c.id] for row in top] for c in criteria},
        xlabel="score (0-100)",
        note=f"top {len(top)} of {len(ranked):,} projects" if len(ranked) > len(top) else "",
    )
    weights = ", ".join(f"{c.label} (weight {c.weight:g})" for c in criteria)
    summary = [
        f"{plural(len(ranked), 'project')} ranked on {plural(len(criteria), 'criterion', 'criteria')}: {weights}."
    ]
    if ranked:
        leaders = [f"{row.key} ({row.score:g})" for row in ranked[:5]]
        summary.append(
            f"Highest priority: **{leaders[0]}**" + (f", then {', '.join(leaders[1:])}." if leaders[1:] else ".")
        )
        late = [row.key for row in ranked[:10] if statuses.get(row.key) and statuses[row.key].delayed]
        if late:
            summary.append(f"Delayed among the top 10 (support first): **{listing(late)}**.")
    return Section(
        key="priority",
        title="Priority ranking",
        intro="Weighted score (0-100) from the priority file (rules/playbooks/priority.yaml): "
        "where resources and support go first.",
        summary=summary,
        tables=[Table(key="priority", title="Priority ranking", columns=columns, rows=rows)],
        charts=[chart],
        figures={
            "projects": len(ranked),
            "criteria": len(criteria),
            "top": ranked[0].key if ranked else None,
        },
    )
