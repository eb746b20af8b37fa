"""What a fact function gets: the store session, the projects in scope, ``today`` and the thresholds.

Facts never read the wall clock: ``today`` is given, so a replay or a test pinned to a date gets the same
answers every time. Computations that several facts share (one GROUP BY feeding ten facts, one changelog
walk feeding five) run once per context through :func:`shared`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import Session

T = TypeVar("T")


class FactThresholds(BaseModel):
    """The ``facts:`` section of the config: thresholds and names the facts depend on; the defaults suit a
    Jira with standard issue and link types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wip_limit: int = Field(5, ge=1, description="In-progress issues one person may carry across the portfolio.")
    max_projects_per_person: int = Field(
        3, ge=1, description="Projects one person may have open work in before counting as spread too thin."
    )
    throughput_window_days: int = Field(
        42, ge=1, description="Days of resolved work (ending today) that set the throughput for forecasts."
    )
    stale_status_days: int = Field(14, ge=1, description="An open issue unchanged in status this long is stale.")
    default_hourly_rate: float | None = Field(
        None, ge=0, description="Cost per logged hour when the project sets no Hourly Rate; None: no default."
    )
    forecast_basis: Literal["issues", "points"] = Field(
        "issues", description="Forecast remaining work in issues or in story points (points fall back to issues)."
    )
    blocking_link_types: tuple[str, ...] = Field(
        ("Blocks",), description="Link types whose outward side blocks the inward side (case-insensitive)."
    )
    risk_issue_types: tuple[str, ...] = Field(("Risk",), description="Issue types that make up the risk register.")
    defect_issue_types: tuple[str, ...] = Field(("Bug",), description="Issue types counted as defects.")


class FactParams(FactThresholds):
    """Everything the facts depend on: the config's thresholds plus names the config keeps elsewhere
    (``portfolio.anchor_issue_type``, ``fields.phase``); see ``Settings.fact_params``."""

    anchor_issue_type: str = Field("Project", description="Issue type of the anchor issue holding PMO metadata.")
    phase_field_names: tuple[str, ...] = Field(
        ("PMO Phase",), description="Changelog field names of the phase field (phase changes on the anchor)."
    )


@dataclass
class FactContext:
    """One computation of facts: read-only access to the store as of ``today``."""

    session: Session
    projects: tuple[str, ...]
    today: date
    params: FactParams = field(default_factory=FactParams)
    # True when ``projects`` is every project in the store, so queries can skip the IN filter.
    all_projects: bool = False
    _memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    @property
    def as_of(self) -> datetime:
        """The end of ``today`` (UTC): the instant durations run up to."""
        return datetime.combine(self.today + timedelta(days=1), time.min, tzinfo=UTC)

    def in_scope(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        """A criterion keeping rows of the projects in scope (no-op when every project is)."""
        if self.all_projects:
            return true()
        return column.in_(self.projects)

    def memo(self, fn: Callable[[FactContext], T]) -> T:
        """``fn(self)``, computed once per context; a failure too is kept and raised again, so ten facts
        fed by one failing computation do not run it ten times."""
        if fn not in self._memo:
            try:
                self._memo[fn] = fn(self)
            except Exception as exc:
                self._memo[fn] = _Failed(exc)
        value = self._memo[fn]
        if isinstance(value, _Failed):
            raise value.error
        return value

    def narrowed(self, projects: tuple[str, ...]) -> FactContext:
        """The same computation for some of the projects (to tell which one a failure comes from); kept,
        so the facts narrowed to the same projects share their computations."""
        key = ("narrowed", projects)
        if key not in self._memo:
            self._memo[key] = FactContext(session=self.session, projects=projects, today=self.today, params=self.params)
        return self._memo[key]


@dataclass(frozen=True)
class _Failed:
    error: Exception


def shared(fn: Callable[[FactContext], T]) -> Callable[[FactContext], T]:
    """Make ``fn(ctx)`` run once per context, however many facts read it."""

    @functools.wraps(fn)
    def once(ctx: FactContext) -> T:
        return ctx.memo(fn)

    return once
