"""Activity: how long since anyone reported on the project or moved its work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.builtin.projects import project_records
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import utc, work_issue_criteria
from pmo_gates.store.models import ChangelogItem, Issue


@shared
def last_status_change(ctx: FactContext) -> dict[str, Any]:
    rows = ctx.session.execute(
        select(Issue.project_key, func.max(ChangelogItem.created))
        .join(ChangelogItem, ChangelogItem.issue_id == Issue.id)
        .where(ChangelogItem.field == "status", *work_issue_criteria(ctx))
        .group_by(Issue.project_key)
    )
    return {key: utc(stamp) for key, stamp in rows}


@registry.register(
    "days_since_status_update",
    type=FactType.INTEGER,
    unit="days",
    description="Days since the last status report on the anchor issue or status change of any work issue.",
)
def days_since_status_update(ctx: FactContext) -> dict[str, Any]:
    """A status report is any update of the anchor issue (a comment or an edit of its PMO fields moves its
    updated time); work moves when a work issue changes status. Edits of work issues other than status
    changes do not count: bots and bulk edits touch them without saying anything about progress. Days
    are UTC calendar days, 0 for today (or a replay's future). Null when the project has neither an anchor
    issue nor a status change."""
    changes = last_status_change(ctx)
    out = {}
    for key, record in project_records(ctx).items():
        stamps = [stamp for stamp in (record.anchor_updated, changes.get(key)) if stamp is not None]
        out[key] = max(0, (ctx.today - max(stamps).date()).days) if stamps else None
    return out
