"""People: who on a project is overloaded across the whole portfolio."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import count_where, is_open, work_issue_criteria
from pmo_gates.store.models import Issue


@shared
def overloaded_people(ctx: FactContext) -> dict[str, list[str]]:
    """Per project in scope, the sorted account ids of its overloaded assignees.

    Load is counted over the whole store, not just the projects in scope: a person's other projects
    weigh on them whether or not this run looks at them.
    """
    rows = ctx.session.execute(
        select(Issue.assignee_id, Issue.project_key, count_where(Issue.status_category == "indeterminate"))
        .where(Issue.assignee_id.is_not(None), is_open(), *work_issue_criteria(ctx, in_scope=False))
        .group_by(Issue.assignee_id, Issue.project_key)
    ).all()
    wip: dict[str, int] = defaultdict(int)
    projects: dict[str, set[str]] = defaultdict(set)
    for person, project, in_progress in rows:
        wip[person] += int(in_progress)
        projects[person].add(project)
    overloaded = {
        person
        for person in projects
        if wip[person] > ctx.params.wip_limit or len(projects[person]) > ctx.params.max_projects_per_person
    }
    scope = set(ctx.projects)
    out: dict[str, list[str]] = defaultdict(list)
    for person in sorted(overloaded):
        for project in projects[person] & scope:
            out[project].append(person)
    return dict(out)


@registry.register(
    "overloaded_assignees",
    type=FactType.INTEGER,
    unit="people",
    nullable=False,
    default=0,
    description="People with open work here whose portfolio-wide WIP exceeds wip_limit or who have open "
    "work in more than max_projects_per_person projects.",
)
def overloaded_assignees(ctx: FactContext) -> dict[str, Any]:
    """WIP is a person's work issues in an in-progress (indeterminate) status across every project in
    the store; the spread counts projects where they have any open work issue. 0 without open assigned
    work."""
    return {key: len(people) for key, people in overloaded_people(ctx).items()}


@registry.register(
    "overloaded_assignee_ids",
    type=FactType.STRING_LIST,
    nullable=False,
    default=[],
    description="Account ids of the people counted in overloaded_assignees, sorted.",
)
def overloaded_assignee_ids(ctx: FactContext) -> dict[str, Any]:
    """Evidence for findings and root causes; an empty list when nobody is overloaded."""
    return overloaded_people(ctx)
