"""Changelog items for field changes, in the shape Jira records them (``from``/``fromString``/...).

Jira keeps ids in ``from``/``to`` and display text in ``fromString``/``toString``, and sends an empty side
as an explicit ``null`` (the published contract types them as strings; real payloads carry the nulls).
"""

from __future__ import annotations

from typing import Any

from pmo_gates.sandbox import adf

# Fields whose changes never appear in the changelog.
UNTRACKED = frozenset({"updated", "comment", "worklog", "issuelinks", "statuscategorychangedate", "lastViewed"})
_SYSTEM_NAMES = {"duedate": "duedate", "issuetype": "issuetype", "parent": "IssueParentAssociation"}


def change_item(field_id: str, old: Any, new: Any, definition: dict[str, Any] | None) -> dict[str, Any]:
    """One changelog item for ``field_id`` changing from ``old`` to ``new``."""
    custom = field_id.startswith("customfield_")
    name = (definition or {}).get("name", field_id) if custom else _SYSTEM_NAMES.get(field_id, field_id)
    item: dict[str, Any] = {"field": name, "fieldtype": "custom" if custom else "jira", "fieldId": field_id}
    from_id, from_text = describe(field_id, old)
    to_id, to_text = describe(field_id, new)
    item.update({"from": from_id, "fromString": from_text, "to": to_id, "toString": to_text})
    return item


def describe(field_id: str, value: Any) -> tuple[str | None, str | None]:
    """(id, display text) of a stored value, as a changelog item shows it."""
    if value is None or value == [] or value == "":
        return None, None
    if field_id == "labels" or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return None, " ".join(value)
    if field_id == "duedate":
        return value, f"{value} 00:00:00.0"
    if isinstance(value, dict):
        if adf.is_adf(value):
            return None, adf.adf_to_text(value)
        if "accountId" in value or "displayName" in value:
            return value.get("accountId") or value.get("name"), value.get("displayName")
        if "key" in value and "fields" in value:  # an issue reference (parent)
            return str(value.get("id")), value["key"]
        return _opt_str(value.get("id")), _opt_str(value.get("name") or value.get("value"))
    if isinstance(value, list):
        shown = [describe(field_id, v)[1] or "" for v in value]
        return None, ", ".join(shown)
    return None, str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
