"""Raw Jira issue JSON -> rows for the store's tables.

Bad data never stops a sync: a value that cannot be stored as-is (a bad date, text where a number belongs,
a NUL character PostgreSQL refuses, a name longer than its column) is stored as far as it is valid, and
the problem is recorded on the issue (``issues.data_errors``) and in the sync result, naming issue and
field. Only an issue without a usable id or key is skipped, since the store cannot identify it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel

from pmo_gates.connectors.fields import FieldIds
from pmo_gates.connectors.plausibility import Checker

PHASES = ("initiation", "planning", "execution", "closure")
STATUS_CATEGORIES = frozenset({"new", "indeterminate", "done"})
# Column widths of the store (PostgreSQL enforces them; SQLite would silently keep longer text).
_WIDTH = {"key": 64, "name": 64, "short": 32, "label": 255, "person": 128, "field": 128, "link": 64}

# The configured fields (config ``fields:``) read from the anchor issue into the project row.
PROJECT_FIELDS = (
    "phase",
    "planned_start",
    "planned_end",
    "baseline_date",
    "budget",
    "actual_cost",
    "hourly_rate",
    "project_manager",
    "strategic_value",
    "expected_roi",
    "charter",
    "budget_approved",
    "lessons_learned",
)
# The fields a sync asks search for, besides the configured custom fields.
SYSTEM_FIELDS = (
    "summary",
    "issuetype",
    "project",
    "status",
    "resolution",
    "priority",
    "assignee",
    "reporter",
    "created",
    "updated",
    "resolutiondate",
    "duedate",
    "labels",
    "parent",
    "issuelinks",
    "timeoriginalestimate",
    "timespent",
    "timeestimate",
    "worklog",
)

_LEGACY_SPRINT = re.compile(r"\[(?P<body>.*)\]\s*$", re.DOTALL)
_LEGACY_PAIR = re.compile(r"(?:^|,)(\w+)=(.*?)(?=,\w+=|$)", re.DOTALL)


class DataError(BaseModel):
    """One bad value: which issue (or project), which field, what was wrong."""

    key: str
    field: str
    message: str


@dataclass
class MappedIssue:
    """Everything one Jira issue contributes to the store."""

    issue: dict[str, Any]
    links: list[dict[str, Any]] = field(default_factory=list)
    changelog: list[dict[str, Any]] = field(default_factory=list)
    worklogs: list[dict[str, Any]] = field(default_factory=list)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    project: dict[str, Any] | None = None
    errors: list[DataError] = field(default_factory=list)
    updated_valid: bool = True

    @property
    def id(self) -> int:
        return int(self.issue["id"])


class _Errors:
    def __init__(self, key: str) -> None:
        self.key = key
        self.items: list[DataError] = []

    def add(self, field_name: str, message: str) -> None:
        self.items.append(DataError(key=self.key, field=field_name, message=message))


def clean_text(value: str, errors: _Errors, field_name: str, width: int | None = None) -> str:
    """``value`` as the database can store it: no NUL, no lone surrogates, at most ``width`` chars."""
    if "\x00" in value:
        value = value.replace("\x00", "")
        errors.add(field_name, "contained NUL characters (removed)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
        errors.add(field_name, "contained invalid unicode (lone surrogates replaced by '?')")
    if width is not None and len(value) > width:
        errors.add(field_name, f"longer than {width} characters (cut)")
        value = value[:width]
    return value


def _text(value: Any, errors: _Errors, field_name: str, width: int | None = None) -> str | None:
    if value is None:
        return None
    if type(value) is str and value.isascii() and "\x00" not in value and (width is None or len(value) <= width):
        return value  # the common case, 200,000s of times per sync: nothing to clean
    if isinstance(value, dict):
        value = value.get("value", value.get("name"))
        if value is None:
            errors.add(field_name, "expected text, got an object without a value")
            return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.add(field_name, f"expected text, got {type(value).__name__}")
        return None
    return clean_text(str(value), errors, field_name, width)


def parse_jira_datetime(value: str) -> datetime:
    """``2026-11-02T10:15:30.000+0000`` (or any ISO 8601) as an aware UTC datetime; raises ValueError."""
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _datetime(value: Any, errors: _Errors, field_name: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return parse_jira_datetime(value)
        except ValueError:
            pass
    errors.add(field_name, f"not a date-time: {str(value)[:60]!r}")
    return None


def _date(value: Any, errors: _Errors, field_name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    errors.add(field_name, f"not a date (yyyy-MM-dd): {str(value)[:60]!r}")
    return None


def _number(value: Any, errors: _Errors, field_name: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict) and "value" in value:  # a select option holding a number
        value = value["value"]
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            errors.add(field_name, f"not a number: {value[:60]!r}")
            return None
    else:
        errors.add(field_name, f"not a number: {type(value).__name__}")
        return None
    if not math.isfinite(number):
        errors.add(field_name, f"not a finite number: {value!r}")
        return None
    return number


def _seconds(value: Any, errors: _Errors, field_name: str) -> int | None:
    number = _number(value, errors, field_name)
    return None if number is None else int(number)


def person_id(user: Any) -> str | None:
    """Cloud's accountId, else Data Center's login name (its key only when a payload lacks the name).

    The id is what we write back: Cloud takes ``{"accountId": id}`` and ``[~accountid:id]``, Data Center
    ``{"name": login}`` and ``[~login]``; a DC user key (``JIRAUSER12345``) is accepted by neither."""
    if not isinstance(user, dict):
        return None
    ident = user.get("accountId") or user.get("name") or user.get("key")
    return str(ident) if ident else None


def _person(user: Any, people: dict[str, dict[str, Any]], errors: _Errors, field_name: str) -> str | None:
    if user is None:
        return None
    ident = person_id(user)
    if ident is None:
        errors.add(field_name, "expected a user (accountId or name)")
        return None
    ident = clean_text(ident, errors, field_name, _WIDTH["person"])
    if ident not in people:
        name = user.get("displayName")
        people[ident] = {
            "account_id": ident,
            "display_name": _text(name, errors, f"{field_name}.displayName", 255) if name else None,
            "active": bool(user.get("active", True)),
            **dc_identity(user, errors, field_name),
        }
    return ident


def dc_identity(user: dict[str, Any], errors: _Errors, field_name: str) -> dict[str, str | None]:
    """Data Center's user key and login name (both None on Cloud, where the accountId is the only id)."""
    if user.get("accountId"):
        return {"user_key": None, "login": None}
    key, login = user.get("key"), user.get("name")
    return {
        "user_key": clean_text(str(key), errors, f"{field_name}.key", _WIDTH["person"]) if key else None,
        "login": clean_text(str(login), errors, f"{field_name}.name", _WIDTH["person"]) if login else None,
    }


def _named(value: Any, errors: _Errors, field_name: str, width: int) -> str | None:
    """The ``name`` of a Jira object such as status, priority or resolution."""
    if value is None:
        return None
    if isinstance(value, dict):
        return _text(value.get("name"), errors, field_name, width)
    return _text(value, errors, field_name, width)


def parse_sprint(value: Any) -> tuple[str | None, str | None]:
    """The current sprint's name from a Sprint field (Cloud objects or the legacy
    ``com.atlassian.greenhopper...Sprint@x[id=1,state=ACTIVE,name=S1,...]`` strings), and a problem."""
    if value is None or value == []:
        return None, None
    items = value if isinstance(value, list) else [value]
    sprints: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, dict):
            sprints.append(item)
        elif isinstance(item, str):
            match = _LEGACY_SPRINT.search(item)
            if not match:
                return None, f"unrecognised sprint value {item[:60]!r}"
            sprints.append({k: v for k, v in _LEGACY_PAIR.findall(match.group("body"))})
        else:
            return None, f"unrecognised sprint value of type {type(item).__name__}"
    active = [s for s in sprints if str(s.get("state", "")).lower() == "active"]
    chosen = (active or sprints)[-1]
    name = chosen.get("name")
    if not name or name == "<null>":
        return None, "sprint without a name"
    return str(name), None


def _links(raw_links: Any, key: str, issue_id: int, errors: _Errors) -> list[dict[str, Any]]:
    if raw_links is None:
        return []
    if not isinstance(raw_links, list):
        errors.add("issuelinks", "expected a list")
        return []
    rows = []
    for link in raw_links:
        if not isinstance(link, dict) or not link.get("id"):
            errors.add("issuelinks", "link without an id (skipped)")
            continue
        link_type = _named(link.get("type"), errors, "issuelinks.type", _WIDTH["link"]) or "unknown"
        if isinstance(link.get("outwardIssue"), dict) and link["outwardIssue"].get("key"):
            from_key, to_key = key, str(link["outwardIssue"]["key"])
        elif isinstance(link.get("inwardIssue"), dict) and link["inwardIssue"].get("key"):
            from_key, to_key = str(link["inwardIssue"]["key"]), key
        else:
            errors.add("issuelinks", f"link {link['id']} names no other issue (skipped)")
            continue
        rows.append(
            {
                "id": str(link["id"]),
                "issue_id": issue_id,
                "link_type": link_type,
                "from_key": from_key[: _WIDTH["key"]],
                "to_key": to_key[: _WIDTH["key"]],
            }
        )
    return rows


def _changelog(
    histories: list[Any], issue_id: int, people: dict[str, dict[str, Any]], errors: _Errors
) -> list[dict[str, Any]]:
    rows = []
    for history in histories:
        if not isinstance(history, dict) or history.get("id") is None:
            errors.add("changelog", "history entry without an id (skipped)")
            continue
        created = _datetime(history.get("created"), errors, f"changelog[{history['id']}].created")
        if created is None:
            continue
        author = _person(history.get("author"), people, errors, "changelog.author")
        for index, item in enumerate(history.get("items") or []):
            if not isinstance(item, dict):
                continue
            rows.append(
                {
                    "issue_id": issue_id,
                    "history_id": str(history["id"])[:32],
                    "item_index": index,
                    "author_id": author,
                    "created": created,
                    "field": _text(item.get("field"), errors, "changelog.field", _WIDTH["field"]) or "",
                    "from_value": _text(item.get("from"), errors, "changelog.from"),
                    "from_string": _text(item.get("fromString"), errors, "changelog.fromString"),
                    "to_value": _text(item.get("to"), errors, "changelog.to"),
                    "to_string": _text(item.get("toString"), errors, "changelog.toString"),
                }
            )
    return rows


def _worklogs(
    worklogs: list[Any], issue_id: int, people: dict[str, dict[str, Any]], errors: _Errors
) -> list[dict[str, Any]]:
    rows = []
    for worklog in worklogs:
        if not isinstance(worklog, dict) or worklog.get("id") is None:
            errors.add("worklog", "worklog without an id (skipped)")
            continue
        started = _datetime(worklog.get("started"), errors, f"worklog[{worklog['id']}].started")
        spent = _seconds(worklog.get("timeSpentSeconds"), errors, f"worklog[{worklog['id']}].timeSpentSeconds")
        if started is None or spent is None:
            continue
        rows.append(
            {
                "id": str(worklog["id"])[:32],
                "issue_id": issue_id,
                "author_id": _person(worklog.get("author"), people, errors, "worklog.author"),
                "started": started,
                "time_spent_s": spent,
            }
        )
    return rows


def _adf_text(node: Any) -> str:
    """Plain text of an Atlassian Document Format node (v3 text fields)."""
    if isinstance(node, dict):
        text = node.get("text", "")
        inner = "".join(_adf_text(child) for child in node.get("content") or [])
        sep = "\n" if node.get("type") in {"paragraph", "heading", "listItem"} else ""
        return text + inner + sep
    if isinstance(node, list):
        return "".join(_adf_text(child) for child in node)
    return ""


def _bool(value: Any, errors: _Errors, field_name: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, list):  # a checkbox field: approved when "Yes" is ticked
        if not value:
            return None
        return any(_bool(v, errors, field_name) for v in value)
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"yes", "true", "y", "approved"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"no", "false", "n", "not approved"}:
        return False
    errors.add(field_name, f"expected Yes or No, got {str(value)[:60]!r}")
    return None


def _project_metadata(
    fields: dict[str, Any],
    ids: FieldIds,
    project: dict[str, Any],
    key: str,
    people: dict[str, dict[str, Any]],
    errors: _Errors,
    synced_at: datetime,
) -> dict[str, Any]:
    def raw(name: str) -> Any:
        field_id = ids.get(name)
        return fields.get(field_id) if field_id else None

    phase_raw = raw("phase")
    phase = _text(phase_raw, errors, "phase")
    if phase is not None:
        phase = phase.strip().lower()
        if phase not in PHASES:
            errors.add("phase", f"{phase!r} is not one of {', '.join(PHASES)}")
            phase = None
    pm = raw("project_manager")
    pm_id = _person(pm, people, errors, "project_manager")
    charter = _text(raw("charter"), errors, "charter")
    if charter is not None and not charter.strip().lower().startswith(("http://", "https://")):
        errors.add("charter", f"not an http(s) URL: {charter[:60]!r}")
        charter = None
    lessons = raw("lessons_learned")
    lessons_text = (
        _adf_text(lessons).strip() if isinstance(lessons, dict) else _text(lessons, errors, "lessons_learned")
    )
    return {
        "key": key,
        "jira_id": str(project.get("id") or ""),
        "name": _text(project.get("name"), errors, "project.name", 255) or key,
        "anchor_issue_key": None,  # filled by the caller
        "phase": phase,
        "planned_start": _date(raw("planned_start"), errors, "planned_start"),
        "planned_end": _date(raw("planned_end"), errors, "planned_end"),
        "baseline_date": _date(raw("baseline_date"), errors, "baseline_date"),
        "budget": _number(raw("budget"), errors, "budget"),
        "actual_cost": _number(raw("actual_cost"), errors, "actual_cost"),
        "hourly_rate": _number(raw("hourly_rate"), errors, "hourly_rate"),
        "project_manager_id": pm_id,
        "project_manager_name": people[pm_id]["display_name"] if pm_id else None,
        "strategic_value": _number(raw("strategic_value"), errors, "strategic_value"),
        "expected_roi": _number(raw("expected_roi"), errors, "expected_roi"),
        "charter_url": charter,
        "budget_approved": _bool(raw("budget_approved"), errors, "budget_approved"),
        "lessons_learned": lessons_text,
        "metadata_json": {name: raw(name) for name in PROJECT_FIELDS if ids.get(name)},
        "synced_at": synced_at,
    }


def map_issue(
    raw: dict[str, Any],
    ids: FieldIds,
    *,
    anchor_issue_type: str,
    synced_at: datetime,
    histories: list[Any] | None = None,
    worklogs: list[Any] | None = None,
    checker: Checker | None = None,
) -> MappedIssue | DataError:
    """Map one issue; ``histories``/``worklogs`` override the (possibly truncated) embedded ones.

    ``checker`` holds what plausible values are (the sync passes one that knows Jira's statuses; the
    default checks ranges only). Returns a ``DataError`` instead when the issue cannot be identified (no
    numeric id or no key).
    """
    checker = checker or Checker(synced_at)
    key = raw.get("key") if isinstance(raw, dict) else None
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(key, str) or not key or not str(raw_id or "").isdigit():
        return DataError(key=str(key or "?"), field="id", message="issue without a numeric id and a key (skipped)")
    errors = _Errors(key)
    key = clean_text(key, errors, "key", _WIDTH["key"])
    issue_id = int(raw_id)  # type: ignore[arg-type]
    fields = raw.get("fields") if isinstance(raw.get("fields"), dict) else {}
    if not fields:
        errors.add("fields", "issue has no fields")
    people: dict[str, dict[str, Any]] = {}

    project = fields.get("project") if isinstance(fields.get("project"), dict) else {}
    project_key = str(project.get("key") or key.rsplit("-", 1)[0])[: _WIDTH["key"]]
    issue_type = _named(fields.get("issuetype"), errors, "issuetype", _WIDTH["name"])
    if issue_type is None:
        errors.add("issuetype", "missing")
    status = fields.get("status") if isinstance(fields.get("status"), dict) else {}
    status_name = _named(status, errors, "status", _WIDTH["name"])
    if status_name is None:
        errors.add("status", "missing")
    category = str((status.get("statusCategory") or {}).get("key") or "")
    if category not in STATUS_CATEGORIES:
        if category != "undefined":
            errors.add("status.statusCategory", f"unknown status category {category!r} (taken as 'new')")
        category = "new"

    created = _datetime(fields.get("created"), errors, "created")
    updated = _datetime(fields.get("updated"), errors, "updated")
    updated_valid = updated is not None
    if created is None:
        errors.add("created", "missing or invalid (stored as the updated time)")
        created = updated or synced_at
    if updated is None:
        errors.add("updated", "missing or invalid (stored as the created time; not used as watermark)")
        updated = created

    labels_raw = fields.get("labels") or []
    labels = []
    if isinstance(labels_raw, list):
        labels = [clean_text(str(label), errors, "labels") for label in labels_raw if label is not None]
    else:
        errors.add("labels", "expected a list")

    sprint, problem = parse_sprint(fields.get(ids.get("sprint") or "", None))
    if problem:
        errors.add("sprint", problem)
    if sprint is not None:
        sprint = clean_text(sprint, errors, "sprint", _WIDTH["label"])

    parent = fields.get("parent")
    parent_key = parent.get("key") if isinstance(parent, dict) else None
    epic = fields.get(ids.get("epic_link") or "", None)
    if parent_key is None and epic is not None:
        parent_key = epic.get("key") if isinstance(epic, dict) else epic
        if not isinstance(parent_key, str):
            errors.add("epic_link", "expected an issue key")
            parent_key = None

    row = {
        "id": issue_id,
        "key": key,
        "project_key": project_key,
        "issue_type": issue_type or "",
        "summary": _text(fields.get("summary"), errors, "summary") or "",
        "status": status_name or "",
        "status_category": category,
        "resolution": _named(fields.get("resolution"), errors, "resolution", _WIDTH["name"]),
        "priority": _named(fields.get("priority"), errors, "priority", _WIDTH["short"]),
        "assignee_id": _person(fields.get("assignee"), people, errors, "assignee"),
        "reporter_id": _person(fields.get("reporter"), people, errors, "reporter"),
        "created": created,
        "updated": updated,
        "resolved": _datetime(fields.get("resolutiondate"), errors, "resolutiondate"),
        "due_date": _date(fields.get("duedate"), errors, "duedate"),
        "story_points": _number(fields.get(ids.get("story_points") or "", None), errors, "story_points"),
        "original_estimate_s": _seconds(fields.get("timeoriginalestimate"), errors, "timeoriginalestimate"),
        "time_spent_s": _seconds(fields.get("timespent"), errors, "timespent"),
        "remaining_estimate_s": _seconds(fields.get("timeestimate"), errors, "timeestimate"),
        "parent_key": parent_key[: _WIDTH["key"]] if parent_key else None,
        "labels": labels,
        "sprint": sprint,
        "synced_at": synced_at,
    }
    updated_valid = checker.issue(row, errors) and updated_valid
    mapped = MappedIssue(issue=row, people=people, updated_valid=updated_valid)
    mapped.links = checker.links(_links(fields.get("issuelinks"), key, issue_id, errors), key, errors)
    if histories is None:
        changelog = raw.get("changelog")
        histories = changelog.get("histories") if isinstance(changelog, dict) else None
    mapped.changelog = checker.changelog(_changelog(histories or [], issue_id, people, errors), errors, status_name)
    if worklogs is None:
        embedded = fields.get("worklog")
        worklogs = embedded.get("worklogs") if isinstance(embedded, dict) else None
    mapped.worklogs = checker.worklogs(_worklogs(worklogs or [], issue_id, people, errors), errors)
    if issue_type == anchor_issue_type:
        mapped.project = _project_metadata(fields, ids, project, project_key, people, errors, synced_at)
        mapped.project["anchor_issue_key"] = key
        checker.project(mapped.project, errors)
    mapped.errors = errors.items
    row["data_errors"] = [f"{e.field}: {e.message}" for e in errors.items]
    return mapped


def changelog_truncated(raw: dict[str, Any]) -> bool:
    """True when search embedded only part of the issue's history."""
    changelog = raw.get("changelog")
    if not isinstance(changelog, dict):
        return False
    histories = changelog.get("histories") or []
    total = changelog.get("total")
    return isinstance(total, int) and total > len(histories)


def worklogs_truncated(raw: dict[str, Any]) -> bool:
    """True when the embedded ``worklog`` field holds only some of the issue's worklogs."""
    fields = raw.get("fields")
    embedded = fields.get("worklog") if isinstance(fields, dict) else None
    if not isinstance(embedded, dict):
        return False
    total = embedded.get("total")
    return isinstance(total, int) and total > len(embedded.get("worklogs") or [])
