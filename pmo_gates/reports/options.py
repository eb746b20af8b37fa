"""Targets and thresholds of the portfolio reports: the config's ``reports:`` section (less ``out_dir``).

Kept free of other pmo-gates imports: the config model is built on it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ReportOptions(BaseModel):
    """Targets and thresholds of the reports (``reports.*`` in the config)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    on_time_target_pct: float = Field(80, ge=0, le=100, description="Target share of projects on schedule.")
    go_rate_target_pct: float = Field(70, ge=0, le=100, description="Target share of gate reviews ending (C)Go.")
    stale_days: int = Field(30, ge=1, description="Open work with no issue updated this long is stale.")
    ineffective_days: int = Field(30, ge=1, description="Busy, yet nothing resolved in this many days.")
    experience_days: int = Field(90, ge=1, description="Recent window of resolved work in the resource map.")
    reopen_alert: float = Field(0.10, ge=0, le=1, description="Quality alert above this reopen rate.")
    defect_alert: float = Field(0.30, ge=0, le=1, description="Quality alert above this defect share.")
    redundant_min_words: int = Field(
        3, ge=1, description="Shortest summary (in words) compared for redundant work across projects."
    )
    trend_months: int = Field(24, ge=1, le=240, description="Months of stored history in the trends.")
    html_rows: int = Field(100, ge=1, description="Rows of each table shown in the HTML page (all are in CSV).")
    chart_items: int = Field(25, ge=5, le=100, description="Most projects or people drawn in one chart.")
