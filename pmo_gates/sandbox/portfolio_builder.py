"""Builds a generated portfolio issue by issue (used by ``generate.generate_portfolio``).

Time is kept as integer seconds since the epoch (UTC) and formatted once per value: datetime arithmetic
was most of the cost of a 200,000-issue benchmark portfolio.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pmo_gates.sandbox import catalog
from pmo_gates.sandbox.portfolio_model import CF, PHASES, SELECT_OPTIONS, ProjectProfile, field_definitions
from pmo_gates.sandbox.snapshot import Snapshot

DAY = 86_400
HOUR = 3_600

_SAMPLE_PROJECTS = [
    ("CPR", "Customer Portal Revamp"),
    ("DWM", "Data Warehouse Migration"),
    ("MBA", "Mobile Banking App"),
    ("ERP", "ERP Upgrade"),
    ("SEC", "Security Compliance 2026"),
    ("SCV", "Supply Chain Visibility"),
    ("HRS", "HR Self-Service"),
    ("PAY", "Payments Gateway"),
    ("ANA", "Analytics Platform"),
    ("OFR", "Office Relocation"),
    ("CCO", "Cloud Cost Optimisation"),
    ("PAPI", "Partner API"),
]
_NAME_A = ["Apollo", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Ion", "Juniper"]
_NAME_B = ["Platform", "Migration", "Portal", "Rollout", "Upgrade", "Integration", "Programme", "Pilot"]
_FIRST = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Ivan",
    "Jun",
    "Kemal",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tariq",
    "Uma",
    "Viktor",
    "Wen",
    "Xenia",
    "Yusuf",
    "Zoe",
    "Arjun",
    "Bea",
    "Caio",
    "Dana",
]
_LAST = [
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Moreau",
    "Haddad",
    "Novak",
    "Silva",
    "Kowalski",
    "Nguyen",
    "Schmidt",
    "Rossi",
    "Patel",
    "Ibrahim",
    "Costa",
    "Fischer",
    "Jansen",
    "Kim",
    "Lopez",
    "Murphy",
    "Ozturk",
]
_VERBS = ["Implement", "Design", "Migrate", "Test", "Document", "Automate", "Review", "Integrate", "Build", "Fix"]
_OBJECTS = [
    "login flow",
    "payment service",
    "reporting dashboard",
    "data import",
    "audit log",
    "search index",
    "notification emails",
    "user settings",
    "API gateway",
    "backup job",
    "invoice export",
    "access control",
]
_RISKS = ["Vendor delay", "Key person leaves", "Budget cut", "Regulatory change", "Integration failure"]
_COMMENTS = [
    "Looked into this, will pick it up after the current sprint.",
    "Blocked until the upstream change lands.",
    "Reviewed, a few small fixes needed.",
    "Done on our side, please verify.",
    "Estimate was too low, this needs another couple of days.",
]
_PRIORITY_NAMES = tuple(catalog.PRIORITIES)
_PRIORITY_CUM = list(itertools.accumulate((1, 3, 8, 3, 1)))
_WORK_KINDS = ("Story", "Task", "Bug")
_WORK_CUM = list(itertools.accumulate((5, 3, 2)))


# "HH:MM:SS.000+0000" for every second of a day: a 200,000-issue portfolio formats ~1.5 million stamps.
_TIME_OF_DAY = [f"{s // HOUR:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000+0000" for s in range(DAY)]


def _day(d: date) -> int:
    return (d - date(1970, 1, 1)).days * DAY


@dataclass
class _Project:
    key: str
    id: str
    name: str
    profile: ProjectProfile
    start: date
    end: date
    baseline: date
    team: list[dict[str, Any]]
    rate: float
    ref: dict[str, Any]
    open_issues: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)


class PortfolioBuilder:
    """Accumulates projects, users and issues; one instance per generated snapshot."""

    def __init__(self, rng: random.Random, today: date, base_url: str, pool_size: int, compact: bool) -> None:
        self.rng = rng
        self.compact = compact
        self.today = today
        self.now = _day(today) + 6 * HOUR
        self.base = base_url.rstrip("/")
        self.api = f"{self.base}/rest/api/2"
        self._day_prefix: dict[int, str] = {}
        self.users = [self._user(i) for i in range(pool_size)]
        self.user_refs = [self._user_ref(u) for u in self.users]
        # A few people are on many projects: rank-weighted choice over the pool.
        self.user_cum = list(itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(pool_size)))
        self.projects: list[_Project] = []
        self.project_defs: list[dict[str, Any]] = []
        self.issues: list[dict[str, Any]] = []
        self.next_issue_id = 10001
        self.next_history_id = 100001
        self.next_item_id = 200001  # comments, worklogs and links share one counter
        self.status = {n: self._slim(catalog.status_object(n, self.base)) for n in catalog.STATUSES}
        self.priority = {n: self._slim(catalog.priority_object(n, self.base)) for n in catalog.PRIORITIES}
        self.issuetype = {n: self._slim(catalog.issue_type_object(n, self.base)) for n in catalog.ISSUE_TYPES}
        self.resolution = catalog.resolution_object(self.base)
        self.blocks = catalog.link_type_object("Blocks", self.base)

    # -- time -------------------------------------------------------------------------------------------

    def stamp(self, ts: int) -> str:
        """Jira's timestamp format for epoch seconds (UTC)."""
        days, rest = divmod(int(ts), DAY)
        prefix = self._day_prefix.get(days)
        if prefix is None:
            prefix = self._day_prefix[days] = (date(1970, 1, 1) + timedelta(days=days)).isoformat() + "T"
        return prefix + _TIME_OF_DAY[rest]

    def between(self, start: int, end: int) -> int:
        return start if end <= start else start + int(self.rng.random() * (end - start))

    # -- people -----------------------------------------------------------------------------------------

    def _user(self, i: int) -> dict[str, Any]:
        first = _FIRST[i % len(_FIRST)]
        last = _LAST[(i // len(_FIRST)) % len(_LAST)]
        suffix = "" if i < len(_FIRST) * len(_LAST) else str(i // (len(_FIRST) * len(_LAST)))
        login = f"{first}.{last}{suffix}".lower()
        return {
            "accountId": f"{self.rng.getrandbits(96):024x}",
            "accountType": "atlassian",
            "name": login,
            "key": login,
            "displayName": f"{first} {last}{suffix}",
            "emailAddress": f"{login}@example.com",
            "active": self.rng.random() > 0.03,
            "timeZone": "Europe/Berlin",
        }

    def _user_ref(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user as Jira Cloud embeds one in an issue (no email, no login name)."""
        if self.compact:
            return {"accountId": user["accountId"], "displayName": user["displayName"], "active": user["active"]}
        return {
            "self": f"{self.api}/user?accountId={user['accountId']}",
            "accountId": user["accountId"],
            "displayName": user["displayName"],
            "active": user["active"],
            "timeZone": user["timeZone"],
            "accountType": "atlassian",
        }

    def _pick_people(self, count: int) -> list[dict[str, Any]]:
        picked: dict[str, dict[str, Any]] = {}
        total = self.user_cum[-1]
        while len(picked) < count:
            ref = self.user_refs[bisect.bisect(self.user_cum, self.rng.random() * total)]
            picked.setdefault(ref["accountId"], ref)
        return list(picked.values())

    # -- projects ---------------------------------------------------------------------------------------

    def add_project(self, index: int, profile: ProjectProfile, issue_count: int) -> None:
        rng = self.rng
        if index < len(_SAMPLE_PROJECTS):
            key, name = _SAMPLE_PROJECTS[index]
        else:
            key = f"P{index:04d}"
            name = f"{_NAME_A[index % len(_NAME_A)]} {_NAME_B[(index // 10) % len(_NAME_B)]} {index}"
        project_id = str(10000 + index)
        start, end, baseline = self._dates(profile)
        team = self._pick_people(rng.randint(3, 7))
        ref = {
            "self": f"{self.api}/project/{project_id}",
            "id": project_id,
            "key": key,
            "name": name,
            "projectTypeKey": "software",
            "simplified": False,
        }
        project = _Project(
            key=key,
            id=project_id,
            name=name,
            profile=profile,
            start=start,
            end=end,
            baseline=baseline,
            team=team,
            rate=float(rng.choice((60, 75, 90, 110, 140))),
            ref=self._slim(ref),
        )
        self.projects.append(project)
        self.project_defs.append(
            {
                **ref,
                "description": f"{name}: managed by the PMO.",
                "lead": team[0],
                "style": "classic",
                "isPrivate": False,
                "assigneeType": "UNASSIGNED",
                "issueTypes": [catalog.issue_type_object(n, self.base) for n in catalog.ISSUE_TYPES],
            }
        )
        self._fill_project(project, max(3, round(issue_count * rng.uniform(0.85, 1.15))))

    def _dates(self, profile: ProjectProfile) -> tuple[date, date, date]:
        """Planned start, planned end and the current phase's baseline date."""
        rng, today = self.rng, self.today
        days = timedelta
        # A project on plan is where the plan says: in initiation before its planned start, early in its
        # timeline while planning; a late one has spent far longer in the phase than planned.
        if profile.phase == "Initiation":
            start = today + days(rng.randint(5, 60))
            baseline = today - days(rng.randint(5, 40))
        elif profile.phase == "Planning":
            start = today - days(rng.randint(90, 150) if profile.has("late") else rng.randint(0, 10))
            baseline = start - days(rng.randint(0, 10))
        elif profile.phase == "Execution":
            start = today - days(rng.randint(80, 300))
            baseline = start + days(rng.randint(20, 40))
        else:
            start = today - days(rng.randint(320, 520))
            baseline = today - days(rng.randint(10, 40))
        end = start + days(rng.randint(160, 400))
        if profile.has("late") and profile.phase in ("Execution", "Closure"):
            end = today - days(rng.randint(5, 60))
        elif profile.phase == "Execution":
            end = max(end, today + days(rng.randint(30, 200)))
        elif profile.phase == "Closure":
            end = today + days(rng.randint(15, 40))
        return start, end, min(baseline, today)

    def _progress(self, project: _Project) -> float:
        """The share of work items that end up Done."""
        p, rng = project.profile, self.rng
        elapsed = (self.today - project.start).days / max(1, (project.end - project.start).days)
        if p.phase == "Initiation":
            done = 0.0
        elif p.phase == "Planning":
            done = rng.uniform(0.0, 0.1)
        elif p.phase == "Execution":
            # on plan or a little ahead: a healthy project must not look late to any fair reading
            done = min(0.9, max(0.1, elapsed + rng.uniform(0.0, 0.08)))
        else:
            done = rng.uniform(0.95, 1.0)
        return done * (0.45 if p.has("late") else 1.0)

    def _fill_project(self, project: _Project, count: int) -> None:
        rng = self.rng
        created0 = min(_day(project.start) - 30 * DAY + 9 * HOUR, self.now - 20 * DAY)
        anchor = self._anchor(project, created0)
        n_epics = max(1, min(5, count // 12))
        n_risks = max(1, min(4, count // 15))
        n_work = max(1, count - 1 - n_epics - n_risks)
        done_share = self._progress(project)
        epics = [self._work_item(project, "Epic", created0, done_share, None) for _ in range(n_epics)]
        for _ in range(n_work):
            kind = _WORK_KINDS[bisect.bisect(_WORK_CUM, rng.random() * _WORK_CUM[-1])]
            self._work_item(project, kind, created0, done_share, rng.choice(epics))
        for _ in range(n_risks):
            self._work_item(project, "Risk", created0, done_share * 0.5, None)
        self._finish_anchor(project, anchor)

    # -- issues -----------------------------------------------------------------------------------------

    def _new_issue(self, project: _Project, kind: str, created: int, summary: str) -> dict[str, Any]:
        issue_id = str(self.next_issue_id)
        self.next_issue_id += 1
        reporter = self.rng.choice(project.team)
        stamp = self.stamp(created)
        priority = _PRIORITY_NAMES[bisect.bisect(_PRIORITY_CUM, self.rng.random() * _PRIORITY_CUM[-1])]
        fields: dict[str, Any] = {
            "summary": summary,
            "issuetype": self.issuetype[kind],
            "project": project.ref,
            "status": self.status["To Do"],
            "statuscategorychangedate": stamp,
            "priority": self.priority[priority],
            "labels": [],
            "assignee": None,
            "reporter": reporter,
            "creator": reporter,
            "created": stamp,
            "updated": stamp,
            "resolution": None,
            "resolutiondate": None,
            "duedate": None,
            "description": f"{summary}.\n\nAcceptance: agreed with the project manager.",
            "issuelinks": [],
        }
        if not self.compact:
            fields["comment"] = self._comment_page(issue_id)
            fields["worklog"] = {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []}
            fields["timetracking"] = {}
        issue = {
            "id": issue_id,
            "self": f"{self.api}/issue/{issue_id}",
            "key": f"{project.key}-{len(project.issues) + 1}",
            "fields": fields,
            "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": []},
        }
        project.issues.append(issue)
        self.issues.append(issue)
        return issue

    def _comment_page(self, issue_id: str) -> dict[str, Any]:
        return {
            "comments": [],
            "self": f"{self.api}/issue/{issue_id}/comment",
            "maxResults": 0,
            "total": 0,
            "startAt": 0,
        }

    def _anchor(self, project: _Project, created: int) -> dict[str, Any]:
        p, rng = project.profile, self.rng
        anchor = self._new_issue(project, "Project", created, project.name)
        f = anchor["fields"]
        manager = project.team[0]
        f["assignee"] = manager
        f["labels"] = ["pmo-project"]
        f["description"] = f"Project record for {project.name}. PMO metadata lives in this issue's fields."
        f[CF["Planned Start"]] = project.start.isoformat()
        f[CF["Planned End"]] = project.end.isoformat()
        f[CF["Project Manager"]] = manager
        f[CF["Strategic Value"]] = float(rng.randint(1, 5))
        f[CF["Expected ROI"]] = round(rng.uniform(0.1, 2.5), 2)
        f[CF["Hourly Rate"]] = project.rate
        f[CF["Phase Baseline Date"]] = project.baseline.isoformat()
        approved = not p.has("incomplete") and (p.phase != "Initiation" or rng.random() < 0.5)
        f[CF["Budget Approved"]] = self._option("Budget Approved", "Yes" if approved else "No")
        if not p.has("incomplete"):
            f[CF["Charter"]] = f"https://wiki.example.com/pmo/{project.key}/charter"
        f[CF["PMO Phase"]] = self._option("PMO Phase", PHASES[0])
        # The phase history: one changelog entry per gate passed, when the next phase started.
        starts = self._phase_starts(project, created)
        for i in range(1, PHASES.index(p.phase) + 1):
            before, after = PHASES[i - 1], PHASES[i]
            options = SELECT_OPTIONS["PMO Phase"]
            item = _item("PMO Phase", "custom", CF["PMO Phase"], options[before], before, options[after], after)
            self._history(anchor, starts[i - 1], manager, [item])
            f[CF["PMO Phase"]] = self._option("PMO Phase", after)
        target = {"Initiation": "To Do", "Planning": "In Progress", "Execution": "In Progress"}.get(
            p.phase, "In Review" if p.has("late") else "Done"
        )
        self._walk_status(anchor, self._path_to(target, rework=0.0, reopen=0.0), created, starts[-1], manager)
        return anchor

    def _phase_starts(self, project: _Project, created: int) -> list[int]:
        """When the project entered Planning, Execution and Closure (as far as it got)."""
        phase_index = PHASES.index(project.profile.phase)
        latest = self.now - 2 * HOUR
        baseline = _day(project.baseline) + 10 * HOUR
        starts: list[int] = []
        for i in range(1, phase_index + 1):
            when = baseline if i == phase_index else created + int((baseline - created) * i / (phase_index + 0.5))
            starts.append(min(max(when, created + i * HOUR), latest))
        return starts or [created + HOUR]

    def _finish_anchor(self, project: _Project, anchor: dict[str, Any]) -> None:
        p, rng = project.profile, self.rng
        f = anchor["fields"]
        work = [i["fields"] for i in project.issues if i is not anchor]
        planned_hours = sum((w.get("timeoriginalestimate") or 0) for w in work) / HOUR
        spent_hours = sum((w.get("timespent") or 0) for w in work) / HOUR
        budget = round(planned_hours * project.rate * 1.1, -2)
        f[CF["Budget"]] = max(budget, 5000.0)
        # The PMO's booked cost tracks logged hours at the project's rate (over-budget projects log far more).
        cost = spent_hours * project.rate * rng.uniform(0.97, 1.03)
        f[CF["Actual Cost"]] = round(cost, 2)
        if p.phase == "Closure" and not p.has("late"):
            f[CF["Lessons Learned"]] = "Start the data migration earlier.\nKeep the steering group small."

    def _work_item(
        self, project: _Project, kind: str, created0: int, done_share: float, epic: dict[str, Any] | None
    ) -> dict[str, Any]:
        rng, p = self.rng, project.profile
        # Scope added after the phase baseline: a few items normally, many with scope creep.
        baseline = _day(project.baseline) + 12 * HOUR
        horizon = self.now - 6 * HOUR
        if rng.random() < (0.35 if p.has("scope_creep") else 0.06) and baseline < horizon:
            created = self.between(baseline, horizon)
        else:
            created = self.between(created0 + HOUR, min(baseline, horizon))
        if kind == "Risk":
            summary = f"Risk: {rng.choice(_RISKS)}"
        elif kind == "Epic":
            summary = f"{rng.choice(_OBJECTS).capitalize()} workstream"
        else:
            summary = f"{rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
        issue = self._new_issue(project, kind, created, summary)
        f = issue["fields"]
        if kind == "Risk":
            f["labels"] = ["risk"]
        if epic is not None:
            f["parent"] = self._issue_ref(epic)
            f[CF["Epic Link"]] = epic["key"]
        owner = None if rng.random() < (0.2 if p.has("incomplete") else 0.08) else rng.choice(project.team)
        if owner is not None:
            self._set_assignee(issue, owner, created + rng.randint(300, 36_000))
        if kind in _WORK_KINDS:
            if kind == "Story":
                f[CF["Story Points"]] = float(rng.choice((1, 2, 3, 5, 8, 13)))
            f["timeoriginalestimate"] = rng.choice((2, 4, 8, 16, 24, 40)) * HOUR
        if rng.random() < 0.6:
            due = project.start + timedelta(days=rng.randint(7, max(8, (project.end - project.start).days)))
            earliest = date(1970, 1, 1) + timedelta(days=created // DAY + 3)
            f["duedate"] = max(due, earliest).isoformat()
        target = self._target_status(p, done_share)
        late = p.has("late")
        worker = owner or rng.choice(project.team)
        path = self._path_to(target, rework=0.3 if late else 0.12, reopen=0.12 if late else 0.04)
        end = horizon if target != "Done" else self.between(created + DAY, horizon)
        started = self._walk_status(issue, path, created, end, worker)
        if started is not None and kind in _WORK_KINDS:
            self._log_work(issue, worker, started, end, hours_factor=5 if p.has("over_budget") else 1)
        if f["duedate"] and late and target != "Done" and rng.random() < 0.5:
            self._push_due_date(issue, worker, created, end)
        for _ in range(rng.choice((0, 0, 0, 0, 0, 1, 1, 1, 2))):
            self._comment(issue, rng.choice(project.team), self.between(created, horizon))
        if p.phase in ("Execution", "Closure") and kind in _WORK_KINDS:
            f[CF["Sprint"]] = [self._sprint(project, started or created)]
        if target != "Done":
            project.open_issues.append(issue)
        return issue

    def _target_status(self, profile: ProjectProfile, done_share: float) -> str:
        roll = self.rng.random()
        if roll < done_share:
            return "Done"
        if profile.phase == "Initiation":
            return "To Do" if roll < 0.95 else "In Progress"
        open_roll = self.rng.random()
        if open_roll < 0.25:
            return "In Progress"
        if open_roll < 0.35:
            return "In Review"
        return "To Do"

    def _path_to(self, target: str, *, rework: float, reopen: float) -> list[str]:
        """The statuses an issue passes through after To Do, with bounces along the way."""
        rng = self.rng
        path = {
            "To Do": [],
            "In Progress": ["In Progress"],
            "In Review": ["In Progress", "In Review"],
            "Done": ["In Progress", "In Review", "Done"],
        }[target]
        if "In Review" in path and rng.random() < rework:
            i = path.index("In Review")
            path[i + 1 : i + 1] = ["In Progress", "In Review"]
        if target == "Done" and rng.random() < reopen:
            path += ["To Do", "In Progress", "In Review", "Done"]
        if target == "To Do" and rng.random() < rework / 2:
            path += ["In Progress", "To Do"]
        return path

    def _walk_status(
        self, issue: dict[str, Any], path: list[str], created: int, end: int, who: dict[str, Any]
    ) -> int | None:
        """Record the transitions along ``path`` between ``created`` and ``end``; returns the first one."""
        if not path:
            return None
        span = max(end - created, HOUR * len(path))
        marks = sorted(self.rng.uniform(0.05, 1.0) for _ in path)
        f = issue["fields"]
        first: int | None = None
        for status, mark in zip(path, marks, strict=True):
            when = min(created + int(span * mark), self.now - 1800)
            first = first or when
            before, after = f["status"], self.status[status]
            items = [_item("status", "jira", "status", before["id"], before["name"], after["id"], status)]
            if status == "Done":
                items.append(_item("resolution", "jira", "resolution", None, None, "10000", "Done"))
                f["resolution"] = self.resolution
                f["resolutiondate"] = self.stamp(when)
            elif before["name"] == "Done":
                items.append(_item("resolution", "jira", "resolution", "10000", "Done", None, None))
                f["resolution"] = None
                f["resolutiondate"] = None
            f["status"] = after
            if before["statusCategory"]["key"] != after["statusCategory"]["key"]:
                f["statuscategorychangedate"] = self.stamp(when)
            self._history(issue, when, who, items)
        return first

    def _set_assignee(self, issue: dict[str, Any], user: dict[str, Any], when: int) -> None:
        f = issue["fields"]
        before = f["assignee"] or {}
        item = _item(
            "assignee",
            "jira",
            "assignee",
            before.get("accountId"),
            before.get("displayName"),
            user["accountId"],
            user["displayName"],
        )
        f["assignee"] = user
        self._history(issue, when, f["reporter"], [item])

    def _push_due_date(self, issue: dict[str, Any], who: dict[str, Any], created: int, end: int) -> None:
        f = issue["fields"]
        old = f["duedate"]
        new = (date.fromisoformat(old) + timedelta(days=self.rng.randint(7, 30))).isoformat()
        item = _item("duedate", "jira", "duedate", old, f"{old} 00:00:00.0", new, f"{new} 00:00:00.0")
        f["duedate"] = new
        self._history(issue, self.between(created, end), who, [item])

    def _log_work(
        self, issue: dict[str, Any], who: dict[str, Any], start: int, end: int, *, hours_factor: int = 1
    ) -> None:
        rng = self.rng
        f = issue["fields"]
        logs = []
        for started in sorted(self.between(start, max(end, start + HOUR)) for _ in range(rng.randint(1, 3))):
            seconds = rng.choice((1, 2, 3, 4, 6, 8)) * HOUR * hours_factor
            stamp = self.stamp(started)
            log = {
                "id": self._next_item(),
                "issueId": issue["id"],
                "author": who,
                "started": stamp,
                "timeSpent": f"{seconds // HOUR}h",
                "timeSpentSeconds": seconds,
            }
            if not self.compact:
                log.update(
                    self=f"{self.api}/issue/{issue['id']}/worklog/{log['id']}",
                    updateAuthor=who,
                    comment="Worked on it.",
                    created=stamp,
                    updated=stamp,
                )
            logs.append(log)
        spent = sum(w["timeSpentSeconds"] for w in logs)
        estimate = f.get("timeoriginalestimate") or 0
        remaining = 0 if f["status"]["name"] == "Done" else max(0, estimate - spent)
        f["worklog"] = {"startAt": 0, "maxResults": 20, "total": len(logs), "worklogs": logs}
        f["timespent"] = spent
        f["timeestimate"] = remaining
        f["timetracking"] = {
            "originalEstimate": f"{estimate // HOUR}h",
            "remainingEstimate": f"{remaining // HOUR}h",
            "timeSpent": f"{spent // HOUR}h",
            "originalEstimateSeconds": estimate,
            "remainingEstimateSeconds": remaining,
            "timeSpentSeconds": spent,
        }
        self._touch(issue, logs[-1]["started"])

    def _comment(self, issue: dict[str, Any], who: dict[str, Any], when: int) -> None:
        f = issue["fields"]
        page = f.get("comment") or f.setdefault("comment", self._comment_page(issue["id"]))
        comment_id = self._next_item()
        stamp = self.stamp(when)
        comment = {"id": comment_id, "author": who, "body": self.rng.choice(_COMMENTS), "created": stamp}
        comment["updated"] = stamp
        if not self.compact:
            comment.update(
                self=f"{self.api}/issue/{issue['id']}/comment/{comment_id}", updateAuthor=who, jsdPublic=True
            )
        page["comments"].append(comment)
        page["comments"].sort(key=lambda c: c["created"])
        page.update(maxResults=len(page["comments"]), total=len(page["comments"]), startAt=0)
        self._touch(issue, stamp)

    def _sprint(self, project: _Project, when: int) -> dict[str, Any]:
        start0 = _day(project.start) + 9 * HOUR
        number = max(0, (when - start0) // (14 * DAY))
        begins = start0 + number * 14 * DAY
        ends = begins + 14 * DAY
        state = "closed" if ends < self.now else ("active" if begins < self.now else "future")
        sprint = {
            "id": int(project.id) * 100 + number,
            "name": f"{project.key} Sprint {number + 1}",
            "state": state,
            "boardId": int(project.id),
            "goal": "",
            "startDate": self.stamp(begins)[:19] + ".000Z",
            "endDate": self.stamp(ends)[:19] + ".000Z",
        }
        if state == "closed":
            sprint["completeDate"] = sprint["endDate"]
        return sprint

    # -- links ------------------------------------------------------------------------------------------

    def link_blockers(self) -> None:
        """``Blocks`` links: within projects everywhere, across projects into the blocked ones."""
        rng = self.rng
        with_open = [p for p in self.projects if p.open_issues]
        for project in with_open:
            blocked = project.profile.has("blocked")
            others = [p for p in with_open if p is not project] if blocked else []
            for _ in range(rng.randint(3, 6) if blocked else rng.randint(0, 2)):
                victim = rng.choice(project.open_issues)
                source = rng.choice(others) if others else project
                blocker = rng.choice(source.open_issues)
                if blocker is victim:
                    continue
                self._link(blocker, victim)
                if blocked and "blocked" not in victim["fields"]["labels"]:
                    victim["fields"]["labels"] = [*victim["fields"]["labels"], "blocked"]

    def _link(self, blocker: dict[str, Any], blocked: dict[str, Any]) -> None:
        """``blocker`` blocks ``blocked`` (POST /issueLink with inwardIssue=blocker, outwardIssue=blocked)."""
        link_id = self._next_item()
        link_self = f"{self.api}/issueLink/{link_id}"
        blocker["fields"]["issuelinks"].append(
            {"id": link_id, "self": link_self, "type": self.blocks, "outwardIssue": self._issue_ref(blocked)}
        )
        blocked["fields"]["issuelinks"].append(
            {"id": link_id, "self": link_self, "type": self.blocks, "inwardIssue": self._issue_ref(blocker)}
        )

    # -- helpers ----------------------------------------------------------------------------------------

    def _issue_ref(self, issue: dict[str, Any]) -> dict[str, Any]:
        f = issue["fields"]
        ref = {"id": issue["id"], "key": issue["key"], "self": issue["self"]}
        ref["fields"] = {"summary": f["summary"], "status": f["status"], "issuetype": f["issuetype"]}
        if not self.compact:
            ref["fields"]["priority"] = f["priority"]
        return ref

    def _slim(self, obj: dict[str, Any]) -> dict[str, Any]:
        """In compact mode, drop what Jira adds for display (links, icons, descriptions)."""
        if not self.compact:
            return obj
        slim = {k: v for k, v in obj.items() if k not in ("self", "iconUrl", "description")}
        if isinstance(slim.get("statusCategory"), dict):
            slim["statusCategory"] = {k: v for k, v in slim["statusCategory"].items() if k != "self"}
        return slim

    def _option(self, field_name: str, value: str) -> dict[str, Any]:
        option_id = SELECT_OPTIONS[field_name][value]
        return {"self": f"{self.api}/customFieldOption/{option_id}", "value": value, "id": option_id}

    def _history(self, issue: dict[str, Any], when: int, who: dict[str, Any], items: list[dict[str, Any]]) -> None:
        changelog = issue["changelog"]
        histories = changelog["histories"]
        stamp = self.stamp(when)
        entry = {"id": str(self.next_history_id), "author": who, "created": stamp, "items": items}
        self.next_history_id += 1
        if histories and histories[-1]["created"] > stamp:
            # Events are generated out of order now and then; keep the changelog in time order.
            histories.insert(bisect.bisect_right([h["created"] for h in histories], stamp), entry)
        else:
            histories.append(entry)
        changelog["maxResults"] = changelog["total"] = len(histories)
        self._touch(issue, stamp)

    @staticmethod
    def _touch(issue: dict[str, Any], stamp: str) -> None:
        # Stamps share one fixed format, so string order is time order.
        if stamp > issue["fields"]["updated"]:
            issue["fields"]["updated"] = stamp

    def make_heavy(self, count: int, rng: random.Random) -> None:
        """Give ``count`` work items 100-140 histories (due-date and label churn) and 21-30 worklogs."""
        work = [i for i in self.issues if i["fields"]["issuetype"]["name"] in _WORK_KINDS]
        for issue in rng.sample(work, min(count, len(work))):
            f = issue["fields"]
            created = int(datetime.fromisoformat(f["created"].replace("+0000", "+00:00")).timestamp())
            end = max(created + DAY, self.now - 6 * HOUR)
            who = f["assignee"] or f["reporter"]
            times = sorted(self.between(created, end) for _ in range(rng.randint(100, 140)))
            for n, when in enumerate(times):
                before = list(f.get("labels") or [])
                after = [*before, f"churn-{n}"] if n % 2 == 0 else [lbl for lbl in before if lbl != f"churn-{n - 1}"]
                item = _item("labels", "jira", "labels", None, " ".join(before), None, " ".join(after))
                f["labels"] = after
                self._history(issue, when, who, [item])
            logs = (f.get("worklog") or {}).get("worklogs") or []
            for started in sorted(self.between(created, end) for _ in range(rng.randint(21, 30))):
                stamp = self.stamp(started)
                logs.append(
                    {
                        "id": self._next_item(),
                        "issueId": issue["id"],
                        "author": who,
                        "started": stamp,
                        "timeSpent": "1h",
                        "timeSpentSeconds": HOUR,
                    }
                )
                self._touch(issue, stamp)
            logs.sort(key=lambda w: w["started"])
            f["worklog"] = {"startAt": 0, "maxResults": 20, "total": len(logs), "worklogs": logs}
            f["timespent"] = sum(w["timeSpentSeconds"] for w in logs)

    def _next_item(self) -> str:
        self.next_item_id += 1
        return str(self.next_item_id - 1)

    def snapshot(self) -> Snapshot:
        server_info = {
            "baseUrl": self.base,
            "displayUrl": self.base,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100280,
            "buildDate": "2025-12-01T00:00:00.000+0000",
            "serverTime": self.stamp(self.now),
            "scmInfo": "pmo-gates-sandbox",
            "serverTitle": "PMO sandbox",
        }
        return Snapshot.model_validate(
            {
                "format": "pmo-gates-snapshot/1",
                "exported_at": datetime.fromtimestamp(self.now, UTC),
                "serverInfo": server_info,
                "fields": field_definitions(),
                "projects": self.project_defs,
                "issueLinkTypes": [catalog.link_type_object(n, self.base) for n in catalog.LINK_TYPES],
                "users": self.users,
                "issues": self.issues,
            }
        )


def _item(
    field_name: str,
    fieldtype: str,
    field_id: str,
    from_: str | None,
    from_string: str | None,
    to: str | None,
    to_string: str | None,
) -> dict[str, Any]:
    # Explicit nulls, as Jira sends an empty side (the published contract says string; payloads say null).
    return {
        "field": field_name,
        "fieldtype": fieldtype,
        "fieldId": field_id,
        "from": from_,
        "fromString": from_string,
        "to": to,
        "toString": to_string,
    }
