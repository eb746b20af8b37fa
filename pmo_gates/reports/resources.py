"""The resource map: who works on what, how loaded they are, and what they have delivered.

Three GROUP BY queries over the whole store (load and delivery per person and project, resolved issue
types per person, logged hours per person and project) plus the people's names; never a query per
person or project. Work items and the overload limits are the root-cause analysis's own (its playbook's
``work`` section and ``resource_overload`` parameters), so a person this map calls overloaded is one the
analysis blames for delays.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from pmo_gates.rca.causes import OverloadParams
from pmo_gates.rca.scan import work_issue_filter
from pmo_gates.reports.dates import window_start
from pmo_gates.reports.models import ChartSpec, Row, Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.text import listing, plural
from pmo_gates.rules.facts.queries import count_where
from pmo_gates.store.models import Issue, Person, Worklog


@dataclass
class Cell:
    """One person's work in one project."""

    open: int = 0
    in_progress: int = 0
    resolved: int = 0
    resolved_recent: int = 0
    seconds: int = 0


@dataclass
class PersonWork:
    account_id: str
    name: str
    cells: dict[str, Cell] = field(default_factory=dict)
    resolved_types: Counter[str] = field(default_factory=Counter)

    def total(self, attribute: str) -> int:
        return sum(getattr(cell, attribute) for cell in self.cells.values())

    def projects_where(self, attribute: str) -> list[str]:
        return sorted(key for key, cell in self.cells.items() if getattr(cell, attribute))


def read_people(session: Session, *, today: date, days: int, ignore_issue_types: Sequence[str]) -> list[PersonWork]:
    """Every person with assigned work items or logged hours, with their per-project cells."""
    work = work_issue_filter(Issue, ignore_issue_types)
    is_open = Issue.status_category != "done"
    is_done = Issue.status_category == "done"
    # A done issue without a resolution date was resolved when last touched (as the throughput facts read it).
    recent = func.coalesce(Issue.resolved, Issue.updated) >= window_start(today, days)
    assigned = and_(work, Issue.assignee_id.is_not(None))
    people: dict[str, PersonWork] = {}

    def person(account_id: str | None) -> PersonWork:
        assert account_id is not None  # every query below leaves out rows without a person
        return people.setdefault(account_id, PersonWork(account_id=account_id, name=account_id))

    load = select(
        Issue.assignee_id,
        Issue.project_key,
        count_where(is_open),
        count_where(Issue.status_category == "indeterminate"),
        count_where(is_done),
        count_where(is_done, recent),
    ).where(assigned)
    for account_id, project, open_, wip, done, done_recent in session.execute(
        load.group_by(Issue.assignee_id, Issue.project_key)
    ):
        person(account_id).cells[project] = Cell(int(open_), int(wip), int(done), int(done_recent))
    types = select(Issue.assignee_id, Issue.issue_type, func.count()).where(assigned, is_done)
    for account_id, issue_type, count in session.execute(types.group_by(Issue.assignee_id, Issue.issue_type)):
        person(account_id).resolved_types[issue_type] += int(count)
    hours = (
        select(Worklog.author_id, Issue.project_key, func.sum(Worklog.time_spent_s))
        .join(Issue, Issue.id == Worklog.issue_id)
        .where(Worklog.author_id.is_not(None))
        .group_by(Worklog.author_id, Issue.project_key)
    )
    for account_id, project, seconds in session.execute(hours):
        person(account_id).cells.setdefault(project, Cell()).seconds += int(seconds or 0)
    if people:
        for account_id, name in session.execute(select(Person.account_id, Person.display_name)):
            if account_id in people and name:
                people[account_id].name = name
    return list(people.values())


def over_limits(work: PersonWork, limits: OverloadParams) -> list[str]:
    """The limits ``work`` exceeds, in words (empty: not overloaded)."""
    reasons = []
    open_, wip, projects = work.total("open"), work.total("in_progress"), len(work.projects_where("open"))
    if open_ > limits.max_open_items:
        reasons.append(f"{open_} open > {limits.max_open_items}")
    if wip > limits.max_in_progress:
        reasons.append(f"{wip} in progress > {limits.max_in_progress}")
    if projects > limits.max_projects:
        reasons.append(f"{projects} projects > {limits.max_projects}")
    return reasons


def resources_section(
    session: Session,
    *,
    today: date,
    options: ReportOptions,
    ignore_issue_types: Sequence[str],
    limits: OverloadParams,
) -> Section:
    people = read_people(session, today=today, days=options.experience_days, ignore_issue_types=ignore_issue_types)
    reasons = {p.account_id: over_limits(p, limits) for p in people}
    people.sort(key=lambda p: (not reasons[p.account_id], -p.total("open"), -p.total("resolved"), p.name))
    recent = f"resolved_last_{options.experience_days}d"
    rows: list[Row] = []
    cells: list[Row] = []
    for p in people:
        working_on = p.projects_where("open")
        rows.append(
            {
                "person": p.name,
                "account_id": p.account_id,
                "open": p.total("open"),
                "in_progress": p.total("in_progress"),
                "projects": len(working_on),
                "working_on": ", ".join(working_on),
                "resolved": p.total("resolved"),
                recent: p.total("resolved_recent"),
                "delivered_in_projects": len(p.projects_where("resolved")),
                "hours_logged": round(p.total("seconds") / 3600, 1),
                "experience": ", ".join(f"{kind} x{n}" for kind, n in _by_count(p.resolved_types)[:5]),
                "overloaded": bool(reasons[p.account_id]),
                "over_limits": "; ".join(reasons[p.account_id]),
            }
        )
        for project in sorted(p.cells):
            cell = p.cells[project]
            cells.append(
                {
                    "person": p.name,
                    "account_id": p.account_id,
                    "project": project,
                    "open": cell.open,
                    "in_progress": cell.in_progress,
                    "resolved": cell.resolved,
                    "hours_logged": round(cell.seconds / 3600, 1),
                }
            )
    overloaded = [p.name for p in people if reasons[p.account_id]]
    limits_text = (
        f"over {limits.max_open_items} open items, {limits.max_in_progress} in progress "
        f"or {limits.max_projects} projects"
    )
    summary = [
        f"**{len(people):,}** people with assigned work or logged hours; **{len(overloaded):,}** "
        f"overloaded ({limits_text})" + (f": {listing(overloaded)}." if overloaded else ".")
    ]
    spread = [p for p in people if len(p.projects_where("open")) > 1]
    if spread:
        summary.append(f"{plural(len(spread), 'person', 'people')} with open work in more than one project.")
    return Section(
        key="resources",
        title="Resource map",
        intro="Open and in-progress work, projects and delivered work per person, from the assigned issues "
        "and worklogs; overloaded by the root-cause analysis's limits.",
        summary=summary,
        tables=[
            Table(key="people", title="People", columns=_people_columns(recent), rows=rows),
            Table(key="people_projects", title="People x projects", columns=_CELLS, rows=cells),
        ],
        charts=[heatmap(people, options.chart_items)],
        figures={"people": len(people), "overloaded": len(overloaded)},
    )


def _people_columns(recent: str) -> list[str]:
    return [
        "person",
        "account_id",
        "open",
        "in_progress",
        "projects",
        "working_on",
        "resolved",
        recent,
        "delivered_in_projects",
        "hours_logged",
        "experience",
        "overloaded",
        "over_limits",
    ]


_CELLS = ["person", "account_id", "project", "open", "in_progress", "resolved", "hours_logged"]


def _by_count(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))


def heatmap(people: list[PersonWork], limit: int) -> ChartSpec:
    """Open items of the most loaded people (rows) in the projects they load most (columns)."""
    busy = sorted((p for p in people if p.total("open")), key=lambda p: (-p.total("open"), p.name))[:limit]
    per_project: Counter[str] = Counter()
    for p in busy:
        for project, cell in p.cells.items():
            per_project[project] += cell.open
    projects = sorted(key for key, _ in _by_count(+per_project)[:limit])
    return ChartSpec(
        key="resources",
        title="Open work items per person and project",
        kind="heatmap",
        categories=[f"{p.name} ({len(p.projects_where('open'))})" for p in busy],
        columns=projects,
        matrix=[[float(p.cells[key].open) if key in p.cells else 0.0 for key in projects] for p in busy],
        xlabel="project",
        ylabel="person (projects with open work)",
        note=f"the {len(busy)} most loaded people" if len(busy) == limit else "",
    )
