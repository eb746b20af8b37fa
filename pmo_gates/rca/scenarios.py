"""A second, independent portfolio generator whose data-generating assumptions are parameters.

:mod:`pmo_gates.rca.synthetic` plants causes the way the analysis was first built to read them. This one
is written separately, from how Jira data looks in the field, and each of its assumptions is a knob of
:class:`Scenario`, so the accuracy of the analysis can be swept across them (``benchmarks/bench_rca.py``,
``tests/test_rca_robustness.py``):

- the backlog is written over ``backlog_days`` after the planned start (0-30), no baseline date is mapped
  (``mapped_baseline``), and the anchor's phase history is absent, written on the start day, or written
  once the backlog is done (``phase_history``);
- each planted cause touches a number of *items* (blocked, reopened, added, unassigned, held by someone
  overloaded, stuck in a queue, over their estimate), the primary ``1 / secondary_ratio`` times as many as
  the secondary (``two_causes``: share of delayed projects with a second cause);
- reopened items may still sit in progress (``lingering_rework``), blockers may live in projects outside
  the portfolio (``external_blockers``), data may be sparse (``sparse``: no story points, estimates, logged
  time or due dates), and each team may move at its own pace (``team_pace_spread``: dwell times scaled by
  a per-project factor);
- a different workflow from the first generator (To Do, In Progress, Code Review, Testing, Done).

Every project has noise: a little added scope and a few bugs, a bounce-back or two, estimate scatter, a
share of unassigned backlog, a same-project blocker now and then. On-time projects are mixed in, and the
people's other work lives in run-the-business projects without a planned end (never judged).

    >>> truth = plan_scenario(Scenario(projects=12), seed=1).truth
    >>> sorted({kind for kind, _ in truth.values()}) in (["delayed", "on_time"], ["on_time"], ["delayed"])
    True
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import insert

from pmo_gates.rca.causes import CAUSES
from pmo_gates.store import Store
from pmo_gates.store.models import ChangelogItem, Issue, IssueLink, Person, Project

TODAY = date(2026, 11, 2)
WORKFLOW = ("In Progress", "Code Review", "Testing")
DWELL = {"In Progress": 3.5, "Code Review": 1.2, "Testing": 2.0}  # mean days at pace 1
CATEGORY = {"To Do": "new", "In Progress": "indeterminate", "Code Review": "indeterminate", "Testing": "indeterminate"}
CATEGORY["Done"] = "done"
ALL_CAUSES = CAUSES  # the analysis's vocabulary: what it plants must be what the analysis can name


@dataclass(frozen=True)
class Scenario:
    """The generator's assumptions (see the module docstring)."""

    projects: int = 60
    issues_per_project: int = 60
    delayed_share: float = 0.5
    backlog_days: tuple[int, int] = (0, 30)
    mapped_baseline: bool = False
    phase_history: Literal["none", "at_start", "after_backlog"] = "none"
    two_causes: float = 0.5
    secondary_ratio: tuple[float, float] = (0.3, 0.6)
    lingering_rework: float = 0.4
    external_blockers: float = 0.5
    sparse: bool = False
    team_pace_spread: float = 0.0  # 0.5: each team's dwell times x 1.5**U(-1, 1)
    unassigned_backlog: float = 0.3
    causes: tuple[str, ...] = ALL_CAUSES

    @property
    def plantable(self) -> tuple[str, ...]:
        # Without estimates or logged time there is nothing to plant (or find) an estimation error in.
        return tuple(c for c in self.causes if not (self.sparse and c == "estimation_error"))


@dataclass
class _Spec:
    index: int
    key: str
    kind: str
    start: date
    end: date
    n_base: int
    done: int
    team: list[str]
    pace: float
    backlog_end: float  # days after the start
    causes: list[tuple[str, int]] = field(default_factory=list)  # (cause, items touched), primary first

    def planted(self, cause: str) -> int:
        return sum(n for c, n in self.causes if c == cause)


@dataclass
class ScenarioPlan:
    scenario: Scenario
    seed: int
    today: date
    specs: list[_Spec]

    @property
    def truth(self) -> dict[str, tuple[str, list[str]]]:
        """Project -> (delayed | on_time, planted causes primary first)."""
        return {s.key: (s.kind, [c for c, _ in s.causes]) for s in self.specs}


def plan_scenario(scenario: Scenario, *, seed: int, today: date = TODAY) -> ScenarioPlan:
    rng = random.Random(seed)
    specs = []
    for index in range(scenario.projects):
        delayed = index >= 2 and rng.random() < scenario.delayed_share
        specs.append(_plan(rng, scenario, index, "delayed" if delayed else "on_time", today))
    return ScenarioPlan(scenario, seed, today, specs)


def _plan(rng: random.Random, sc: Scenario, index: int, kind: str, today: date) -> _Spec:
    duration = rng.randint(150, 260)
    elapsed = round(duration * rng.uniform(0.45, 0.75))
    n_base = max(30, round(sc.issues_per_project * rng.uniform(0.85, 1.15)))
    planned_done = n_base * elapsed / duration
    spec = _Spec(
        index=index,
        key=f"Q{index:03d}",
        kind=kind,
        start=today - timedelta(days=elapsed),
        end=today - timedelta(days=elapsed) + timedelta(days=duration),
        n_base=n_base,
        done=0,
        team=[f"q{index:03d}-dev{n}" for n in range(rng.randint(4, 6))],
        pace=1.5 ** rng.uniform(-1, 1) if sc.team_pace_spread else 1.0,
        backlog_end=float(rng.randint(*sc.backlog_days)),
    )
    if kind == "on_time":
        spec.done = min(n_base - 4, round(planned_done * rng.uniform(1.1, 1.25)))
        return spec
    primary = rng.choice(sc.plantable)
    touched = max(4, round(planned_done * rng.uniform(0.3, 0.45)))
    spec.causes = [(primary, touched)]
    if rng.random() < sc.two_causes:
        secondary = rng.choice([c for c in sc.plantable if c != primary])
        spec.causes.append((secondary, max(2, round(touched * rng.uniform(*sc.secondary_ratio)))))
    # Capacity lost to the causes; added scope also takes some of the team's time (a share of it gets done).
    lost = sum(n for c, n in spec.causes if c != "scope_creep") + 0.3 * spec.planted("scope_creep")
    spec.done = max(6, min(n_base - 12, round(planned_done * rng.uniform(0.95, 1.05) - lost)))
    return spec


# --- rows ---------------------------------------------------------------------------------------------


def _at(day: date, offset: float = 0.0) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC) + timedelta(days=offset)


class _Writer:
    def __init__(self, plan: ScenarioPlan, spec: _Spec, people: dict[str, str], bau: list[str]) -> None:
        self.sc, self.spec, self.people, self.bau = plan.scenario, spec, people, bau
        self.rng = random.Random(plan.seed * 7919 + spec.index)
        self.today = plan.today
        self.now = _at(plan.today)
        self.issues: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []
        self.histories: dict[str, list[tuple[datetime, str]]] = {}
        self.next_id = spec.index * 10_000 + 2

    # one item ---------------------------------------------------------------------------------------

    def item(self, created: datetime, kind: str = "Story") -> dict[str, Any]:
        spec, sc, rng = self.spec, self.sc, self.rng
        n = self.next_id - spec.index * 10_000
        self.next_id += 1
        estimate = rng.choice((4, 8, 8, 16, 24)) * 3600
        row = {
            "id": self.next_id,
            "key": f"{spec.key}-{n}",
            "project_key": spec.key,
            "issue_type": kind,
            "summary": f"{kind} {n}",
            "status": "To Do",
            "status_category": "new",
            "resolution": None,
            "priority": "Medium",
            "assignee_id": None,
            "reporter_id": spec.team[0],
            "created": created,
            "updated": created,
            "resolved": None,
            "due_date": None,
            "story_points": None if sc.sparse else float(rng.choice((1, 2, 3, 5, 8))),
            "original_estimate_s": None if sc.sparse else estimate,
            "time_spent_s": None,
            "remaining_estimate_s": None,
            "parent_key": None,
            "labels": [],
            "sprint": None,
            "data_errors": [],
            "synced_at": self.now,
        }
        self.issues.append(row)
        return row

    def dwell(self, status: str) -> float:
        return self.rng.expovariate(1 / (DWELL[status] * self.spec.pace))

    def walk(self, row: dict[str, Any], steps: list[tuple[str, float]], end: datetime, finish: bool) -> None:
        """Status history: ``steps`` (status, days) laid out to end at ``end`` (then Done when ``finish``)."""
        total = sum(d for _, d in steps)
        room = (end - row["created"]).total_seconds() / 86400 - 0.1
        scale = min(1.0, room / total) if total > 0 else 1.0
        at = end - timedelta(days=total * scale)
        history = []
        for status, days in steps:
            history.append((at, status))
            at += timedelta(days=days * scale)
        if finish:
            history.append((end, "Done"))
        self.histories[row["key"]] = history
        last = history[-1][1] if history else "To Do"
        row.update(status=last, status_category=CATEGORY[last], updated=history[-1][0] if history else row["created"])
        if finish:
            row.update(resolved=end, resolution="Done")

    def cycle(self, until: str | None = None) -> list[tuple[str, float]]:
        steps = []
        for status in WORKFLOW:
            steps.append((status, self.dwell(status)))
            if status == until:
                break
        return steps

    # the project ------------------------------------------------------------------------------------

    def write(self) -> None:
        spec, sc, rng = self.spec, self.sc, self.rng
        elapsed = (self.today - spec.start).days
        pre = rng.uniform(0, 5)
        base = [
            self.item(_at(spec.start, rng.uniform(-pre, spec.backlog_end)), rng.choice(("Story", "Story", "Task")))
            for _ in range(spec.n_base)
        ]
        base.sort(key=lambda r: r["created"])
        after = spec.backlog_end + 3
        span = max(2.0, elapsed - after - 2)
        added = [
            self.item(_at(spec.start, after + rng.uniform(0, span)), "Story")
            for _ in range(round(spec.n_base * rng.uniform(0, 0.03)) + spec.planted("scope_creep"))
        ]
        for row in base:
            if not sc.sparse and rng.random() < 0.5:
                j = base.index(row)
                row["due_date"] = spec.start + timedelta(days=int((j + 1) * (spec.end - spec.start).days / spec.n_base))
        # Which items get done: mostly the baseline in order, some of the added scope (the team works on it).
        added_done = [r for r in added if rng.random() < 0.3]
        done_rows = base[: max(0, spec.done - len(added_done))] + added_done
        done_keys = {r["key"] for r in done_rows}
        open_rows = [r for r in base + added if r["key"] not in done_keys]
        first = spec.backlog_end * 0.5 + 2
        step = (elapsed - 0.3 - first) / max(1, len(done_rows))  # a steady pace, with a little jitter
        stamps = [first + (i + rng.uniform(0.2, 0.8)) * step for i in range(len(done_rows))]
        for row, offset in zip(sorted(done_rows, key=lambda r: r["created"]), stamps, strict=True):
            end = max(_at(spec.start, offset), row["created"] + timedelta(days=1))
            self.walk(row, self.cycle(), min(end, self.now - timedelta(hours=1)), True)
            row["assignee_id"] = rng.choice(spec.team)
        wip = open_rows[: len(spec.team)]
        for row in wip:
            self.walk(row, self.cycle(rng.choice(WORKFLOW)), self.now, False)
            row["assignee_id"] = rng.choice(spec.team)
        todo = open_rows[len(spec.team) :]
        rng.shuffle(todo)
        horizon = self.today + timedelta(days=14)
        for row in todo:
            urgent = row["due_date"] is not None and row["due_date"] <= horizon
            if rng.random() >= sc.unassigned_backlog * (0.15 if urgent else 1.0):
                row["assignee_id"] = rng.choice(spec.team)
        self.plant(done_rows, wip, todo)
        self.noise(done_rows, todo)
        self.efforts(done_rows, wip)
        self.bugs(elapsed)
        for row in self.issues:
            self.emit(row)

    def plant(self, done: list[dict], wip: list[dict], todo: list[dict]) -> None:
        spec, sc, rng = self.spec, self.sc, self.rng
        free = list(todo)  # items not yet used by a planted cause
        for cause, n in spec.causes:
            if cause == "dependency_blocked":
                for row in _take(free, n):
                    blocker = (
                        f"EXT{rng.randint(1, 9)}-{rng.randint(100, 999)}"
                        if rng.random() < sc.external_blockers
                        else f"{rng.choice(self.bau)}-{rng.randint(2, 40)}"
                    )
                    self._link(blocker, row)
            elif cause == "unstaffed_work":
                for row in _take(free, n):
                    row["assignee_id"] = None
                    if not sc.sparse:
                        row["due_date"] = self.today + timedelta(days=rng.randint(-20, 12))
            elif cause == "resource_overload":
                busy = 1 if n < 10 else 2
                for b in range(busy):
                    person = f"{spec.key}-busy{b}"
                    self.people[person] = f"Overloaded {spec.key} {b}"
                    elsewhere = rng.randint(8, 20)
                    here = _items_for_excess(n / busy, elsewhere)
                    for row in _take(free, here):
                        row["assignee_id"] = person
                    self.bau_load.append((person, elsewhere))
            elif cause == "scope_creep":
                pass  # written with the items (created after the backlog build-up)
            elif cause == "status_bottleneck":
                status = rng.choice(("Code Review", "Testing"))
                norm = DWELL[status] * spec.pace
                stuck = _take(free, (n + 1) // 2)
                for row in stuck:
                    steps = self.cycle(status)
                    steps[-1] = (status, norm + sum(DWELL.values()) * spec.pace * rng.uniform(2, 5))
                    self.walk(row, steps, self.now, False)
                    row["assignee_id"] = rng.choice(spec.team)
                recent = sorted(done, key=lambda r: r["resolved"])[-(n // 2) :] if n // 2 else []
                for row in recent:
                    steps = [
                        (s, d + sum(DWELL.values()) * spec.pace * rng.uniform(1.5, 3) if s == status else d)
                        for s, d in self.cycle()
                    ]
                    self.walk(row, steps, row["resolved"], True)
            elif cause == "rework":
                lingering = round(n * sc.lingering_rework)
                for row in rng.sample(done, k=min(len(done), n - lingering)):
                    self._reopen(row, finish=True)
                for row in _take(free, lingering):
                    self._reopen(row, finish=False)
            elif cause == "estimation_error":
                mean = sum(r["original_estimate_s"] for r in done) / len(done)
                hit = rng.sample(done, k=max(3, round(len(done) * 0.6)))
                over = n * mean / sum(r["original_estimate_s"] for r in hit)
                for row in hit:
                    row["_over"] = over

    bau_load: list[tuple[str, int]]

    def _reopen(self, row: dict[str, Any], *, finish: bool) -> None:
        """Done, reopened, and worked again: finished again, or still in progress now (lingering)."""
        rng = self.rng
        if finish:
            end = row["resolved"]
            first = self.cycle()
            again = [("In Progress", self.dwell("In Progress") * 2), ("Testing", self.dwell("Testing"))]
            self.walk(row, [*first, ("Done", rng.uniform(2, 8)), *again], end, True)
        else:
            first = self.cycle()
            lingering = rng.uniform(10, 40)
            steps = [*first, ("Done", rng.uniform(2, 10)), ("In Progress", lingering)]
            self.walk(row, steps, self.now, False)
            row["assignee_id"] = row["assignee_id"] or rng.choice(self.spec.team)

    def _link(self, blocker: str, row: dict[str, Any]) -> None:
        self.links.append(
            {
                "id": f"{row['id']}{len(self.links):04d}",
                "issue_id": row["id"],
                "link_type": "Blocks",
                "from_key": blocker,
                "to_key": row["key"],
            }
        )

    def noise(self, done: list[dict], todo: list[dict]) -> None:
        rng = self.rng
        for row in rng.sample(done, k=min(len(done), rng.randint(0, 2))):
            if row["key"] in self.histories and len(self.histories[row["key"]]) >= 4:
                history = self.histories[row["key"]]
                # Testing -> In Progress once: a bounce-back
                at, _ = history[-2]
                history.insert(-1, (at + timedelta(hours=6), "In Progress"))
                history.insert(-1, (at + timedelta(hours=30), "Testing"))
        plain = [
            r for r in todo if r["key"] not in self.histories and not any(li["to_key"] == r["key"] for li in self.links)
        ]
        if rng.random() < 0.3 and len(plain) > 2:
            self._link(plain[0]["key"], plain[1])

    def efforts(self, done: list[dict], wip: list[dict]) -> None:
        if self.sc.sparse:
            return
        rng = self.rng
        for row in done:
            row["time_spent_s"] = round(
                row["original_estimate_s"] * (1 + row.pop("_over", 0.0)) * rng.lognormvariate(0, 0.12)
            )
        for row in wip:
            row["time_spent_s"] = round(row["original_estimate_s"] * rng.uniform(0.2, 0.8))

    def bugs(self, elapsed: int) -> None:
        rng, spec = self.rng, self.spec
        for _ in range(round(spec.n_base * 0.04)):
            created = _at(spec.start, rng.uniform(spec.backlog_end + 5, max(spec.backlog_end + 6, elapsed - 6)))
            row = self.item(created, "Bug")
            row["due_date"] = None
            self.walk(row, self.cycle(), min(created + timedelta(days=rng.uniform(1, 4)), self.now), True)
            row["assignee_id"] = rng.choice(spec.team)

    def emit(self, row: dict[str, Any]) -> None:
        history = self.histories.get(row["key"], [])
        status = "To Do"
        for n, (when, after) in enumerate(history):
            self.changes.append(
                {
                    "issue_id": row["id"],
                    "history_id": f"{row['id']}-{n}",
                    "item_index": 0,
                    "author_id": row["assignee_id"],
                    "created": when,
                    "field": "status",
                    "from_value": None,
                    "from_string": status,
                    "to_value": None,
                    "to_string": after,
                }
            )
            status = after
        row.pop("_over", None)

    def anchor(self) -> tuple[dict[str, Any], dict[str, Any]]:
        spec, sc = self.spec, self.sc
        anchor = self.item(_at(spec.start, -30), "Project")
        anchor.update(
            key=f"{spec.key}-1", id=spec.index * 10_000 + 1, status="In Progress", status_category="indeterminate"
        )
        anchor["story_points"] = anchor["original_estimate_s"] = None
        if sc.phase_history != "none":
            day = spec.start if sc.phase_history == "at_start" else spec.start + timedelta(days=spec.backlog_end + 1)
            self.changes.append(
                {
                    "issue_id": anchor["id"],
                    "history_id": f"{anchor['id']}-phase",
                    "item_index": 0,
                    "author_id": spec.team[0],
                    "created": _at(day),
                    "field": "PMO Phase",
                    "from_value": None,
                    "from_string": "Planning",
                    "to_value": None,
                    "to_string": "Execution",
                }
            )
        project = {
            "key": spec.key,
            "jira_id": str(50_000 + spec.index),
            "name": f"Scenario project {spec.index}",
            "lead_account_id": spec.team[0],
            "anchor_issue_key": anchor["key"],
            "phase": "Execution",
            "planned_start": spec.start,
            "planned_end": spec.end,
            "baseline_date": spec.start + timedelta(days=spec.backlog_end + 1) if sc.mapped_baseline else None,
            "budget": None if sc.sparse else spec.n_base * 1000.0,
            "actual_cost": None,
            "hourly_rate": None,
            "project_manager_id": spec.team[0],
            "project_manager_name": None,
            "metadata_json": {},
            "synced_at": self.now,
        }
        return project, anchor


def _take(pool: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    taken, pool[:] = pool[:n], pool[n:]
    return taken


def _items_for_excess(target: float, elsewhere: int, cap: int = 15) -> int:
    """Items ``h`` here so that ``h x (1 - cap / (h + elsewhere))`` (the excess share of one person's items
    here beyond the open-item cap) is ``target``."""
    b = target + cap - elsewhere
    return max(1, math.ceil((b + math.sqrt(b * b + 4 * target * elsewhere)) / 2))


def load_scenario(store: Store, plan: ScenarioPlan) -> dict[str, int]:
    """Write the plan into ``store`` (an empty one); returns row counts per table."""
    people: dict[str, str] = {}
    projects, issues, links, changes = [], [], [], []
    bau = [f"RUN{n}" for n in range(3)]
    loads: list[tuple[str, int]] = []
    for spec in plan.specs:
        people.update({p: p.replace("-", " ").title() for p in spec.team})
        writer = _Writer(plan, spec, people, bau)
        writer.bau_load = loads
        writer.write()
        project, _ = writer.anchor()
        projects.append(project)
        issues += writer.issues
        links += writer.links
        changes += writer.changes
    # Run-the-business projects (no planned end: never judged) hold the busy people's other work, and the
    # open items some projects' blockers point at.
    for n, key in enumerate(bau):
        projects.append(
            {**{column: None for column in projects[0]}, "key": key, "jira_id": str(90_000 + n),
             "name": f"Run the business {n}", "phase": "Execution", "metadata_json": {}, "synced_at": _at(plan.today)}
        )  # fmt: skip
        for j in range(2, 41):
            issues.append(_bau_issue(key, 900_000 + n * 1000 + j, j, None, plan.today))
    next_id = 990_000
    for person, count in loads:
        for _ in range(count):
            next_id += 1
            issues.append(_bau_issue(bau[next_id % len(bau)], next_id, next_id, person, plan.today))
    counts = {"projects": len(projects), "people": len(people), "issues": len(issues), "links": len(links)}
    with store.session() as session:
        session.execute(
            insert(Person.__table__), [{"account_id": k, "display_name": v, "active": True} for k, v in people.items()]
        )
        session.execute(insert(Project.__table__), projects)
        for start in range(0, len(issues), 5000):
            session.execute(insert(Issue.__table__), issues[start : start + 5000])
        if links:
            session.execute(insert(IssueLink.__table__), links)
        for start in range(0, len(changes), 5000):
            session.execute(insert(ChangelogItem.__table__), changes[start : start + 5000])
    return counts


def _bau_issue(project: str, issue_id: int, n: int, assignee: str | None, today: date) -> dict[str, Any]:
    created = _at(today, -100)
    return {
        "id": issue_id, "key": f"{project}-{n}", "project_key": project, "issue_type": "Task", "summary": "run",
        "status": "To Do", "status_category": "new", "resolution": None, "priority": "Medium",
        "assignee_id": assignee, "reporter_id": None, "created": created, "updated": created, "resolved": None,
        "due_date": None, "story_points": None, "original_estimate_s": None, "time_spent_s": None,
        "remaining_estimate_s": None, "parent_key": None, "labels": [], "sprint": None, "data_errors": [],
        "synced_at": _at(today),
    }  # fmt: skip
