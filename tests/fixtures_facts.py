"""Builders for hand-made portfolios with known facts: rows go straight into the store models."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert

from pmo_gates.rules.facts import FactParams, compute_facts
from pmo_gates.store import Store
from pmo_gates.store.models import (
    ActionTicket,
    ChangelogItem,
    Issue,
    IssueLink,
    Project,
    RcaResult,
    Worklog,
)

TODAY = date(2026, 11, 2)
CATEGORY = {
    "To Do": "new",
    "Backlog": "new",
    "In Progress": "indeterminate",
    "In Review": "indeterminate",
    "Done": "done",
    "Closed": "done",
}


def at(day: date | str, hour: int = 12, minute: int = 0) -> datetime:
    """Noon UTC (or ``hour``) on ``day``: timestamps away from midnight, so day arithmetic is unambiguous."""
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass
class Portfolio:
    """Collects rows, then :meth:`save` writes them; keys and ids are generated in insertion order."""

    projects: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    worklogs: list[dict[str, Any]] = field(default_factory=list)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    rcas: list[dict[str, Any]] = field(default_factory=list)
    first_id: int = 1  # distinct ranges let two portfolios share one store
    _ids: itertools.count = field(init=False)
    _numbers: dict[str, itertools.count] = field(default_factory=dict)
    _issue_ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(self.first_id)

    def project(self, key: str, *, anchor: bool = False, anchor_updated: datetime | None = None, **fields: Any) -> str:
        """A project with any PMO metadata columns; ``anchor=True`` adds its anchor issue (type Project)."""
        row = dict(
            key=key,
            jira_id=f"jira-{key}",
            name=f"Project {key}",
            metadata_json={},
            synced_at=at(TODAY),
        )
        row.update(fields)
        self.projects.append(row)
        if anchor:
            stamp = anchor_updated or at("2026-01-01")
            row["anchor_issue_key"] = self.issue(key, "To Do", type="Project", created=stamp, updated=stamp)
        return key

    def issue(
        self,
        project: str,
        status: str = "To Do",
        *,
        type: str = "Task",
        created: datetime | None = None,
        updated: datetime | None = None,
        resolved: datetime | None = None,
        points: float | None = None,
        assignee: str | None = None,
        time_spent_s: int | None = None,
        key: str | None = None,
        priority: str | None = None,
        category: str | None = None,
    ) -> str:
        number = next(self._numbers.setdefault(project, itertools.count(1)))
        key = key or f"{project}-{number}"
        issue_id = next(self._ids)
        created = created or at("2026-01-05")
        self._issue_ids[key] = issue_id
        self.issues.append(
            dict(
                id=issue_id,
                key=key,
                project_key=project,
                issue_type=type,
                summary=key,
                status=status,
                status_category=category or CATEGORY[status],
                priority=priority,
                assignee_id=assignee,
                created=created,
                updated=updated or resolved or created,
                resolved=resolved,
                story_points=points,
                time_spent_s=time_spent_s,
                labels=[],
                data_errors=[],
                synced_at=at(TODAY),
            )
        )
        return key

    def link(self, blocker: str, blocked: str, type: str = "Blocks") -> None:
        """``blocker`` <type> ``blocked`` (outward direction, e.g. A blocks B)."""
        self.links.append(
            dict(
                id=str(self.first_id + len(self.links)),
                issue_id=self._issue_ids.get(blocker) or self._issue_ids[blocked],  # synced from either end
                link_type=type,
                from_key=blocker,
                to_key=blocked,
            )
        )

    def move(self, issue: str, when: datetime, from_status: str, to_status: str, field: str = "status") -> None:
        """A changelog item on ``issue`` (a status change by default)."""
        self.changes.append(
            dict(
                issue_id=self._issue_ids[issue],
                history_id=str(self.first_id + len(self.changes)),
                item_index=0,
                created=when,
                field=field,
                from_string=from_status,
                to_string=to_status,
            )
        )

    def worklog(self, issue: str, seconds: int, when: datetime | None = None) -> None:
        self.worklogs.append(
            dict(
                id=str(self.first_id + len(self.worklogs)),
                issue_id=self._issue_ids[issue],
                started=when or at("2026-03-01"),
                time_spent_s=seconds,
            )
        )

    def ticket(
        self,
        project: str,
        state: str = "open",
        *,
        due: date | None = None,
        resolved_at: datetime | None = None,
        ticket_key: str | None = None,
        kind: str = "finding",
    ) -> None:
        n = len(self.tickets) + 1
        self.tickets.append(
            dict(
                fingerprint=f"fp{self.first_id}-{n}",
                kind=kind,
                rule_id=f"rule-{n}",
                project_key=project,
                ticket_key=ticket_key,
                state=state,
                due_date=due,
                resolved_at=resolved_at,
                created_at=at("2026-09-01"),
                updated_at=at("2026-09-01"),
            )
        )

    def rca(self, project: str, analysed_at: datetime, period: str | None = None) -> None:
        self.rcas.append(
            dict(
                project_key=project,
                period=period or analysed_at.strftime("%Y-%m"),
                analysed_at=analysed_at,
                delayed=False,
                causes=[],
                remedies=[],
            )
        )

    def save(self, store: Store) -> Store:
        with store.session() as session:
            for model, rows in (
                (Project, self.projects),
                (Issue, self.issues),
                (IssueLink, self.links),
                (ChangelogItem, self.changes),
                (Worklog, self.worklogs),
                (ActionTicket, self.tickets),
                (RcaResult, self.rcas),
            ):
                if rows:
                    session.execute(insert(model), rows)  # ORM bulk insert: rows may set different columns
        return store


def facts_of(
    store: Store, *names: str, today: date = TODAY, params: FactParams | None = None, projects: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Facts ``names`` (all when none) for every project."""
    return compute_facts(store, today=today, only=list(names) or None, params=params, projects=projects)


def fact(store: Store, name: str, **kwargs: Any) -> dict[str, Any]:
    """One fact for every project: project key -> value."""
    return {key: row[name] for key, row in facts_of(store, name, **kwargs).items()}


def random_portfolio(
    projects: int, issues_per_project: int = 8, seed: int = 1, prefix: str = "R", first_id: int = 1
) -> Portfolio:
    """A seeded mixed portfolio touching every fact: metadata gaps, histories, links, cost, ledger."""
    rng = random.Random(seed)
    people = [f"u{n}" for n in range(max(3, projects // 2))]
    flow = ["To Do", "In Progress", "In Review", "Done"]
    portfolio = Portfolio(first_id=first_id)
    keys: list[str] = []
    for p in range(projects):
        start = TODAY - timedelta(days=rng.randrange(20, 300))
        key = portfolio.project(
            f"{prefix}{p}",
            anchor=rng.random() < 0.8,
            anchor_updated=at(TODAY - timedelta(days=rng.randrange(0, 90))),
            phase=rng.choice(["Initiation", "Planning", "Execution", "Closure", "Closed", None]),
            planned_start=rng.choice([start, None]),
            planned_end=start + timedelta(days=rng.randrange(30, 400)),
            baseline_date=rng.choice([start + timedelta(days=10), None]),
            budget=rng.choice([None, 0.0, 50_000.0, 120_000.0]),
            actual_cost=rng.choice([None, 20_000.0]),
            hourly_rate=rng.choice([None, 90.0]),
            project_manager_id=rng.choice([None, *people]),
        )
        for _ in range(rng.randrange(0, issues_per_project)):
            steps = rng.randrange(0, 4)
            created = at(start + timedelta(days=rng.randrange(0, 15)), rng.randrange(24))
            issue = portfolio.issue(
                key,
                flow[steps],
                type=rng.choice(["Story", "Bug", "Risk"]),
                created=created,
                points=rng.choice([None, 1.0, 3.0]),
                assignee=rng.choice([None, *people]),
                resolved=created + timedelta(days=3 * steps) if steps == 3 else None,
                time_spent_s=rng.choice([None, 3600]),
            )
            for step in range(steps):
                portfolio.move(issue, created + timedelta(days=step + 1, hours=step), flow[step], flow[step + 1])
            if keys and rng.random() < 0.3:
                portfolio.link(rng.choice(keys), issue)
            if rng.random() < 0.3:
                portfolio.worklog(issue, 7200)
            keys.append(issue)
        portfolio.ticket(
            key,
            rng.choice(["open", "resolved"]),
            due=TODAY - timedelta(days=rng.randrange(-5, 5)),
            resolved_at=at(TODAY - timedelta(days=rng.randrange(0, 9))),
        )
        if rng.random() < 0.5:
            portfolio.rca(key, at(TODAY - timedelta(days=rng.randrange(1, 60))))
    return portfolio
