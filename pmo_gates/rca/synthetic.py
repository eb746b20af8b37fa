"""Synthetic portfolios with planted delay causes, written straight into the store.

The accuracy test and the benchmark need portfolios whose true causes are known. Each delayed project
gets one primary cause (and, half the time, a weaker secondary one) planted as the raw data Jira would
hold: issues added after the baseline, ``Blocks`` links from open issues of other projects, people holding
far too much open work, issues sitting for weeks in one status, unassigned work due soon, reopened and
bounced-back issues, logged effort far above estimates. Every project also carries noise (bugs found
after the baseline, a little added scope, occasional bounce-backs and reopens, estimate scatter, a
same-project blocker, people shared across projects, now and then unassigned work due soon), and on-time
and closed projects are mixed in.

Deterministic for a seed. Generation is two-phase: a plan of every project (small), then the rows, one
project at a time, so a 200,000-issue portfolio streams into the store without being held in memory.

    >>> plan = plan_portfolio(projects=20, issues_per_project=40, seed=7)
    >>> sorted({spec.kind for spec in plan.projects})
    ['closed', 'delayed', 'on_time']
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert

from pmo_gates.rca.causes import CAUSES
from pmo_gates.store import Store
from pmo_gates.store.models import ChangelogItem, Issue, IssueLink, Person, Project

TODAY = date(2026, 11, 2)
CATEGORY = {
    "To Do": "new",
    "In Progress": "indeterminate",
    "In Review": "indeterminate",
    "QA": "indeterminate",
    "Done": "done",
}
NORMAL_DWELL = {"In Progress": 4.0, "In Review": 1.5, "QA": 1.5}  # mean days, exponentially distributed
NORMAL_CYCLE = sum(NORMAL_DWELL.values())
ESTIMATES_H = (4, 8, 8, 16, 24)
FIRST_ITEM = 10  # issue numbers 1-9 are the anchor issue and the risks


@dataclass
class ProjectSpec:
    index: int
    key: str
    kind: str  # on_time | delayed | closed
    start: date
    end: date
    n_base: int
    rate: float  # items resolved per day
    done: int
    team: list[str]
    causes: list[tuple[str, float]] = field(default_factory=list)  # (cause, item-equivalents), primary first
    added: int = 0  # work items created after the baseline (planted scope and noise)
    overloaded: dict[str, int] = field(default_factory=dict)  # person -> open items to give them here
    blockers: list[str] = field(default_factory=list)  # open issues of other projects blocking ours
    borrowed: dict[str, int] = field(default_factory=dict)  # other projects' overloaded people -> items here
    bottleneck: str | None = None

    @property
    def baseline(self) -> date:
        return self.start + timedelta(days=7)

    @property
    def total(self) -> int:
        return self.n_base + self.added

    def planted(self, cause: str) -> float:
        return sum(amount for name, amount in self.causes if name == cause)

    def item_key(self, j: int) -> str:
        return f"{self.key}-{FIRST_ITEM + j}"


@dataclass
class PortfolioPlan:
    seed: int
    today: date
    projects: list[ProjectSpec]
    people: dict[str, str]  # account id -> display name

    @property
    def planted(self) -> dict[str, list[str]]:
        """Delayed project -> its planted causes, primary first."""
        return {p.key: [c for c, _ in p.causes] for p in self.projects if p.kind == "delayed"}

    @property
    def on_time(self) -> list[str]:
        return [p.key for p in self.projects if p.kind != "delayed"]


def plan_portfolio(
    *,
    projects: int,
    issues_per_project: int = 100,
    seed: int = 7,
    today: date = TODAY,
    delayed_share: float = 0.5,
    closed_share: float = 0.1,
) -> PortfolioPlan:
    """Decide every project's shape, its planted causes and the cross-project ties between them."""
    if projects < 3 or issues_per_project < 30:
        raise ValueError("need at least 3 projects and 30 issues per project")
    rng = random.Random(seed)
    people = {f"user-{i:05d}": f"Person {i:05d}" for i in range(max(12, projects * 3))}
    pool = list(people)
    specs = []
    for index in range(projects):
        roll = rng.random()
        kind = "closed" if roll < closed_share else "delayed" if roll < closed_share + delayed_share else "on_time"
        specs.append(_plan_project(rng, index, "on_time" if index < 2 else kind, issues_per_project, today, pool))
    donors = [s for s in specs if s.kind == "on_time"]
    for spec in specs:
        if spec.kind == "delayed":
            _tie(rng, spec, donors, people)
    return PortfolioPlan(seed=seed, today=today, projects=specs, people=people)


def _plan_project(rng: random.Random, index: int, kind: str, size: int, today: date, pool: list[str]) -> ProjectSpec:
    duration = rng.randint(120, 240)
    n_base = max(30, round(size * rng.uniform(0.85, 1.1)))
    planned_rate = n_base / duration
    if kind == "closed":
        end = today - timedelta(days=rng.randint(20, 120))
        start = end - timedelta(days=duration)
        rate, done, elapsed = planned_rate * rng.uniform(1.0, 1.08), n_base, duration
    else:
        elapsed = round(duration * rng.uniform(0.4, 0.75))
        start = today - timedelta(days=elapsed)
        end = start + timedelta(days=duration)
        rate = planned_rate * rng.uniform(1.08, 1.2)  # on time with some slack, not on the edge
        done = min(n_base - 5, int(rate * elapsed))
    spec = ProjectSpec(
        index=index,
        key=f"P{index:04d}",
        kind=kind,
        start=start,
        end=end,
        n_base=n_base,
        rate=rate,
        done=done,
        team=rng.sample(pool, k=rng.randint(4, 6)),
    )
    if kind == "delayed":
        _plant(rng, spec, planned_rate * elapsed, elapsed)
    if kind != "closed":
        spec.added += round(n_base * rng.uniform(0.0, 0.03))  # noise, below the scope-creep threshold
    return spec


def _plant(rng: random.Random, spec: ProjectSpec, planned_done: float, elapsed: int) -> None:
    """Pick the causes and the work each cost (item-equivalents); slow progress or add scope to match."""
    primary = rng.choice(CAUSES)
    lost = planned_done * rng.uniform(0.3, 0.45)
    spec.causes = [(primary, lost)]
    if rng.random() < 0.5:
        secondary = rng.choice([c for c in CAUSES if c != primary])
        spec.causes.append((secondary, lost * rng.uniform(0.25, 0.75)))
    capacity_lost = sum(amount for cause, amount in spec.causes if cause != "scope_creep")
    spec.rate = max(0.05, (planned_done - capacity_lost) / elapsed)
    spec.done = max(5, min(spec.n_base - 10, int(spec.rate * elapsed)))
    spec.added += round(spec.planted("scope_creep"))
    if spec.planted("status_bottleneck"):
        spec.bottleneck = rng.choice(["In Review", "QA"])


def _tie(rng: random.Random, spec: ProjectSpec, donors: list[ProjectSpec], people: dict[str, str]) -> None:
    """Cross-project ties: blockers in other projects, overloaded people also working elsewhere."""
    blocked = round(spec.planted("dependency_blocked"))
    for _ in range(blocked):
        donor = rng.choice(donors)
        spec.blockers.append(donor.item_key(rng.randrange(min(donor.done + 8, donor.n_base - 1), donor.n_base)))
    overload = spec.planted("resource_overload")
    if overload:
        count = 2 if overload < 12 else 3
        for n in range(count):
            person = f"busy-{spec.key}-{n}"
            people[person] = f"Stretched {spec.key} {n}"
            # 6 open items in 3 other projects: 4 projects in all, over the cap of 3.
            for donor in rng.sample(donors, k=min(3, len(donors))):
                donor.borrowed[person] = 2
            spec.overloaded[person] = _items_for_overload(overload / count, elsewhere=6)


def _items_for_overload(target: float, *, elsewhere: int, cap: int = 15, max_projects: int = 3) -> int:
    """Items ``h`` to give one person here so that ``h x (1 - cap / (h + elsewhere))`` is ``target``."""
    b = cap - elsewhere + target
    h = (b + math.sqrt(b * b + 4 * target * elsewhere)) / 2
    spread = 1 - max_projects / (max_projects + 1)
    if 1 - cap / (h + elsewhere) < spread:
        h = target / spread
    return max(1, round(h))


# --- rows ---------------------------------------------------------------------------------------------


@dataclass
class ProjectBatch:
    project: dict[str, Any]
    issues: list[dict[str, Any]]
    links: list[dict[str, Any]]
    changes: list[dict[str, Any]]


def _stamp(day: date, fraction: float = 0.25) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(days=fraction)


class _ProjectWriter:
    """Turns one spec into rows: items, their status histories, links and the planted evidence."""

    def __init__(self, plan: PortfolioPlan, spec: ProjectSpec) -> None:
        self.spec = spec
        self.rng = random.Random(plan.seed * 100_003 + spec.index)
        self.now = _stamp(plan.today)  # generation time: 06:00 UTC on 'today'
        self.today = plan.today
        self.issues: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []

    def day(self, offset_days: float) -> datetime:
        return _stamp(self.spec.start, 0) + timedelta(days=offset_days)

    def write(self) -> ProjectBatch:
        spec, rng = self.spec, self.rng
        items = [self._new_item(j) for j in range(spec.total)]
        done = items[: spec.done]
        for j, item in enumerate(done):
            item["resolved"] = min(self.day((j + rng.uniform(0.2, 0.8)) / spec.rate), self.now - timedelta(hours=2))
        bugs = self._noise_bugs(len(items))
        open_items = items[spec.done :]
        wip_count = min(len(open_items), len(spec.team))
        in_progress, todo = open_items[:wip_count], open_items[wip_count:]
        rng.shuffle(todo)
        visits: dict[str, list[list[tuple[str, float]]]] = {}
        for item in done + bugs:
            visits[item["key"]] = [self._normal_cycle()]
        for item in in_progress:
            visits[item["key"]] = [self._partial_cycle(rng.choice(["In Progress", "In Progress", "In Review", "QA"]))]
        stuck = self._plant_bottleneck(done, todo, visits)
        self._plant_rework(done, visits)
        self._noise_rework(done, visits)
        self._estimates(done + in_progress)
        self._assign(done + bugs, in_progress + stuck, todo)
        self._plant_links(todo)
        for item in items + bugs:
            self._history(item, visits.get(item["key"]))
        return ProjectBatch(self._project_row(), self._extra_issues() + items + bugs, self.links, self.changes)

    # items ------------------------------------------------------------------------------------------

    def _new_item(self, j: int) -> dict[str, Any]:
        spec, rng = self.spec, self.rng
        if j < spec.n_base:
            created = _stamp(spec.start, 0) - timedelta(days=rng.uniform(0.5, 10))
            kind = rng.choice(["Story", "Story", "Story", "Task", "Task"])
        else:
            span = max(1.0, (self.today - spec.baseline).days - 2)
            created = _stamp(spec.baseline, 0) + timedelta(days=1 + rng.uniform(0, span))
            kind = rng.choice(["Story", "Task"])
        return self._row(j, kind, created)

    def _row(self, j: int, kind: str, created: datetime) -> dict[str, Any]:
        spec = self.spec
        planned_due = spec.start + timedelta(
            days=int((min(j, spec.n_base) + 1) * (spec.end - spec.start).days / spec.n_base)
        )
        return {
            "id": spec.index * 100_000 + FIRST_ITEM + j,
            "key": spec.item_key(j),
            "project_key": spec.key,
            "issue_type": kind,
            "summary": f"{kind} {j} of {spec.key}",
            "status": "To Do",
            "status_category": "new",
            "resolution": None,
            "priority": "Medium",
            "assignee_id": None,
            "reporter_id": spec.team[0],
            "created": created,
            "updated": created,
            "resolved": None,
            "due_date": planned_due if self.rng.random() < 0.4 else None,
            "story_points": None,  # progress by issues, so "on time" means the same to every measure
            "original_estimate_s": None,
            "time_spent_s": None,
            "remaining_estimate_s": None,
            "parent_key": None,
            "labels": [],
            "sprint": None,
            "data_errors": [],
            "synced_at": self.now,
        }

    def _noise_bugs(self, count: int) -> list[dict[str, Any]]:
        """Defects found after the baseline, mostly fixed within days (not scope: the scope cause skips Bugs)."""
        spec, rng = self.spec, self.rng
        bugs = []
        last = min(self.today, spec.end) if spec.kind == "closed" else self.today
        span = (last - spec.baseline).days - 6
        for n in range(round(spec.n_base * 0.04)):
            created = _stamp(spec.baseline, 0) + timedelta(days=rng.uniform(1, max(2, span)))
            bug = self._row(count + n, "Bug", created)
            bug["due_date"] = None
            bug["resolved"] = created + timedelta(days=rng.uniform(1, 4))
            bugs.append(bug)
        return bugs

    def _extra_issues(self) -> list[dict[str, Any]]:
        """The anchor issue and two risks: not work items, so the analysis must leave them out."""
        spec = self.spec
        rows = []
        for n, kind in ((1, "Project"), (2, "Risk"), (3, "Risk")):
            row = self._row(n - FIRST_ITEM, kind, _stamp(spec.start, 0) - timedelta(days=20))
            row.update(status="In Progress", status_category="indeterminate", due_date=None)
            rows.append(row)
        return rows

    def _normal_cycle(self) -> list[tuple[str, float]]:
        return [(status, self.rng.expovariate(1 / mean)) for status, mean in NORMAL_DWELL.items()]

    def _partial_cycle(self, current: str) -> list[tuple[str, float]]:
        """The steps of an item now in ``current``, the last one still running."""
        cycle = self._normal_cycle()
        names = [status for status, _ in cycle]
        return cycle[: names.index(current) + 1]

    # planted causes ---------------------------------------------------------------------------------

    def _plant_bottleneck(self, done: list[dict[str, Any]], todo: list[dict[str, Any]], visits: dict) -> list[dict]:
        """Items now waiting for weeks in the bottleneck status, and recent ones that waited long there."""
        spec = self.spec
        amount = spec.planted("status_bottleneck")
        if not amount or spec.bottleneck is None:
            return []
        extra = amount * NORMAL_CYCLE  # item-days of waiting beyond the norm
        # About 40% of it is piling up now (items waiting 10-30 days), the rest was waited by recent items.
        waiting = min(len(todo) - 5, max(1, round(0.4 * extra / 20)))
        stuck = [todo.pop() for _ in range(waiting)]
        for item in stuck:
            wait = NORMAL_DWELL[spec.bottleneck] + min(30.0, max(10.0, 0.4 * extra / len(stuck)))
            extra -= wait - NORMAL_DWELL[spec.bottleneck]
            visits[item["key"]] = [[*self._partial_cycle(spec.bottleneck)[:-1], (spec.bottleneck, wait)]]
        recent = done[-max(3, min(len(done), round(amount * 1.5))) :]
        for item in recent:
            cycle = visits[item["key"]][0]
            share = max(0.0, extra) / len(recent)
            visits[item["key"]] = [[(s, d + share if s == spec.bottleneck else d) for s, d in cycle]]
        return stuck

    def _plant_rework(self, done: list[dict[str, Any]], visits: dict) -> None:
        amount = self.spec.planted("rework")
        if not amount:
            return
        reopens, bounces = round(amount * 0.7), round(amount * 0.6)
        self._add_rework(done, visits, reopens, bounces)

    def _noise_rework(self, done: list[dict[str, Any]], visits: dict) -> None:
        rng = self.rng
        self._add_rework(done, visits, int(rng.random() < 0.5), round(len(done) * rng.uniform(0.0, 0.025)))

    def _add_rework(self, done: list[dict[str, Any]], visits: dict, reopens: int, bounces: int) -> None:
        rng = self.rng
        for n in range(reopens + bounces):
            item = rng.choice(done)
            cycles = visits[item["key"]]
            if n < reopens:
                cycles.append(self._normal_cycle())  # done, reopened, through the workflow again
            else:
                last = cycles[-1]
                cycles[-1] = [*last[:2], ("In Progress", rng.expovariate(1 / 2.0)), *last[1:]]

    def _estimates(self, worked: list[dict[str, Any]]) -> None:
        rng, spec = self.rng, self.spec
        for item in worked:
            estimate = rng.choice(ESTIMATES_H) * 3600
            share = 1.0 if item["resolved"] else rng.uniform(0.2, 0.8)
            item["original_estimate_s"] = estimate
            item["time_spent_s"] = round(estimate * share * rng.lognormvariate(0, 0.12))
        amount = spec.planted("estimation_error")
        finished = [i for i in worked if i["resolved"]]
        if amount and finished:
            hit = rng.sample(finished, k=max(3, round(len(finished) * 0.7)))
            mean_estimate = sum(i["original_estimate_s"] for i in finished) / len(finished)
            over = amount * mean_estimate / sum(i["original_estimate_s"] for i in hit)
            for item in hit:
                item["time_spent_s"] = round(item["original_estimate_s"] * (1 + over) * rng.lognormvariate(0, 0.05))

    def _assign(self, finished: list[dict], working: list[dict], todo: list[dict[str, Any]]) -> None:
        spec, rng = self.spec, self.rng
        horizon = self.today + timedelta(days=14)
        for item in finished + working:
            item["assignee_id"] = rng.choice(spec.team)
        unstaffed = round(spec.planted("unstaffed_work"))
        for item in todo[:unstaffed]:
            item["due_date"] = self.today + timedelta(days=rng.randint(-15, 12))
            item["_unstaffed"] = True
        rest = todo[unstaffed:]
        for item in rest:
            imminent = item["due_date"] is not None and item["due_date"] <= horizon
            if (imminent and rng.random() < 0.96) or (not imminent and rng.random() < 0.1):
                item["assignee_id"] = rng.choice(spec.team)
        cursor = iter(rest)
        for person, count in [*spec.overloaded.items(), *spec.borrowed.items()]:
            for item in [next(cursor, None) for _ in range(count)]:
                if item is not None:
                    item["assignee_id"] = person
        # overloaded people also hold some of the work in progress
        for item, person in zip(working, spec.overloaded, strict=False):
            item["assignee_id"] = person

    def _plant_links(self, todo: list[dict[str, Any]]) -> None:
        spec, rng = self.spec, self.rng
        free = [i for i in todo if not i.get("_unstaffed")]
        for n, blocker in enumerate(spec.blockers):
            if n < len(free):
                self._link(blocker, free[-1 - n])
        if rng.random() < 0.3 and len(free) > len(spec.blockers) + 2:
            self._link(free[0]["key"], free[1])  # noise: one item waiting on another of the same project

    def _link(self, blocker_key: str, blocked: dict[str, Any]) -> None:
        self.links.append(
            {
                "id": f"{blocked['id']}{len(self.links):03d}",
                "issue_id": blocked["id"],
                "link_type": "Blocks",
                "from_key": blocker_key,
                "to_key": blocked["key"],
            }
        )

    # histories ---------------------------------------------------------------------------------------

    def _history(self, item: dict[str, Any], cycles: list[list[tuple[str, float]]] | None) -> None:
        """Status changes for ``cycles`` (lists of (status, days)), ending at resolution or now."""
        item.pop("_unstaffed", None)
        if not cycles:
            return
        end = item["resolved"] or self.now
        is_open = item["resolved"] is None
        steps: list[tuple[str, float]] = []
        for n, cycle in enumerate(cycles):
            steps += cycle
            if n < len(cycles) - 1:
                steps.append(("Done", self.rng.uniform(1, 5)))
        total = sum(days for _, days in steps)
        room = (end - item["created"]).total_seconds() / 86400 - 0.05
        scale = min(1.0, room / total) if total > 0 else 1.0
        at = end - timedelta(days=total * scale)
        status = "To Do"
        seq = []
        for target, days in steps:
            seq.append((at, status, target))
            status = target
            at += timedelta(days=days * scale)
        if not is_open:
            seq.append((end, status, "Done"))
            status = "Done"
        for n, (when, before, after) in enumerate(seq):
            self.changes.append(
                {
                    "issue_id": item["id"],
                    "history_id": f"{item['id']}-{n}",
                    "item_index": 0,
                    "author_id": item["assignee_id"],
                    "created": when,
                    "field": "status",
                    "from_value": None,
                    "from_string": before,
                    "to_value": None,
                    "to_string": after,
                }
            )
        item["status"] = status
        item["status_category"] = CATEGORY[status]
        item["resolution"] = "Done" if status == "Done" else None
        item["updated"] = seq[-1][0] if seq else item["created"]

    def _project_row(self) -> dict[str, Any]:
        spec = self.spec
        budget = spec.n_base * 8 * 100.0
        progress = spec.done / spec.total
        return {
            "key": spec.key,
            "jira_id": str(10_000 + spec.index),
            "name": f"Synthetic project {spec.index}",
            "lead_account_id": spec.team[0],
            "category": None,
            "anchor_issue_key": f"{spec.key}-1",
            "phase": "closed" if spec.kind == "closed" else "execution",
            "planned_start": spec.start,
            "planned_end": spec.end,
            "baseline_date": spec.baseline,
            "budget": budget,
            "actual_cost": round(budget * progress * self.rng.uniform(0.9, 1.2), 2),
            "hourly_rate": 100.0,
            "project_manager_id": spec.team[0],
            "project_manager_name": None,
            "strategic_value": float(self.rng.randint(1, 5)),
            "expected_roi": round(self.rng.uniform(5, 50), 1),  # percent, as the fact reads it
            "charter_url": None,
            "budget_approved": True,
            "lessons_learned": None,
            "metadata_json": {},
            "synced_at": self.now,
        }


def iter_batches(plan: PortfolioPlan) -> Iterator[ProjectBatch]:
    """The rows of every project in the plan, one project at a time."""
    for spec in plan.projects:
        yield _ProjectWriter(plan, spec).write()


def load_plan(store: Store, plan: PortfolioPlan, *, chunk_issues: int = 20_000) -> dict[str, int]:
    """Write the plan's rows into ``store`` (an empty one) in bulk; returns row counts per table."""
    counts = {"projects": 0, "people": 0, "issues": 0, "issue_links": 0, "changelog_items": 0}
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in counts}

    def flush() -> None:
        with store.session() as session:
            for name, table in (
                ("projects", Project),
                ("people", Person),
                ("issues", Issue),
                ("issue_links", IssueLink),
                ("changelog_items", ChangelogItem),
            ):
                if pending[name]:
                    session.execute(insert(table.__table__), pending[name])
                    counts[name] += len(pending[name])
                    pending[name] = []

    pending["people"] = [{"account_id": pid, "display_name": name, "active": True} for pid, name in plan.people.items()]
    for batch in iter_batches(plan):
        pending["projects"].append(batch.project)
        pending["issues"] += batch.issues
        pending["issue_links"] += batch.links
        pending["changelog_items"] += batch.changes
        if len(pending["issues"]) >= chunk_issues:
            flush()
    flush()
    return counts
