"""Cost analysis: budget against actual cost and earned value per project, and for the portfolio.

Every figure is an EVM fact (docs/facts.md), so this report and the PMO's cost rules agree. The portfolio
CPI is sum(EV) / sum(AC), weighting projects by their size rather than averaging their ratios.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pmo_gates.reports.models import ChartSpec, Row, Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.text import listing, number, plural, rounded

FACTS = ("budget", "ac", "ev", "pv", "cpi", "spi", "eac")
COLUMNS = [
    "project",
    "name",
    "budget",
    "actual_cost",
    "earned_value",
    "planned_value",
    "cpi",
    "spi",
    "eac",
    "vac",
    "over_budget",
]


@dataclass(frozen=True)
class CostLine:
    key: str
    name: str
    budget: float
    actual: float | None
    earned: float | None
    planned: float | None
    cpi: float | None
    spi: float | None
    eac: float | None

    @classmethod
    def of(cls, key: str, name: str, facts: Mapping[str, Any]) -> CostLine:
        return cls(
            key,
            name,
            facts["budget"],
            facts.get("ac"),
            facts.get("ev"),
            facts.get("pv"),
            facts.get("cpi"),
            facts.get("spi"),
            facts.get("eac"),
        )

    @property
    def vac(self) -> float | None:
        return self.budget - self.eac if self.eac is not None else None

    @property
    def over_budget(self) -> bool | None:
        if self.vac is not None:
            return self.vac < 0
        # No CPI yet (nothing earned, or no cost known): over budget only once the money is spent.
        return self.actual > self.budget if self.actual is not None else None

    def row(self) -> Row:
        return {
            "project": self.key,
            "name": self.name,
            "budget": rounded(self.budget, 2),
            "actual_cost": rounded(self.actual, 2),
            "earned_value": rounded(self.earned, 2),
            "planned_value": rounded(self.planned, 2),
            "cpi": rounded(self.cpi, 3),
            "spi": rounded(self.spi, 3),
            "eac": rounded(self.eac, 2),
            "vac": rounded(self.vac, 2),
            "over_budget": self.over_budget,
        }


def totals(lines: list[CostLine]) -> dict[str, Any]:
    budget = sum((line.budget for line in lines), 0.0)
    # CPI only over projects where both sides are known: a project with cost but no EV (no work issues)
    # would otherwise drag the ratio down for a reason that is not performance.
    measured = [line for line in lines if line.earned is not None and line.actual is not None]
    measured_actual = sum(line.actual or 0.0 for line in measured)
    # A project without an EAC yet is forecast at its budget, so the portfolio EAC covers every budget.
    eac = sum((line.eac if line.eac is not None else line.budget for line in lines), 0.0)
    return {
        "projects_with_budget": len(lines),
        "budget": round(budget, 2),
        "actual_cost": round(sum((line.actual or 0.0 for line in lines), 0.0), 2),
        "earned_value": round(sum((line.earned or 0.0 for line in lines), 0.0), 2),
        "cpi": round(sum(line.earned or 0.0 for line in measured) / measured_actual, 3) if measured_actual else None,
        "eac": round(eac, 2),
        "vac": round(budget - eac, 2),
        "over_budget_projects": sum(1 for line in lines if line.over_budget),
    }


def cost_section(facts: Mapping[str, Mapping[str, Any]], names: Mapping[str, str], options: ReportOptions) -> Section:
    lines = [CostLine.of(key, names.get(key, ""), facts[key]) for key in facts if facts[key].get("budget") is not None]
    # Worst cost performance first; projects without a CPI yet after those with one.
    lines.sort(key=lambda line: (line.cpi is None, line.cpi or 0.0, line.key))
    figures = totals(lines)
    over = [line.key for line in lines if line.over_budget]
    cpi = figures["cpi"]
    summary = [
        f"{plural(len(lines), 'project')} with a budget: budget {number(figures['budget'])}, actual cost "
        f"{number(figures['actual_cost'])}, earned value {number(figures['earned_value'])}.",
        f"Portfolio CPI **{'n/a' if cpi is None else f'{cpi:.2f}'}**; estimate at completion "
        f"{number(figures['eac'])} (variance at completion {number(figures['vac'])}).",
    ]
    if over:
        summary.append(f"**{plural(len(over), 'project')} over budget** (forecast above budget): {listing(over)}.")
    top = lines[: options.chart_items]
    chart = ChartSpec(
        key="cost",
        title="Budget, actual cost, earned value and forecast (worst CPI first)",
        kind="bar_grouped",
        categories=[line.key for line in top],
        series={
            "budget": [line.budget for line in top],
            "actual cost": [line.actual or 0.0 for line in top],
            "earned value": [line.earned or 0.0 for line in top],
            "estimate at completion": [line.eac or 0.0 for line in top],
        },
        ylabel="currency",
        note=f"the {len(top)} projects with the lowest CPI of {len(lines):,}" if len(lines) > len(top) else "",
    )
    return Section(
        key="cost",
        title="Cost analysis",
        intro="Budget (BAC), actual cost (AC), earned value (EV), CPI = EV / AC, SPI = EV / PV, "
        "EAC = BAC / CPI and VAC = BAC - EAC per project with a budget.",
        summary=summary,
        tables=[Table(key="cost", title="Cost analysis", columns=COLUMNS, rows=[line.row() for line in lines])],
        charts=[chart],
        figures=figures,
    )
