"""The project records every metadata fact reads: one query over ``projects`` joined to its anchor issue."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import utc, utc_day
from pmo_gates.store.models import ChangelogItem, Issue, Project

PHASES = ("initiation", "planning", "execution", "closure", "closed")
GATES = ("initiation", "planning", "execution", "closure")

# Jira phase values vary ("Initiating", "In Execution", "Closed - done"); the word stem decides.
_PHASE_STEMS = (
    ("initiat", "initiation"),
    ("plan", "planning"),
    ("execut", "execution"),
    ("closure", "closure"),
    ("closing", "closure"),
    ("closed", "closed"),
    ("complete", "closed"),
    ("done", "closed"),
)


def normalise_phase(raw: str | None) -> str | None:
    """One of :data:`PHASES` for a Jira phase value, or None when it names none of them."""
    if not raw:
        return None
    for word in re.findall(r"[a-z]+", raw.lower()):
        for stem, phase in _PHASE_STEMS:
            if word.startswith(stem):
                return phase
    return None


@dataclass(frozen=True)
class ProjectRecord:
    key: str
    phase: str | None
    raw_phase: str | None
    planned_start: date | None
    planned_end: date | None
    baseline_date: date | None
    budget: float | None
    actual_cost: float | None
    hourly_rate: float | None
    project_manager_id: str | None
    project_manager_name: str | None
    strategic_value: float | None
    expected_roi: float | None
    charter_url: str | None
    budget_approved: bool | None
    lessons_learned: str | None
    anchor_created: datetime | None
    anchor_updated: datetime | None
    phase_changed: datetime | None

    @property
    def closed(self) -> bool:
        return self.phase == "closed"


@shared
def project_records(ctx: FactContext) -> dict[str, ProjectRecord]:
    anchor = aliased(Issue)
    rows = ctx.session.execute(
        select(Project, anchor.created, anchor.updated)
        .outerjoin(anchor, anchor.key == Project.anchor_issue_key)
        .where(ctx.in_scope(Project.key))
    ).all()
    changed = _phase_changes(ctx)
    records = {}
    for project, created, updated in rows:
        records[project.key] = ProjectRecord(
            key=project.key,
            phase=normalise_phase(project.phase),
            raw_phase=project.phase,
            planned_start=project.planned_start,
            planned_end=project.planned_end,
            baseline_date=project.baseline_date,
            budget=project.budget,
            actual_cost=project.actual_cost,
            hourly_rate=project.hourly_rate,
            project_manager_id=project.project_manager_id or None,
            project_manager_name=project.project_manager_name or None,
            strategic_value=project.strategic_value,
            expected_roi=project.expected_roi,
            charter_url=project.charter_url,
            budget_approved=project.budget_approved,
            lessons_learned=project.lessons_learned,
            anchor_created=utc(created),
            anchor_updated=utc(updated),
            phase_changed=changed.get(project.key),
        )
    return records


def _phase_changes(ctx: FactContext) -> dict[str, datetime]:
    """The last change of the phase field recorded on each anchor issue's changelog."""
    names = [name.lower() for name in ctx.params.phase_field_names]
    rows = ctx.session.execute(
        select(Project.key, func.max(ChangelogItem.created))
        .join(Issue, Issue.key == Project.anchor_issue_key)
        .join(ChangelogItem, ChangelogItem.issue_id == Issue.id)
        .where(ctx.in_scope(Project.key), func.lower(ChangelogItem.field).in_(names))
        .group_by(Project.key)
    )
    return {key: stamp for key, stamp in ((key, utc(stamp)) for key, stamp in rows) if stamp is not None}


def phase_start(record: ProjectRecord) -> date | None:
    """When the current phase began: last phase change, else the phase baseline date, else anchor creation."""
    if record.phase_changed is not None:
        return record.phase_changed.date()
    if record.baseline_date is not None:
        return record.baseline_date
    return utc_day(record.anchor_created)
