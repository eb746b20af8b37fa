"""Stale and ineffective projects, and redundant work across projects.

- **stale**: open work, yet no work item updated for ``stale_days``;
- **ineffective**: busy (items updated) without resolving anything for ``ineffective_days``, or the latest
  gate review decided Recycle or Kill while the project goes on;
- **redundant**: open items in several projects with the same normalised summary (likely the same work
  done twice).

One GROUP BY (by project) for the activity and one streamed scan of the open work items' summaries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from pmo_gates.rca.scan import work_issue_filter
from pmo_gates.reports.dates import window_start
from pmo_gates.reports.goals import LatestGate
from pmo_gates.reports.models import Row, Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.text import iso, listing, plural
from pmo_gates.rules.facts.queries import count_where, utc_day
from pmo_gates.store.models import Issue

FACTS = ("phase",)
FAILED_GATE = {"recycle", "kill"}
FINDING_COLUMNS = [
    "project",
    "name",
    "kind",
    "finding",
    "idle_days",
    "open_issues",
    "issues_updated",
    "issues_resolved",
    "last_update",
]
REDUNDANT_COLUMNS = ["summary", "projects", "issues", "count"]
_NOT_WORD = re.compile(r"[\W_]+")
_STREAM_ROWS = 5000


@dataclass(frozen=True)
class Activity:
    open_issues: int
    last_update: date | None
    updated: int  # work items updated inside the ineffective window
    resolved: int  # ... and resolved inside it


def read_activity(
    session: Session, *, today: date, days: int, ignore_issue_types: Sequence[str]
) -> dict[str, Activity]:
    """Per project with work items: open items, the last update of any item (all time), and the items
    updated and resolved in the last ``days`` days."""
    since = window_start(today, days)
    done = Issue.status_category == "done"
    query = (
        select(
            Issue.project_key,
            count_where(Issue.status_category != "done"),
            func.max(Issue.updated),
            count_where(Issue.updated >= since),
            count_where(done, func.coalesce(Issue.resolved, Issue.updated) >= since),
        )
        .where(work_issue_filter(Issue, ignore_issue_types))
        .group_by(Issue.project_key)
    )
    return {
        key: Activity(int(open_), utc_day(last), int(updated), int(resolved))
        for key, open_, last, updated, resolved in session.execute(query)
    }


def normalised(summary: str) -> str:
    """Case, punctuation and spacing do not make two summaries different work."""
    return " ".join(_NOT_WORD.sub(" ", summary.lower()).split())


def issue_order(key: str) -> tuple[str, int, str]:
    """PROJ-9 before PROJ-10."""
    prefix, _, number = key.rpartition("-")
    return (prefix, int(number), key) if number.isdigit() else (key, -1, key)


@dataclass(frozen=True)
class Redundant:
    summary: str
    projects: tuple[str, ...]
    issues: tuple[str, ...]

    def row(self) -> Row:
        return {
            "summary": self.summary,
            "projects": ", ".join(self.projects),
            "issues": ", ".join(self.issues),
            "count": len(self.issues),
        }


def redundant_work(session: Session, *, ignore_issue_types: Sequence[str], min_words: int) -> list[Redundant]:
    """Groups of open work items in two or more projects sharing a normalised summary, largest first."""
    query = select(Issue.key, Issue.project_key, Issue.summary).where(
        and_(Issue.status_category != "done", work_issue_filter(Issue, ignore_issue_types))
    )
    groups: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for key, project, summary in session.execute(query.execution_options(yield_per=_STREAM_ROWS)):
        text = normalised(summary or "")
        # One- or two-word summaries ("Testing", "Go live") are placeholders every project has.
        if len(text.split()) >= min_words:
            groups[text].append((key, project, summary))
    found = []
    for items in groups.values():
        projects = tuple(sorted({project for _, project, _ in items}))
        if len(projects) < 2:
            continue  # the same summary twice inside one project is that project's own business
        items.sort(key=lambda item: issue_order(item[0]))
        found.append(Redundant(items[0][2], projects, tuple(key for key, _, _ in items)))
    found.sort(key=lambda r: (-len(r.issues), r.summary))
    return found


@dataclass(frozen=True)
class Finding:
    project: str
    name: str
    kind: str  # stale | ineffective
    text: str
    idle_days: int | None
    activity: Activity | None

    def row(self) -> Row:
        seen = self.activity
        return {
            "project": self.project,
            "name": self.name,
            "kind": self.kind,
            "finding": f"{self.kind}: {self.text}",
            "idle_days": self.idle_days,
            "open_issues": seen.open_issues if seen else 0,
            "issues_updated": seen.updated if seen else 0,
            "issues_resolved": seen.resolved if seen else 0,
            "last_update": iso(seen.last_update) if seen else None,
        }


def findings(
    facts: Mapping[str, Mapping[str, object]],
    activity: Mapping[str, Activity],
    latest: Mapping[str, LatestGate],
    names: Mapping[str, str],
    today: date,
    options: ReportOptions,
) -> list[Finding]:
    found: list[Finding] = []
    for key in facts:
        if facts[key].get("phase") == "closed":
            continue  # a closed project is neither stale nor ineffective: it is done
        seen = activity.get(key)
        # A replay pinned to an earlier day can see later updates: idle, not negative.
        idle = max(0, (today - seen.last_update).days) if seen and seen.last_update else None
        name = names.get(key, "")
        if seen and seen.open_issues and idle is not None and idle >= options.stale_days:
            found.append(Finding(key, name, "stale", f"no work issue updated for {idle} days", idle, seen))
        elif seen and seen.open_issues and seen.updated and not seen.resolved:
            text = f"{plural(seen.updated, 'issue')} updated but none resolved in {options.ineffective_days} days"
            found.append(Finding(key, name, "ineffective", text, idle, seen))
        gate = latest.get(key)
        if gate is not None and gate.decision in FAILED_GATE:
            text = f"latest gate review ({gate.gate}) decided {gate.decision}"
            found.append(Finding(key, name, "ineffective", text, idle, seen))
    found.sort(key=lambda f: (f.kind != "stale", -(f.idle_days or 0), f.project))
    return found


def stale_section(
    session: Session,
    *,
    facts: Mapping[str, Mapping[str, object]],
    latest: Mapping[str, LatestGate],
    names: Mapping[str, str],
    today: date,
    options: ReportOptions,
    ignore_issue_types: Sequence[str],
) -> Section:
    activity = read_activity(session, today=today, days=options.ineffective_days, ignore_issue_types=ignore_issue_types)
    found = findings(facts, activity, latest, names, today, options)
    redundant = redundant_work(session, ignore_issue_types=ignore_issue_types, min_words=options.redundant_min_words)
    stale = sorted({f.project for f in found if f.kind == "stale"})
    ineffective = sorted({f.project for f in found if f.kind == "ineffective"})
    duplicated = sum(len(r.issues) for r in redundant)
    summary = [
        f"**{plural(len(stale), 'stale project')}** (open work, nothing updated for {options.stale_days} days)"
        + (f": {listing(stale)}." if stale else "."),
        f"**{plural(len(ineffective), 'ineffective project')}** (busy without resolving anything in "
        f"{options.ineffective_days} days, or the latest gate decided Recycle/Kill)"
        + (f": {listing(ineffective)}." if ineffective else "."),
        f"**{plural(len(redundant), 'summary', 'summaries')}** of open work in several projects "
        f"({plural(duplicated, 'issue')}): possibly redundant work.",
    ]
    return Section(
        key="stale",
        title="Stale and ineffective projects, redundant work",
        intro="Stale: open work, no work item updated for the period. Ineffective: work items updated but "
        "none resolved, or a Recycle/Kill gate decision. Redundant: open items of several projects with the "
        "same summary once case, punctuation and spacing are ignored.",
        summary=summary,
        tables=[
            Table(
                key="stale_ineffective",
                title="Stale and ineffective projects",
                columns=FINDING_COLUMNS,
                rows=[f.row() for f in found],
            ),
            Table(
                key="redundant_work",
                title="Redundant work across projects",
                columns=REDUNDANT_COLUMNS,
                rows=[r.row() for r in redundant],
            ),
        ],
        figures={
            "stale": len(stale),
            "ineffective": len(ineffective),
            "redundant_groups": len(redundant),
            "redundant_issues": duplicated,
        },
    )
