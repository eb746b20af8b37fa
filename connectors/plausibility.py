"""Values that are well-formed but cannot be true: checked on one mapped issue before it is stored.

Mapping (mapping.py) makes sure a value has the right shape; this module makes sure it is believable:
dates in a plausible range, amounts, story points and durations neither negative nor absurd, a planned
end not before its planned start, a link from an issue to itself, a changelog move into a status Jira
does not list. Each problem is reported on the issue by field (``issues.data_errors`` and the sync's
``data_errors``) and the implausible value is left out, so the project is judged on what is valid.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

# Jira appeared in 2002; imports from older trackers carry older dates, but nothing real predates 1980
# (an epoch-zero 1970 date is a bug in whatever wrote it).
EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)
# Jira stamps changes with its own clock: allow for skew between it and ours, not for a change in 2099.
CLOCK_SKEW = timedelta(days=1)
# Plans (due dates, planned end) may lie ahead, but not further than this.
PLAN_HORIZON = timedelta(days=365 * 50)
MAX_AMOUNT = 1e15  # money: a thousand times the largest programme budgets on record
MAX_STORY_POINTS = 1000.0  # estimates run to 100 or so; a four-digit estimate is a typo or a pasted number
MAX_SECONDS = 100 * 365 * 24 * 3600  # time tracked on one issue (also keeps it inside a 64-bit column)

# Project metadata numbers: which must not be negative.
_AMOUNTS = {"budget": True, "actual_cost": True, "hourly_rate": True, "strategic_value": False, "expected_roi": False}
_ISSUE_SECONDS = ("original_estimate_s", "time_spent_s", "remaining_estimate_s")
_ISSUE_SECONDS_FIELD = {
    "original_estimate_s": "timeoriginalestimate",
    "time_spent_s": "timespent",
    "remaining_estimate_s": "timeestimate",
}


class Problems(Protocol):
    def add(self, field_name: str, message: str) -> None: ...


class Checker:
    """The plausibility checks of one sync, as of the sync's start (``synced_at``)."""

    def __init__(
        self, synced_at: datetime, statuses: Collection[str] | None = None, *, today: date | None = None
    ) -> None:
        self.synced_at = synced_at
        # A replay pinned to a date (config ``today``) takes its data as of that date, even ahead of our clock.
        now = max(synced_at, datetime.combine(today, time.max, tzinfo=UTC)) if today else synced_at
        self.latest = now + CLOCK_SKEW
        self.last_plan_day = (now + PLAN_HORIZON).date()
        # Lower-cased names of the statuses Jira lists; None or empty: not known, so not checked.
        self.statuses = {s.casefold() for s in statuses} if statuses else None

    def instant(self, value: datetime | None, problems: Problems, field_name: str) -> datetime | None:
        """``value`` if it is between 1980 and now (plus clock skew), else None with a problem."""
        if value is None or EARLIEST <= value <= self.latest:
            return value
        problems.add(field_name, f"{value.isoformat()} is not a plausible time (before 1980 or in the future)")
        return None

    def day(self, value: date | None, problems: Problems, field_name: str) -> date | None:
        """A planning date: from 1980 to 50 years ahead."""
        if value is None or EARLIEST.date() <= value <= self.last_plan_day:
            return value
        problems.add(field_name, f"{value.isoformat()} is not a plausible date (before 1980 or over 50 years ahead)")
        return None

    def bounded(
        self, value: float | None, problems: Problems, field_name: str, *, limit: float, signed: bool = False
    ) -> float | None:
        """``value`` if it is within ``limit`` (and not negative unless ``signed``), else None with a problem."""
        if value is None:
            return None
        if not signed and value < 0:
            problems.add(field_name, f"{_number(value)} is negative (left out)")
            return None
        if abs(value) > limit:
            problems.add(field_name, f"{_number(value)} is implausibly large (over {_number(limit)}; left out)")
            return None
        return value

    def issue(self, row: dict[str, Any], problems: Problems) -> bool:
        """Check an issue row in place; False when its ``updated`` is not usable (as a watermark)."""
        updated = self.instant(row["updated"], problems, "updated")
        created = row["created"]
        if not EARLIEST <= created <= self.latest:
            problems.add("created", f"{created.isoformat()} is not a plausible time (stored as the updated time)")
            created = updated or self.synced_at
        row["created"] = created
        row["updated"] = updated or created
        row["resolved"] = self.instant(row["resolved"], problems, "resolutiondate")
        row["due_date"] = self.day(row["due_date"], problems, "duedate")
        row["story_points"] = self.bounded(row["story_points"], problems, "story_points", limit=MAX_STORY_POINTS)
        for column in _ISSUE_SECONDS:
            value = self.bounded(row[column], problems, _ISSUE_SECONDS_FIELD[column], limit=MAX_SECONDS)
            row[column] = None if value is None else int(value)
        return updated is not None

    def project(self, project: dict[str, Any], problems: Problems) -> None:
        """Check the PMO metadata read from an anchor issue, in place."""
        for name, unsigned in _AMOUNTS.items():
            project[name] = self.bounded(project[name], problems, name, limit=MAX_AMOUNT, signed=not unsigned)
        for name in ("planned_start", "planned_end", "baseline_date"):
            project[name] = self.day(project[name], problems, name)
        start, end = project["planned_start"], project["planned_end"]
        if start is not None and end is not None and end < start:
            # Either date may be the wrong one: neither is used, so no schedule fact rests on a guess.
            problems.add(
                "planned_end", f"{end.isoformat()} is before planned_start {start.isoformat()} (neither date is used)"
            )
            project["planned_start"] = project["planned_end"] = None

    def links(self, rows: list[dict[str, Any]], key: str, problems: Problems) -> list[dict[str, Any]]:
        """The links minus those from the issue to itself (which would make it its own blocker)."""
        kept = []
        for row in rows:
            if row["from_key"].casefold() == row["to_key"].casefold() == key.casefold():
                problems.add("issuelinks", f"link {row['id']} ({row['link_type']}) links {key} to itself (left out)")
                continue
            kept.append(row)
        return kept

    def worklogs(self, rows: list[dict[str, Any]], problems: Problems) -> list[dict[str, Any]]:
        kept = []
        for row in rows:
            name = f"worklog[{row['id']}]"
            if self.instant(row["started"], problems, f"{name}.started") is None:
                continue
            if self.bounded(row["time_spent_s"], problems, f"{name}.timeSpentSeconds", limit=MAX_SECONDS) is None:
                continue
            kept.append(row)
        return kept

    def changelog(
        self, rows: list[dict[str, Any]], problems: Problems, current_status: str | None = None
    ) -> list[dict[str, Any]]:
        """Histories dated outside the plausible range are left out; status moves into a status Jira does
        not list (other than the issue's current one) are folded away (see :meth:`_known_status_chain`)."""
        dated, bad = [], set()
        for row in rows:
            history = row["history_id"]
            if history in bad:
                continue
            if not EARLIEST <= row["created"] <= self.latest:
                bad.add(history)
                self.instant(row["created"], problems, f"changelog[{history}].created")
                continue
            dated.append(row)
        return self._known_status_chain(dated, problems, current_status)

    def _known_status_chain(
        self, rows: list[dict[str, Any]], problems: Problems, current_status: str | None
    ) -> list[dict[str, Any]]:
        """Status moves through known statuses only: ``A -> X -> B`` with X unknown becomes ``A -> B`` at
        the time of the move out of X, so the time spent in X counts to A, the last status Jira knows."""
        if self.statuses is None:
            return rows
        known = self.statuses | ({current_status.casefold()} if current_status else set())
        moves = sorted(
            (r for r in rows if r["field"] == "status"), key=lambda r: (r["created"], r["history_id"], r["item_index"])
        )
        dropped: set[int] = set()
        carried: tuple[str | None, str | None] | None = None  # (from_value, from_string) of a folded move
        for row in moves:
            to_known = row["to_string"] is None or row["to_string"].casefold() in known
            from_known = row["from_string"] is None or row["from_string"].casefold() in known
            if not from_known and carried is not None:
                row["from_value"], row["from_string"] = carried
                from_known = True
            if not to_known:
                problems.add(
                    f"changelog[{row['history_id']}].status",
                    f"moved to {row['to_string']!r}, a status Jira does not list (the move is left out)",
                )
                dropped.add(id(row))
                if from_known:
                    carried = (row["from_value"], row["from_string"])
                continue
            carried = None
        return [r for r in rows if id(r) not in dropped]


def _number(value: float) -> str:
    return f"{value:.6g}"
