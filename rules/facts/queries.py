"""Query building blocks the built-in facts share, written once for SQLite and PostgreSQL alike.

*Work issues* are the issues that make up a project's delivery scope: every issue of the project except
its anchor issue (the one holding the PMO metadata), issues of the anchor issue type, risk-register
entries, and the corrective-action tickets pmo-gates itself opened. Those are recognised by their
``pmo-fp-`` label as well as by the ledger, so a fresh store (before the run adopts them) never counts them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Text, and_, case, cast, extract, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import KeyedColumnElement

from pmo_gates.rules.facts.context import FactContext
from pmo_gates.store.models import ActionTicket, Issue, Project

DONE = "done"
# Every ticket pmo-gates creates carries a ``pmo-fp-<fingerprint>`` label from its first instant (it is in
# the create payload). Matched in the labels' JSON text: a quote, then the prefix, so ``my-pmo-fp-x`` is not.
_OWN_TICKET_LABEL = '%"pmo-fp-%'


def work_issue_criteria(ctx: FactContext, issue: Any = Issue, *, in_scope: bool = True) -> list[Any]:
    """Criteria keeping the work issues (see the module docstring) of the projects in scope.

    ``issue`` may be an alias of :class:`Issue` (e.g. the blocked side of a link)."""
    anchors = select(Project.anchor_issue_key).where(Project.anchor_issue_key.is_not(None))
    tickets = select(ActionTicket.ticket_key).where(ActionTicket.ticket_key.is_not(None))
    excluded_types = [ctx.params.anchor_issue_type, *ctx.params.risk_issue_types]
    criteria = [
        issue.issue_type.not_in(excluded_types),
        issue.key.not_in(anchors),
        issue.key.not_in(tickets),
        ~func.coalesce(cast(issue.labels, Text), "").like(_OWN_TICKET_LABEL),
    ]
    if in_scope:
        criteria.insert(0, ctx.in_scope(issue.project_key))
    return criteria


def is_open(issue: Any = Issue) -> ColumnElement[bool]:
    return issue.status_category != DONE


def count_where(*criteria: ColumnElement[bool]) -> Any:
    """``SUM(CASE WHEN criteria THEN 1 ELSE 0 END)``: a conditional count inside one GROUP BY."""
    return func.coalesce(func.sum(case((and_(*criteria), 1), else_=0)), 0)


def sum_where(value: Any, *criteria: ColumnElement[bool]) -> Any:
    """``SUM(CASE WHEN criteria THEN value ELSE 0 END)``."""
    return func.coalesce(func.sum(case((and_(*criteria), value), else_=0)), 0)


def day_of(ctx: FactContext, column: InstrumentedAttribute[Any] | KeyedColumnElement[Any]) -> Any:
    """The UTC calendar day of a timestamp column, comparable with a ``Date`` column on both dialects.

    SQLite keeps timestamps as UTC text, so ``date()`` cuts the day; PostgreSQL converts to UTC first so
    the session time zone cannot move a timestamp to another day.
    """
    if ctx.dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)


def epoch_seconds(ctx: FactContext, column: InstrumentedAttribute[Any] | KeyedColumnElement[Any]) -> Any:
    """A timestamp column as seconds since 1970 (UTC), computed by the database: floats are far cheaper
    to stream than datetimes when a fact scans hundreds of thousands of rows."""
    if ctx.dialect == "postgresql":
        # EXTRACT gives numeric (Decimal in Python): double precision is exact enough and much cheaper.
        return cast(extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0


def utc(value: datetime | str | None) -> datetime | None:
    """A timestamp read from either dialect as an aware UTC datetime.

    SQLite returns naive UTC datetimes, or ISO text for some aggregates over them."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def utc_day(value: datetime | str | None) -> date | None:
    stamp = utc(value)
    return stamp.date() if stamp else None


def ratio(part: float, whole: float) -> float | None:
    """``part / whole``, or None when ``whole`` is zero (nothing to divide by)."""
    return part / whole if whole else None
