"""Scope growth since the phase baseline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.builtin.projects import project_records
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import count_where, day_of, ratio, work_issue_criteria
from pmo_gates.store.models import Issue, Project


@shared
def baseline_scope(ctx: FactContext) -> dict[str, tuple[int, int]]:
    """Per project with a baseline date: (work issues created on or before it, created after it)."""
    created = day_of(ctx, Issue.created)
    rows = ctx.session.execute(
        select(
            Issue.project_key,
            count_where(created <= Project.baseline_date),
            count_where(created > Project.baseline_date),
        )
        .join(Project, Project.key == Issue.project_key)
        .where(Project.baseline_date.is_not(None), *work_issue_criteria(ctx))
        .group_by(Issue.project_key)
    )
    return {key: (int(before), int(after)) for key, before, after in rows}


@registry.register(
    "issues_added_since_baseline",
    type=FactType.INTEGER,
    unit="issues",
    description="Work issues created after the phase baseline date.",
)
def issues_added_since_baseline(ctx: FactContext) -> dict[str, Any]:
    """Days are UTC calendar days; an issue created on the baseline day is part of the baseline. Null
    without a baseline date."""
    scope = baseline_scope(ctx)
    return {
        key: scope.get(key, (0, 0))[1]
        for key, record in project_records(ctx).items()
        if record.baseline_date is not None
    }


@registry.register(
    "scope_growth_pct",
    type=FactType.NUMBER,
    unit="%",
    description="Work issues created after the phase baseline date per 100 work issues that existed at it.",
)
def scope_growth_pct(ctx: FactContext) -> dict[str, Any]:
    """Issues deleted since the baseline are not known and do not count. Null without a baseline date or
    when no work issue existed at the baseline (nothing to grow from)."""
    out = {}
    for key, (before, after) in baseline_scope(ctx).items():
        share = ratio(after, before)
        out[key] = None if share is None else 100.0 * share
    return out
