"""What the portfolio reports are made of: options, sections (tables, figures, chart data) and the bundle.

Every section module returns a :class:`Section`; ``render`` turns the sections into files, and the
:class:`ReportBundle` is what the CLI and the Prefect flow get back. Table rows hold only JSON-ready
scalars (dates as ISO text), so the same rows go to CSV, to Prefect table artifacts and to ``--json``.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

Cell = str | int | float | bool | None
Row = dict[str, Cell]


class Table(BaseModel):
    """One report table: it becomes ``<key>.csv``, an HTML table and a Prefect table artifact."""

    key: str
    title: str
    columns: list[str]
    rows: list[Row]


class ChartSpec(BaseModel):
    """The data of one chart, drawn by :mod:`pmo_gates.reports.charts` (sections never touch matplotlib).

    ``series`` share ``categories`` (one value per category); a heatmap reads ``matrix`` instead, rows
    ``categories`` by columns ``columns``. ``targets`` are horizontal reference lines by label."""

    key: str  # the PNG file name without extension
    title: str
    kind: Literal["barh_stacked", "bar_stacked", "bar_grouped", "heatmap"]
    categories: list[str] = Field(default_factory=list)
    series: dict[str, list[float]] = Field(default_factory=dict)
    columns: list[str] = Field(default_factory=list)
    matrix: list[list[float]] = Field(default_factory=list)
    xlabel: str = ""
    ylabel: str = ""
    targets: dict[str, float] = Field(default_factory=dict)
    colors: dict[str, str] = Field(default_factory=dict, description="Fixed colours by series name.")
    counts: bool = Field(False, description="The values are counts: whole-number ticks only.")
    note: str = ""  # e.g. "top 25 of 2,000 projects", shown under the title


class Section(BaseModel):
    """One report section as computed; rendering adds nothing but layout."""

    key: str
    title: str
    intro: str = ""
    summary: list[str] = Field(default_factory=list, description="Markdown bullet texts (only **bold**).")
    tables: list[Table] = Field(default_factory=list)
    charts: list[ChartSpec] = Field(default_factory=list)
    figures: dict[str, Any] = Field(default_factory=dict)


class Chart(BaseModel):
    key: str
    title: str
    path: Path


class ReportBundle(BaseModel):
    """Everything one report run produced, with the paths of the files written."""

    today: date
    out_dir: Path
    html_path: Path
    markdown: str
    tables: dict[str, Table]
    charts: list[Chart]
    csv_paths: dict[str, Path]
    sections: dict[str, dict[str, Any]] = Field(description="Headline figures per section.")

    def figures(self) -> dict[str, dict[str, Any]]:
        """Headline figures per section (a copy: callers may change it)."""
        return copy.deepcopy(self.sections)

    def summary(self) -> dict[str, Any]:
        """What ``pmo-gates report --json`` prints: file paths, figures and every table's rows."""
        return {
            "today": self.today.isoformat(),
            "out_dir": str(self.out_dir),
            "html": str(self.html_path),
            "charts": [str(chart.path) for chart in self.charts],
            "csv": {key: str(path) for key, path in self.csv_paths.items()},
            "figures": self.figures(),
            "tables": {key: table.rows for key, table in self.tables.items()},
        }
