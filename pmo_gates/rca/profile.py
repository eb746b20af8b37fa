"""A project's measurements, taken from its rows in one pass: the raw material of detection and causes.

A profile keeps counts and totals for everything the cause analysers score, plus the issue keys, people
and statuses they cite as evidence. It is small (the rows themselves are dropped once it is built), so
profiles of a whole portfolio fit in memory and portfolio norms can be computed across them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pmo_gates.rca.scan import IssueRow, ProjectRows, StatusChange, date_days

CATEGORY_RANK = {"new": 0, "indeterminate": 1, "done": 2}


@dataclass(slots=True)
class StatusDwell:
    """Time open issues spent in one in-progress status."""

    issues: int = 0
    total_days: float = 0.0
    open_now: int = 0
    longest: list[tuple[str, float]] = field(default_factory=list)  # (issue key, days), longest first
    visits: list[tuple[str, float, float | None]] = field(default_factory=list)  # (key, days, resolved at)


@dataclass(frozen=True)
class Blocked:
    key: str
    status: str
    blockers: tuple[tuple[str, str | None, str | None], ...]  # (blocker key, its project, its status)


@dataclass(frozen=True)
class Unassigned:
    key: str
    status: str
    due: date | None  # the issue's due date, else the project's planned end
    own_due: bool = True  # False: ``due`` is the project's planned end
    created: float = 0.0


@dataclass(frozen=True)
class Rework:
    key: str
    reopens: int
    bounces: int
    transitions: tuple[str, ...]  # e.g. "Done -> In Progress"
    days: float = 0.0  # time spent open again after a reopen or bounce-back (not counted as queueing)
    open_now: bool = False  # still being reworked


@dataclass(frozen=True)
class Overrun:
    key: str
    estimate_h: float
    spent_h: float


@dataclass(slots=True)
class ProjectProfile:
    key: str
    project: dict[str, Any]
    today: date
    total: int = 0
    done: int = 0
    first_created: float | None = None
    # scope
    baseline: date | None = None
    baseline_source: str = "none"
    baseline_reason: str = ""
    baseline_items: int = 0
    added: list[tuple[str, str]] = field(default_factory=list)  # (key, issue type), newest first
    # flow
    dwell: dict[str, StatusDwell] = field(default_factory=dict)
    cycle_days_total: float = 0.0
    cycle_items: int = 0
    # causes' raw material
    blocked: list[Blocked] = field(default_factory=list)
    unassigned: list[Unassigned] = field(default_factory=list)
    rework: list[Rework] = field(default_factory=list)
    reopen_events: int = 0
    bounce_events: int = 0
    estimated_items: int = 0
    estimate_s: int = 0
    spent_s: int = 0
    overruns: list[Overrun] = field(default_factory=list)
    assignees: dict[str, list[str]] = field(default_factory=dict)  # person -> open issue keys here
    # what the data holds (named when a delay cannot be explained)
    status_changes: int = 0
    due_dates: int = 0
    estimates: int = 0
    links: int = 0

    @property
    def open(self) -> int:
        return self.total - self.done

    @property
    def mean_cycle_days(self) -> float | None:
        return self.cycle_days_total / self.cycle_items if self.cycle_items else None


class StatusClassifier:
    """Status names -> category, and status changes -> reopen / bounce-back, remembered per pair.

    ``categories`` are what the store knows (statuses issues are in now) over the playbook's fallbacks for
    statuses seen only in history; unknown names count as in progress. ``workflow_order`` ranks statuses:
    moving to an earlier one without having been done is a bounce-back (e.g. In Review -> In Progress)."""

    def __init__(self, categories: dict[str, str], workflow_order: tuple[str, ...] | list[str]) -> None:
        self.categories = categories
        self.order = {name.lower(): i for i, name in enumerate(workflow_order)}
        self._moves: dict[tuple[str | None, str | None], str] = {}

    def category(self, status: str | None) -> str:
        return self.categories.get(status or "", "indeterminate")

    def move(self, before: str | None, after: str | None) -> str:
        """'reopen', 'bounce' or '' for a change from ``before`` to ``after``."""
        kind = self._moves.get((before, after))
        if kind is None:
            kind = self._moves[(before, after)] = self._classify(before, after)
        return kind

    def _classify(self, before: str | None, after: str | None) -> str:
        was, now = self.category(before), self.category(after)
        if was == "done":
            return "reopen" if now != "done" else ""
        if now == "done":
            return ""
        a, b = (before or "").lower(), (after or "").lower()
        if a in self.order and b in self.order:
            return "bounce" if self.order[b] < self.order[a] else ""
        return "bounce" if CATEGORY_RANK[now] < CATEGORY_RANK[was] else ""


def build_profile(
    rows: ProjectRows,
    classify: StatusClassifier,
    today: date,
    *,
    evidence_limit: int,
    baseline: tuple[date | None, str, str] | None = None,
) -> ProjectProfile:
    """Measure one project; ``today`` ends at midnight, so work resolved today counts as done.

    ``baseline`` is the scope baseline (day, source, reason) from the facts; without it only a mapped
    baseline date is used (never the planned start: the backlog is written after it)."""
    now = date_days(today) + 1.0
    project = rows.project
    profile = ProjectProfile(key=project["key"], project=project, today=today)
    if baseline is None:
        mapped = project.get("baseline_date")
        baseline = (mapped, "mapped", f"the project's baseline date {mapped}") if mapped else (None, "none", "")
    profile.baseline, profile.baseline_source, profile.baseline_reason = baseline
    baseline_end = date_days(profile.baseline) + 1.0 if profile.baseline else None
    planned_end = project.get("planned_end")

    changes_by_issue: dict[int, list[StatusChange]] = defaultdict(list)
    for change in rows.changes:
        changes_by_issue[change.issue_id].append(change)

    added: list[tuple[float, str, str]] = []
    dwell_per_status: dict[str, list[tuple[str, float, float | None]]] = defaultdict(list)
    open_keys: set[str] = set()
    for issue in rows.issues:
        profile.total += 1
        is_done = issue.status_category == "done"
        profile.first_created = _min(profile.first_created, issue.created)
        if is_done:
            profile.done += 1
        else:
            open_keys.add(issue.key)
            if issue.assignee_id:
                profile.assignees.setdefault(issue.assignee_id, []).append(issue.key)
            else:
                profile.unassigned.append(
                    Unassigned(
                        issue.key,
                        issue.status,
                        issue.due_date or planned_end,
                        issue.due_date is not None,
                        issue.created,
                    )
                )
        profile.due_dates += issue.due_date is not None
        profile.estimates += bool(issue.original_estimate_s)
        if baseline_end is not None:
            if issue.created >= baseline_end:
                added.append((issue.created, issue.key, issue.issue_type))
            else:
                profile.baseline_items += 1
        history = changes_by_issue.get(issue.id, [])
        profile.status_changes += len(history)
        per_status, reopened = _walk_statuses(profile, issue, history, classify, now, is_done)
        if not reopened:  # effort spent redoing finished work is rework, not an estimate missed
            _measure_estimate(profile, issue, is_done)
        for status, days in per_status.items():
            dwell_per_status[status].append((issue.key, days, issue.resolved))
            if not is_done and status == issue.status:
                profile.dwell.setdefault(status, StatusDwell()).open_now += 1

    limit = evidence_limit
    profile.added = [(key, kind) for _, key, kind in sorted(added, reverse=True)]
    for status, visits in dwell_per_status.items():
        dwell = profile.dwell.setdefault(status, StatusDwell())
        dwell.issues = len(visits)
        dwell.total_days = sum(days for _, days, _ in visits)
        dwell.longest = [(key, days) for key, days, _ in sorted(visits, key=lambda v: (-v[1], v[0]))[:limit]]
        dwell.visits = visits
    profile.links = len(rows.blockers)
    profile.blocked = _blocked(rows, open_keys, {i.key: i.status for i in rows.issues})
    profile.overruns = sorted(profile.overruns, key=lambda o: (o.estimate_h - o.spent_h, o.key))[:limit]
    profile.rework.sort(key=lambda r: (-(r.reopens + r.bounces), r.key))
    return profile


def _min(a: float | None, b: float) -> float:
    return b if a is None else min(a, b)


def _measure_estimate(profile: ProjectProfile, issue: IssueRow, is_done: bool) -> None:
    """Done work, and open work already past its estimate (unfinished work would understate spend)."""
    estimate, spent = issue.original_estimate_s, issue.time_spent_s
    if estimate and estimate > 0 and spent is not None and (is_done or spent > estimate):
        profile.estimated_items += 1
        profile.estimate_s += estimate
        profile.spent_s += spent
        if spent > estimate:
            profile.overruns.append(Overrun(issue.key, estimate / 3600.0, spent / 3600.0))


def _walk_statuses(
    profile: ProjectProfile,
    issue: IssueRow,
    changes: list[StatusChange],
    classify: StatusClassifier,
    now: float,
    is_done: bool,
) -> tuple[dict[str, float], bool]:
    """Days this issue spent in each in-progress status on its first pass, and whether it was reopened.

    After a reopen or a bounce-back, the time until the issue is done again is rework (recorded with its
    reopens and bounce-backs), not queueing in the status it sits in: one issue-day, one cause."""
    spent: dict[str, float] = defaultdict(float)
    status = changes[0].from_status if changes else issue.status
    since = issue.created
    reopens = bounces = 0
    moves: list[str] = []
    category = classify.category
    reworking = False
    rework_days = 0.0

    def count(until: float) -> float:
        days = max(0.0, until - since)
        if reworking and category(status) != "done":
            return days
        if category(status) == "indeterminate":
            spent[status or ""] += days
        return 0.0

    for change in changes:
        rework_days += count(change.at)
        kind = classify.move(change.from_status, change.to_status)
        if kind:
            if kind == "reopen":
                reopens += 1
            else:
                bounces += 1
            moves.append(f"{change.from_status} -> {change.to_status}")
            reworking = True
        elif category(change.to_status) == "done":
            reworking = False
        status, since = change.to_status, change.at
    if not is_done:
        rework_days += count(now)
    if reopens or bounces:
        profile.reopen_events += reopens
        profile.bounce_events += bounces
        profile.rework.append(Rework(issue.key, reopens, bounces, tuple(moves), rework_days, reworking and not is_done))
    if is_done and spent:
        profile.cycle_days_total += sum(spent.values())
        profile.cycle_items += 1
    return spent, bool(reopens)


def _blocked(rows: ProjectRows, open_keys: set[str], statuses: dict[str, str]) -> list[Blocked]:
    """Open issues of this project waiting on at least one unresolved blocker."""
    waiting: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
    for link in rows.blockers:
        if link.blocked_key in open_keys and link.blocker_category != "done":
            waiting[link.blocked_key].append((link.blocker_key, link.blocker_project, link.blocker_status))
    return [Blocked(key, statuses.get(key, ""), tuple(blockers)) for key, blockers in sorted(waiting.items())]
