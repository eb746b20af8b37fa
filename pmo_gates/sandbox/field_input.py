"""Field values as clients write them (POST/PUT issue) -> the values the sandbox stores, or Jira's errors.

Jira answers a bad write with ``400 {"errorMessages": [], "errors": {"<field>": "<why>"}}`` and keeps every
problem it found; ``FieldErrors`` carries exactly that. References are resolved the way Jira resolves them:
project by key or id, issue type and priority by name or id, users by accountId (and by name on Data
Center), the parent by key or id.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from pmo_gates.sandbox import adf

if TYPE_CHECKING:
    from pmo_gates.sandbox.state import SandboxState

# System fields a client may set on create or edit.
SETTABLE = frozenset(
    {
        "project",
        "issuetype",
        "summary",
        "description",
        "environment",
        "labels",
        "assignee",
        "reporter",
        "priority",
        "duedate",
        "parent",
        "timetracking",
    }
)
CREATE_ONLY = frozenset({"project"})
TEXT_LIMIT = 32_767


class FieldErrors(Exception):
    """A write Jira would refuse: per-field ``errors`` and general ``messages`` (Jira's ErrorCollection)."""

    def __init__(self, errors: dict[str, str] | None = None, messages: list[str] | None = None, status: int = 400):
        self.errors = dict(errors or {})
        self.messages = list(messages or [])
        self.status = status
        super().__init__("; ".join([*self.messages, *(f"{k}: {v}" for k, v in self.errors.items())]))

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


class FieldWriter:
    """Resolves and checks one request's field values against the site (one instance per request)."""

    def __init__(self, state: SandboxState, *, flavour: str, api_version: str) -> None:
        self.state = state
        self.flavour = flavour
        self.api_version = api_version
        self.errors: dict[str, str] = {}

    def for_create(self, fields: dict[str, Any], update: dict[str, Any] | None) -> dict[str, Any]:
        """Stored values for a new issue; raises FieldErrors listing every problem."""
        merged = self._merge(fields, update, current=None)
        for required, message in (
            ("project", "Specify a valid project ID or key"),
            ("issuetype", "Specify an issue type"),
            ("summary", "You must specify a summary of the issue."),
        ):
            if merged.get(required) in (None, ""):
                self.errors.setdefault(required, message)
        values = self._convert_all(merged, creating=True)
        self._raise_if_errors()
        return values

    def for_edit(self, issue: dict[str, Any], fields: dict[str, Any], update: dict[str, Any] | None) -> dict[str, Any]:
        """The changed stored values for an edit; raises FieldErrors listing every problem."""
        merged = self._merge(fields, update, current=issue)
        values = self._convert_all(merged, creating=False)
        self._raise_if_errors()
        return values

    # -- merging fields and update operations -----------------------------------------------------------

    def _merge(self, fields: dict[str, Any], update: dict[str, Any] | None, current: dict[str, Any] | None) -> dict:
        if not isinstance(fields, dict):
            raise FieldErrors(messages=["'fields' must be an object"])
        merged = dict(fields)
        for name, operations in (update or {}).items():
            if name in fields:
                self.errors[name] = f"Field '{name}' cannot be set in both 'fields' and 'update'."
                continue
            if name == "comment":
                continue  # comments added through ``update`` are handled by the caller
            if not isinstance(operations, list):
                self.errors[name] = "Field operations must be a list of {operation: value} objects."
                continue
            merged[name] = self._apply_operations(name, operations, current)
        return merged

    def _apply_operations(self, name: str, operations: list[Any], current: dict[str, Any] | None) -> Any:
        value = (current or {}).get("fields", {}).get(name)
        if name == "labels":
            labels = list(value or [])
            for op in operations:
                if not isinstance(op, dict) or len(op) != 1:
                    self.errors[name] = "Each operation must be a single {add|remove|set: value} object."
                    return labels
                verb, arg = next(iter(op.items()))
                if verb == "add":
                    if arg not in labels:
                        labels.append(arg)
                elif verb == "remove":
                    labels = [lbl for lbl in labels if lbl != arg]
                elif verb == "set":
                    labels = list(arg or [])
                else:
                    self.errors[name] = f"Operation '{verb}' is not supported for field 'labels'."
            return labels
        for op in operations:
            if isinstance(op, dict) and set(op) == {"set"}:
                value = op["set"]
            else:
                self.errors[name] = f"Field '{name}' only supports the 'set' operation here."
        return value

    # -- conversion -------------------------------------------------------------------------------------

    def _convert_all(self, merged: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, raw in merged.items():
            if name in self.errors:
                continue
            if name.startswith("customfield_"):
                definition = self.state.site.field_def(name)
                if definition is None:
                    self.errors[name] = (
                        f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                    )
                    continue
                converted = self._custom(name, definition, raw)
            elif name not in SETTABLE or (name in CREATE_ONLY and not creating):
                self.errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
                continue
            else:
                converted = getattr(self, f"_{name}")(raw)
            if name not in self.errors:
                values[name] = converted
        return values

    def _raise_if_errors(self) -> None:
        if self.errors:
            raise FieldErrors(self.errors)

    def _project(self, raw: Any) -> Any:
        ref = raw.get("key") or raw.get("id") if isinstance(raw, dict) else raw
        project = self.state.site.project(str(ref)) if ref is not None else None
        if project is None:
            self.errors["project"] = "Specify a valid project ID or key"
            return None
        return self.state.site.project_ref(project)

    def _issuetype(self, raw: Any) -> Any:
        found = self._named(raw, self.state.issue_types())
        if found is None:
            self.errors["issuetype"] = "The issue type selected is invalid." if raw else "Specify an issue type"
        return found

    def _priority(self, raw: Any) -> Any:
        if raw is None:
            return None
        found = self._named(raw, self.state.priorities())
        if found is None:
            self.errors["priority"] = "The priority selected is invalid."
        return found

    @staticmethod
    def _named(raw: Any, objects: list[dict[str, Any]]) -> dict[str, Any] | None:
        if isinstance(raw, dict):
            wanted_id, wanted_name = raw.get("id"), raw.get("name")
        else:
            wanted_id = wanted_name = raw
        for obj in objects:
            if (wanted_id is not None and str(obj.get("id")) == str(wanted_id)) or (
                wanted_name is not None and obj.get("name") == wanted_name
            ):
                return obj
        return None

    def _summary(self, raw: Any) -> Any:
        if not isinstance(raw, str) or not raw.strip():
            self.errors["summary"] = "You must specify a summary of the issue."
        elif len(raw) > 255:
            self.errors["summary"] = "Summary must be less than 255 characters."
        elif "\n" in raw:
            self.errors["summary"] = "The summary is invalid because it contains newline characters."
        return raw

    def _description(self, raw: Any) -> Any:
        return self._rich_text("description", raw)

    def _environment(self, raw: Any) -> Any:
        return self._rich_text("environment", raw)

    def _rich_text(self, name: str, raw: Any) -> Any:
        if raw is None:
            return None
        if self.api_version == "2" and not isinstance(raw, str):
            self.errors[name] = "Operation value must be a string"
        elif self.api_version == "3" and not adf.is_adf(raw):  # Cloud's v3 takes no plain strings here
            self.errors[name] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
        elif len(adf.adf_to_text(raw) if adf.is_adf(raw) else raw) > TEXT_LIMIT:
            self.errors[name] = (
                f"The entered text is too long. It exceeds the allowed limit of {TEXT_LIMIT} characters."
            )
        return raw

    def _labels(self, raw: Any) -> Any:
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(lbl, str) for lbl in raw):
            self.errors["labels"] = "Labels must be a list of strings."
            return raw
        for label in raw:
            if not label or " " in label:
                self.errors["labels"] = f"The label '{label}' contains spaces which is invalid."
            elif len(label) > 255:
                self.errors["labels"] = "The label must not be longer than 255 characters."
        return list(dict.fromkeys(raw))

    def _assignee(self, raw: Any) -> Any:
        return self._user("assignee", raw)

    def _reporter(self, raw: Any) -> Any:
        return self._user("reporter", raw)

    def _user(self, name: str, raw: Any) -> Any:
        if raw is None or (isinstance(raw, dict) and raw.get("accountId") is None and raw.get("name") is None):
            return None
        if not isinstance(raw, dict):
            self.errors[name] = 'Specify the user as an object, e.g. {"accountId": "..."}.'
            return None
        if self.flavour == "dc":
            # Data Center knows users by login name only: not by accountId (Cloud's), nor by user key.
            if raw.get("name") is None:
                self.errors[name] = 'Specify the user by login name, e.g. {"name": "jdoe"} (Data Center).'
                return None
            user = self.state.site.user_by_name(str(raw["name"]))
        elif raw.get("accountId") is not None:
            user = self.state.site.user(str(raw["accountId"]))
        else:
            self.errors[name] = "Specify a valid value for the user: use accountId (usernames are not supported)."
            return None
        if user is None:
            shown = raw.get("accountId") or raw.get("name")
            self.errors[name] = f"User '{shown}' does not exist."
            return None
        return self.state.site.user_ref(user)

    def _duedate(self, raw: Any) -> Any:
        if raw in (None, ""):
            return None
        try:
            return date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            self.errors["duedate"] = f"Error parsing date string: {raw}"
            return None

    def _parent(self, raw: Any) -> Any:
        if raw is None:
            return None
        ref = (raw.get("key") or raw.get("id")) if isinstance(raw, dict) else raw
        parent = self.state.issue(str(ref)) if ref is not None else None
        if parent is None:
            self.errors["parent"] = "Could not find issue by id or key."
            return None
        return self.state.issue_ref(parent)

    def _timetracking(self, raw: Any) -> Any:
        if not isinstance(raw, dict):
            self.errors["timetracking"] = "Time tracking must be an object."
        return raw

    def _custom(self, field_id: str, definition: dict[str, Any], raw: Any) -> Any:
        schema = definition.get("schema") or {}
        type_, custom = schema.get("type"), str(schema.get("custom", "")).rsplit(":", 1)[-1]
        if raw is None:
            return None
        if type_ == "number":
            if isinstance(raw, bool) or not isinstance(raw, int | float):
                self.errors[field_id] = "Operation value must be a number"
            return raw
        if type_ in ("date", "datetime"):
            return self._duedate_like(field_id, raw)
        if type_ == "user":
            return self._user(field_id, raw)
        if type_ == "option":
            value = raw.get("value") if isinstance(raw, dict) else raw
            option = self.state.site.option(
                field_id, value=value, option_id=raw.get("id") if isinstance(raw, dict) else None
            )
            if option is None:
                self.errors[field_id] = f"Option value '{value}' is not valid"
            return option
        if custom == "gh-epic-link":
            if self.state.issue(str(raw)) is None:
                self.errors[field_id] = f"The issue '{raw}' does not exist."
            return raw
        if custom == "textarea":
            return self._rich_text(field_id, raw)
        if type_ == "string" and not isinstance(raw, str):
            self.errors[field_id] = "Operation value must be a string"
        return raw

    def _duedate_like(self, field_id: str, raw: Any) -> Any:
        try:
            date.fromisoformat(str(raw)[:10])
        except ValueError:
            self.errors[field_id] = f"Error parsing date string: {raw}"
        return raw
