"""Governance records pmo-gates keeps itself: corrective actions (the ledger) and root-cause analyses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import count_where, day_of, ratio, utc_day
from pmo_gates.store.models import ActionTicket, RcaResult

OPEN = "open"
RESOLVED = "resolved"


@shared
def ledger(ctx: FactContext) -> dict[str, tuple[int, int, int, int]]:
    """Per project: (open, open past due, resolved with a due date, of those resolved on time)."""
    has_due = ActionTicket.due_date.is_not(None)
    resolved = [ActionTicket.state == RESOLVED, has_due, ActionTicket.resolved_at.is_not(None)]
    rows = ctx.session.execute(
        select(
            ActionTicket.project_key,
            count_where(ActionTicket.state == OPEN),
            count_where(ActionTicket.state == OPEN, has_due, ActionTicket.due_date < ctx.today),
            count_where(*resolved),
            count_where(*resolved, day_of(ctx, ActionTicket.resolved_at) <= ActionTicket.due_date),
        )
        .where(ctx.in_scope(ActionTicket.project_key))
        .group_by(ActionTicket.project_key)
    )
    return {key: (int(a), int(b), int(c), int(d)) for key, a, b, c, d in rows}


@registry.register(
    "open_corrective_actions",
    type=FactType.INTEGER,
    unit="tickets",
    nullable=False,
    default=0,
    description="Corrective-action tickets of the project still open in the ledger.",
)
def open_corrective_actions(ctx: FactContext) -> dict[str, Any]:
    """Both rule findings and root-cause tickets count."""
    return {key: row[0] for key, row in ledger(ctx).items()}


@registry.register(
    "overdue_corrective_actions",
    type=FactType.INTEGER,
    unit="tickets",
    nullable=False,
    default=0,
    description="Open corrective-action tickets whose due date is before today.",
)
def overdue_corrective_actions(ctx: FactContext) -> dict[str, Any]:
    """A ticket due today is not overdue yet; a ticket without a due date never is."""
    return {key: row[1] for key, row in ledger(ctx).items()}


@registry.register(
    "corrective_actions_closed_on_time_pct",
    type=FactType.NUMBER,
    unit="%",
    description="Resolved corrective actions with a due date that were resolved on or before it (0-100).",
)
def corrective_actions_closed_on_time_pct(ctx: FactContext) -> dict[str, Any]:
    """Resolution days are UTC calendar days. Null when no ticket with a due date was ever resolved."""
    out = {}
    for key, (_, _, resolved, on_time) in ledger(ctx).items():
        share = ratio(on_time, resolved)
        out[key] = None if share is None else 100.0 * share
    return out


@shared
def last_rca(ctx: FactContext) -> dict[str, Any]:
    rows = ctx.session.execute(
        select(RcaResult.project_key, func.max(RcaResult.analysed_at))
        .where(ctx.in_scope(RcaResult.project_key))
        .group_by(RcaResult.project_key)
    )
    return {key: utc_day(stamp) for key, stamp in rows}


@registry.register(
    "days_since_last_rca",
    type=FactType.INTEGER,
    unit="days",
    description="Days since the project's last delay root-cause analysis.",
)
def days_since_last_rca(ctx: FactContext) -> dict[str, Any]:
    """Null when it was never analysed; 0 when analysed today (or, in a replay, after today)."""
    return {key: max(0, (ctx.today - day).days) for key, day in last_rca(ctx).items() if day is not None}
