"""The sandbox's Jira configuration: workflow, statuses, priorities, issue types, link types, system fields.

These are what a default Jira site ships with (ids chosen like a fresh Cloud site's). The generator writes
issues that use them, and the server falls back to them when a snapshot does not carry its own lists.
Everything here is plain data: functions return fresh copies so callers may keep them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# The default base URL written into generated snapshots; the server rewrites it to its own URL on the way out.
DEFAULT_BASE_URL = "https://sandbox.atlassian.net"

STATUS_CATEGORIES: dict[str, dict[str, Any]] = {
    "new": {"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"},
    "indeterminate": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
    "done": {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}

# name -> (id, category key); the order is the workflow order (used to sort by status).
STATUSES: dict[str, tuple[str, str]] = {
    "To Do": ("10000", "new"),
    "In Progress": ("3", "indeterminate"),
    "In Review": ("10001", "indeterminate"),
    "Done": ("10002", "done"),
}
INITIAL_STATUS = "To Do"


class Transition(BaseModel):
    """One workflow transition: ``id`` is what POST /transitions takes."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    from_status: str
    to_status: str


WORKFLOW: tuple[Transition, ...] = (
    Transition(id="11", name="Start Progress", from_status="To Do", to_status="In Progress"),
    Transition(id="21", name="Submit for Review", from_status="In Progress", to_status="In Review"),
    Transition(id="31", name="Done", from_status="In Review", to_status="Done"),
    Transition(id="41", name="Back to In Progress", from_status="In Review", to_status="In Progress"),
    Transition(id="51", name="Stop Progress", from_status="In Progress", to_status="To Do"),
    Transition(id="61", name="Reopen", from_status="Done", to_status="To Do"),
)

DONE_RESOLUTION: dict[str, Any] = {
    "id": "10000",
    "name": "Done",
    "description": "Work has been completed on this issue.",
}

# name -> id, highest first (the order Jira sorts priorities in).
PRIORITIES: dict[str, str] = {"Highest": "1", "High": "2", "Medium": "3", "Low": "4", "Lowest": "5"}
PRIORITY_COLOURS = {"1": "#d04437", "2": "#f15C75", "3": "#f79232", "4": "#707070", "5": "#999999"}
DEFAULT_PRIORITY = "Medium"

# name -> (id, hierarchyLevel, subtask)
ISSUE_TYPES: dict[str, tuple[str, int, bool]] = {
    "Epic": ("10000", 1, False),
    "Story": ("10001", 0, False),
    "Task": ("10002", 0, False),
    "Sub-task": ("10003", -1, True),
    "Bug": ("10004", 0, False),
    "Risk": ("10005", 0, False),
    "Project": ("10006", 0, False),
}

# name -> (id, inward, outward)
LINK_TYPES: dict[str, tuple[str, str, str]] = {
    "Blocks": ("10000", "is blocked by", "blocks"),
    "Cloners": ("10001", "is cloned by", "clones"),
    "Duplicate": ("10002", "is duplicated by", "duplicates"),
    "Relates": ("10003", "relates to", "relates to"),
}

# System fields: id -> (name, schema type, items, navigable, orderable, searchable, clause names)
_SYSTEM_FIELDS: dict[str, tuple[str, str, str | None, bool, bool, bool, list[str]]] = {
    "summary": ("Summary", "string", None, True, True, True, ["summary"]),
    "description": ("Description", "string", None, True, True, True, ["description"]),
    "issuetype": ("Issue Type", "issuetype", None, True, True, True, ["issuetype", "type"]),
    "project": ("Project", "project", None, True, False, True, ["project"]),
    "status": ("Status", "status", None, True, False, True, ["status"]),
    "statuscategorychangedate": (
        "Status Category Changed",
        "datetime",
        None,
        True,
        False,
        True,
        ["statusCategoryChangedDate"],
    ),
    "priority": ("Priority", "priority", None, True, True, True, ["priority"]),
    "labels": ("Labels", "array", "string", True, True, True, ["labels"]),
    "assignee": ("Assignee", "user", None, True, True, True, ["assignee"]),
    "reporter": ("Reporter", "user", None, True, True, True, ["reporter"]),
    "creator": ("Creator", "user", None, True, False, True, ["creator"]),
    "created": ("Created", "datetime", None, True, False, True, ["created", "createdDate"]),
    "updated": ("Updated", "datetime", None, True, False, True, ["updated", "updatedDate"]),
    "resolution": ("Resolution", "resolution", None, True, True, True, ["resolution"]),
    "resolutiondate": ("Resolved", "datetime", None, True, False, True, ["resolutiondate", "resolved"]),
    "duedate": ("Due date", "date", None, True, True, True, ["due", "duedate"]),
    "parent": ("Parent", "issuelink", None, True, True, True, ["parent"]),
    "issuelinks": ("Linked Issues", "array", "issuelinks", True, True, True, ["issuelinks"]),
    "comment": ("Comment", "comments-page", None, False, True, True, ["comment"]),
    "worklog": ("Log Work", "array", "worklog", False, True, True, ["worklog"]),
    "timetracking": ("Time tracking", "timetracking", None, False, True, True, []),
    "timeoriginalestimate": (
        "Original estimate",
        "number",
        None,
        True,
        False,
        True,
        ["originalEstimate", "timeoriginalestimate"],
    ),
    "timeestimate": (
        "Remaining Estimate",
        "number",
        None,
        True,
        False,
        True,
        ["remainingEstimate", "timeestimate"],
    ),
    "timespent": ("Time Spent", "number", None, True, False, True, ["timespent"]),
    "environment": ("Environment", "string", None, True, True, True, ["environment"]),
}

# Fields whose text Jira serves as ADF on v3 (besides textarea custom fields).
RICH_TEXT_SYSTEM_FIELDS = frozenset({"description", "environment"})
TEXTAREA_CUSTOM_TYPE = "com.atlassian.jira.plugin.system.customfieldtypes:textarea"


def system_fields() -> list[dict[str, Any]]:
    """``GET /field`` entries for the system fields, as Jira describes them."""
    out = []
    for field_id, (name, type_, items, navigable, orderable, searchable, clauses) in _SYSTEM_FIELDS.items():
        schema: dict[str, Any] = {"type": type_, "system": field_id}
        if items:
            schema["items"] = items
        out.append(
            {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": False,
                "orderable": orderable,
                "navigable": navigable,
                "searchable": searchable,
                "clauseNames": list(clauses),
                "schema": schema,
            }
        )
    return out


def status_object(name: str, base_url: str) -> dict[str, Any]:
    """The ``fields.status`` object of an issue in ``name``."""
    status_id, category = STATUSES[name]
    cat = STATUS_CATEGORIES[category]
    return {
        "self": f"{base_url}/rest/api/2/status/{status_id}",
        "description": "",
        "iconUrl": f"{base_url}/images/icons/statuses/generic.png",
        "name": name,
        "id": status_id,
        "statusCategory": {"self": f"{base_url}/rest/api/2/statuscategory/{cat['id']}", **cat},
    }


def priority_object(name: str, base_url: str) -> dict[str, Any]:
    priority_id = PRIORITIES[name]
    return {
        "self": f"{base_url}/rest/api/2/priority/{priority_id}",
        "iconUrl": f"{base_url}/images/icons/priorities/{name.lower()}.svg",
        "name": name,
        "id": priority_id,
    }


def issue_type_object(name: str, base_url: str) -> dict[str, Any]:
    type_id, level, subtask = ISSUE_TYPES[name]
    return {
        "self": f"{base_url}/rest/api/2/issuetype/{type_id}",
        "id": type_id,
        "description": f"{name} issue type",
        "iconUrl": f"{base_url}/images/icons/issuetypes/{name.lower()}.svg",
        "name": name,
        "subtask": subtask,
        "hierarchyLevel": level,
    }


def link_type_object(name: str, base_url: str) -> dict[str, Any]:
    type_id, inward, outward = LINK_TYPES[name]
    return {
        "id": type_id,
        "name": name,
        "inward": inward,
        "outward": outward,
        "self": f"{base_url}/rest/api/2/issueLinkType/{type_id}",
    }


def resolution_object(base_url: str) -> dict[str, Any]:
    return {"self": f"{base_url}/rest/api/2/resolution/{DONE_RESOLUTION['id']}", **DONE_RESOLUTION}
