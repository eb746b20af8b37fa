"""Stored issues -> the JSON Jira serves: field selection, expands, v2 strings vs v3 documents.

``fields`` follows Jira: a list (or comma-separated values) of field ids, ``*all``, ``*navigable``, ``-field``
to leave one out; ``id`` alone means ids only (the enhanced search's default). Links and parents are
re-read at render time, so they show the linked issue's current status the way Jira does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pmo_gates.sandbox import adf, catalog

if TYPE_CHECKING:
    from pmo_gates.sandbox.state import SandboxState

EMBEDDED_WORKLOGS = 20
ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_CHANGE_KEYS = (
    "field",
    "fieldtype",
    "fieldId",
    "from",
    "fromString",
    "to",
    "toString",
    "tmpFromAccountId",
    "tmpToAccountId",
)


@dataclass(frozen=True)
class FieldSelection:
    """Which fields to return: everything, the navigable ones, or a list; minus exclusions."""

    everything: bool
    navigable: bool
    wanted: frozenset[str]
    excluded: frozenset[str]

    @classmethod
    def parse(cls, values: Iterable[str] | None, *, default: str) -> FieldSelection:
        tokens = [t.strip() for v in (values or []) for t in str(v).split(",") if t.strip()]
        if not any(not t.startswith("-") for t in tokens):
            tokens = [default, *tokens]
        wanted = frozenset(t for t in tokens if not t.startswith("-") and not t.startswith("*"))
        return cls(
            everything="*all" in tokens,
            navigable="*navigable" in tokens,
            wanted=wanted,
            excluded=frozenset(t[1:] for t in tokens if t.startswith("-")),
        )

    @property
    def ids_only(self) -> bool:
        return not self.everything and not self.navigable and self.wanted <= {"id", "key"}

    @property
    def beyond_ids(self) -> bool:
        """Whether more than id/key is asked for (Cloud then caps pages lower)."""
        return not self.ids_only

    def field_ids(self, issue_fields: dict[str, Any], state: SandboxState) -> list[str]:
        if self.everything:
            chosen = list(issue_fields)
        elif self.navigable:
            chosen = [f for f in issue_fields if (state.site.field_def(f) or {}).get("navigable", True)]
            chosen += [f for f in self.wanted if f in issue_fields and f not in chosen]
        else:
            chosen = [f for f in self.wanted if f not in ("id", "key")]
        return [f for f in chosen if f not in self.excluded]


class IssueRenderer:
    """Renders issues for one request (API version, selection, expands)."""

    def __init__(
        self,
        state: SandboxState,
        *,
        api_version: str,
        selection: FieldSelection,
        expand: Iterable[str] = (),
        properties: Iterable[str] = (),
        changelog_limit: int | None = None,
    ) -> None:
        self.state = state
        self.api_version = api_version
        self.selection = selection
        self.expand = {e.strip() for e in expand if e.strip()}
        self.properties = [p.strip() for p in properties if p.strip()]
        self.changelog_limit = changelog_limit
        self._rich = set(catalog.RICH_TEXT_SYSTEM_FIELDS) | {
            f["id"]
            for f in state.fields()
            if str((f.get("schema") or {}).get("custom", "")) == catalog.TEXTAREA_CUSTOM_TYPE
        }
        self.names: dict[str, str] = {}

    @classmethod
    def for_version(cls, state: SandboxState, api_version: str) -> IssueRenderer:
        """A renderer for comments and worklogs only (no field selection involved)."""
        return cls(state, api_version=api_version, selection=FieldSelection.parse(["*all"], default="*all"))

    def issue(self, issue: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not self.selection.ids_only or self.expand or self.properties:
            out["expand"] = ISSUE_EXPAND
        out["id"] = str(issue["id"])
        if not (self.selection.ids_only and "key" not in self.selection.wanted) or self.expand:
            out["self"] = issue.get("self") or f"{self.state.base_url}/rest/api/2/issue/{issue['id']}"
            out["key"] = issue["key"]
        if not self.selection.ids_only:
            stored = issue["fields"]
            fields: dict[str, Any] = {}
            for field_id in self.selection.field_ids(stored, self.state):
                fields[field_id] = self.field_value(field_id, stored.get(field_id))
                definition = self.state.site.field_def(field_id)
                self.names[field_id] = definition["name"] if definition else field_id
            out["fields"] = fields
        if "changelog" in self.expand:
            out["changelog"] = self.changelog(issue)
        if "names" in self.expand and not self.selection.ids_only:
            out["names"] = {f: self.names[f] for f in out.get("fields", {})}
        if self.properties:
            stored_props = self.state.properties(issue["key"])
            wanted = (
                stored_props
                if "*all" in self.properties
                else {k: stored_props[k] for k in self.properties if k in stored_props}
            )
            out["properties"] = wanted
        return out

    def field_value(self, field_id: str, value: Any) -> Any:
        if value is None:
            return None
        if field_id in self._rich:
            return adf.for_api_version(value, self.api_version)
        if field_id == "comment":
            return {**value, "comments": [self.comment(c) for c in value.get("comments") or []]}
        if field_id == "worklog":
            # Jira embeds the first 20 worklogs with the real total; the rest are read from /worklog.
            every = value.get("worklogs") or []
            shown = every[:EMBEDDED_WORKLOGS]
            return {
                **value,
                "maxResults": max(len(shown), min(int(value.get("maxResults") or 0), EMBEDDED_WORKLOGS)),
                "total": max(len(every), int(value.get("total") or 0)),
                "worklogs": [self.worklog(w) for w in shown],
            }
        if field_id == "issuelinks":
            return [self._fresh_link(link) for link in value]
        if field_id == "parent":
            current = self.state.issue(value.get("id") or value.get("key"))
            return self.state.issue_ref(current) if current else value
        return value

    def _fresh_link(self, link: dict[str, Any]) -> dict[str, Any]:
        fresh = dict(link)
        for side in ("inwardIssue", "outwardIssue"):
            if side in link:
                current = self.state.issue(link[side].get("id") or link[side].get("key"))
                if current is not None:
                    fresh[side] = self.state.issue_ref(current)
        return fresh

    def comment(self, comment: dict[str, Any]) -> dict[str, Any]:
        return {**comment, "body": adf.for_api_version(comment.get("body") or "", self.api_version)}

    def worklog(self, worklog: dict[str, Any]) -> dict[str, Any]:
        if worklog.get("comment") is None:
            return worklog
        return {**worklog, "comment": adf.for_api_version(worklog["comment"], self.api_version)}

    def changelog(self, issue: dict[str, Any]) -> dict[str, Any]:
        histories = (issue.get("changelog") or {}).get("histories") or []
        shown = histories if self.changelog_limit is None else histories[: self.changelog_limit]
        return {
            "startAt": 0,
            "maxResults": len(shown),
            "total": len(histories),
            "histories": [history_entry(h) for h in shown],
        }


def history_entry(history: dict[str, Any]) -> dict[str, Any]:
    """A changelog history as served: the items' known keys, explicit nulls kept as Jira sends them."""
    items = [{k: item[k] for k in _CHANGE_KEYS if k in item} for item in history.get("items") or []]
    return {**history, "items": items}
