"""Quality analysis: reopen rate and defect share per project, flagged above the PMO's alert levels.

Both are facts (``reopen_rate``, ``reopened_issues``, ``defect_share``), so the report and the quality
rules count reopens and defects the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import median
from typing import Any

from pmo_gates.reports.models import ChartSpec, Row, Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.text import listing, plural, rounded

FACTS = ("total_issues", "reopened_issues", "reopen_rate", "defect_share")
COLUMNS = ["project", "name", "work_items", "reopened_issues", "reopen_rate", "defect_share", "alerts"]


@dataclass(frozen=True)
class QualityLine:
    key: str
    name: str
    work_items: int
    reopened: int
    reopen_rate: float | None
    defect_share: float | None
    alerts: tuple[str, ...]

    @classmethod
    def of(cls, key: str, name: str, facts: Mapping[str, Any], options: ReportOptions) -> QualityLine:
        reopen, defects = rounded(facts.get("reopen_rate"), 3), rounded(facts.get("defect_share"), 3)
        found = []
        if (reopen or 0.0) > options.reopen_alert:
            found.append("reopen rate")
        if (defects or 0.0) > options.defect_alert:
            found.append("defect share")
        return cls(
            key, name, int(facts["total_issues"]), int(facts.get("reopened_issues") or 0), reopen, defects, tuple(found)
        )

    def row(self) -> Row:
        return {
            "project": self.key,
            "name": self.name,
            "work_items": self.work_items,
            "reopened_issues": self.reopened,
            "reopen_rate": self.reopen_rate,
            "defect_share": self.defect_share,
            "alerts": ", ".join(self.alerts),
        }


def quality_section(
    facts: Mapping[str, Mapping[str, Any]], names: Mapping[str, str], options: ReportOptions
) -> Section:
    # A project without work items has no quality to speak of.
    lines = [QualityLine.of(key, names.get(key, ""), f, options) for key, f in facts.items() if f.get("total_issues")]
    # Projects with alerts first, then the most reopens (rework is the costlier signal).
    lines.sort(key=lambda q: (not q.alerts, -(q.reopen_rate or 0.0), -(q.defect_share or 0.0), q.key))
    flagged = [q.key for q in lines if q.alerts]
    thresholds = f"reopen rate above {options.reopen_alert:.0%}, defect share above {options.defect_alert:.0%}"
    summary = [
        f"**{plural(len(flagged), 'project')}** of {len(lines):,} above the alert levels ({thresholds})"
        + (f": {listing(flagged)}." if flagged else ".")
    ]
    rates = sorted(q.reopen_rate for q in lines if q.reopen_rate is not None)
    if rates:
        summary.append(
            f"Median reopen rate {median(rates):.0%} over {plural(len(rates), 'project')} with resolved work."
        )
    top = lines[: options.chart_items]
    chart = ChartSpec(
        key="quality",
        title="Reopen rate and defect share (%)",
        kind="bar_grouped",
        categories=[q.key for q in top],
        series={
            "reopen rate": [100.0 * (q.reopen_rate or 0.0) for q in top],
            "defect share": [100.0 * (q.defect_share or 0.0) for q in top],
        },
        targets={"reopen alert": 100.0 * options.reopen_alert, "defect alert": 100.0 * options.defect_alert},
        # Each alert line in the colour of the bars it applies to.
        colors={
            "reopen rate": "#1f77b4",
            "reopen alert": "#1f77b4",
            "defect share": "#ff7f0e",
            "defect alert": "#ff7f0e",
        },
        ylabel="%",
        note=f"{len(top)} of {len(lines):,} projects, alerts first" if len(lines) > len(top) else "",
    )
    return Section(
        key="quality",
        title="Quality analysis",
        intro="Reopen rate: work items reopened after being done, per item ever resolved. Defect share: "
        "defects (bugs) among all work items.",
        summary=summary,
        tables=[Table(key="quality", title="Quality per project", columns=COLUMNS, rows=[q.row() for q in lines])],
        charts=[chart],
        figures={
            "projects": len(lines),
            "projects_with_alerts": len(flagged),
            "reopen_alerts": sum(1 for q in lines if "reopen rate" in q.alerts),
            "defect_alerts": sum(1 for q in lines if "defect share" in q.alerts),
        },
    )
