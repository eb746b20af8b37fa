"""The site around the issues: fields, projects, users, statuses, priorities, issue types, link types.

Taken from the snapshot, completed from the issues themselves (a status, priority or select option used
by an issue exists) and from ``catalog`` defaults. Writes never change it; a reset rebuilds it.
Also builds the references Jira embeds in issues (users per flavour, projects).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pmo_gates.sandbox import catalog
from pmo_gates.sandbox.jql_eval import JqlSite
from pmo_gates.sandbox.snapshot import Snapshot

_ACTOR_ID = "557058:pmo-gates-sandbox"


class SiteCatalog:
    """One site's configuration, as the REST API shows it."""

    def __init__(
        self,
        snapshot: Snapshot,
        issues: Iterable[dict[str, Any]],
        *,
        flavour: str,
        base_url: str,
        actor_email: str | None,
        issue_exists: Callable[[str], bool],
    ) -> None:
        self.flavour = flavour
        self.base_url = base_url
        self.fields = [f.model_dump(by_alias=True, exclude_unset=True) for f in snapshot.fields]
        self._field_by_id = {f["id"]: f for f in self.fields}
        self.projects = [p.model_dump(by_alias=True, exclude_unset=True) for p in snapshot.projects]
        self._project_by_ref = {p["key"]: p for p in self.projects} | {str(p["id"]): p for p in self.projects}
        self.users = [u.model_dump(by_alias=True, exclude_unset=True) for u in snapshot.users]
        self.actor = self._find_or_add_actor(actor_email)
        self._user_by_ref: dict[str, dict[str, Any]] = {}
        self._user_by_name: dict[str, dict[str, Any]] = {}
        # Data Center user keys: since Jira 8.x a new user's key is JIRAUSER<n>, never its login name.
        self._dc_keys: dict[int, str] = {}
        for number, user in enumerate(self.users):
            key = user.get("key")
            self._dc_keys[id(user)] = str(key) if key and key != user.get("name") else f"JIRAUSER{10000 + number}"
            for ref in (user.get("accountId"), user.get("name"), user.get("key"), self._dc_keys[id(user)]):
                if ref:
                    self._user_by_ref.setdefault(str(ref), user)
            if user.get("name"):
                self._user_by_name.setdefault(str(user["name"]).lower(), user)
        self.link_types = [t.model_dump(by_alias=True, exclude_unset=True) for t in snapshot.issue_link_types]
        self.link_types = self.link_types or [catalog.link_type_object(n, base_url) for n in catalog.LINK_TYPES]
        self._options: dict[str, dict[str, dict[str, Any]]] = {}
        # Permission keys GET /mypermissions reports as missing (tests of ``pmo-gates doctor``).
        self.denied_permissions: set[str] = set()
        self._derive(snapshot, issues)
        self.jql = JqlSite(
            projects=self.projects,
            users=self.users,
            fields=self.fields,
            statuses=self.statuses,
            issue_types=self.issue_types,
            priorities=self.priorities,
            issue_exists=issue_exists,
        )

    def _find_or_add_actor(self, email: str | None) -> dict[str, Any]:
        """The user the sandbox acts as for API calls (``GET /myself``): the auth e-mail's user if known."""
        for user in self.users:
            if email and str(user.get("emailAddress", "")).lower() == email.lower():
                return user
        actor = {
            "accountId": _ACTOR_ID,
            "accountType": "atlassian",
            "name": "pmo-automation",
            "key": "pmo-automation",
            "displayName": "PMO Automation",
            "emailAddress": email or "pmo-automation@example.com",
            "active": True,
            "timeZone": "UTC",
        }
        self.users.append(actor)
        return actor

    def _derive(self, snapshot: Snapshot, issues: Iterable[dict[str, Any]]) -> None:
        """Statuses, priorities, issue types, options and the Done resolution: the snapshot's, else used ones."""
        base = self.base_url
        seen: dict[str, dict[str, dict[str, Any]]] = {"status": {}, "priority": {}, "issuetype": {}}
        option_fields = [
            f["id"] for f in self.fields if (f.get("schema") or {}).get("type") == "option" and f.get("custom")
        ]
        resolution = None
        for issue in issues:
            fields = issue["fields"]
            for name, table in seen.items():
                obj = fields.get(name)
                if obj and obj.get("name") and obj["name"] not in table:
                    table[obj["name"]] = obj
            for field_id in option_fields:
                value = fields.get(field_id)
                if isinstance(value, dict) and "value" in value:
                    self._options.setdefault(field_id, {}).setdefault(str(value["value"]), value)
            if resolution is None and (fields.get("resolution") or {}).get("name") == "Done":
                resolution = fields["resolution"]
        self.statuses = snapshot.statuses or _merge_by_name(
            seen["status"].values(), (catalog.status_object(n, base) for n in catalog.STATUSES)
        )
        self.priorities = snapshot.priorities or _merge_by_name(
            (catalog.priority_object(n, base) for n in catalog.PRIORITIES), seen["priority"].values()
        )
        project_types = [t for p in self.projects for t in p.get("issueTypes") or []]
        self.issue_types = snapshot.issue_types or _merge_by_name(
            project_types, seen["issuetype"].values(), (catalog.issue_type_object(n, base) for n in catalog.ISSUE_TYPES)
        )
        self._status_by_name = {s["name"]: s for s in self.statuses}
        self.done_resolution = resolution or catalog.resolution_object(base)

    # -- lookups ----------------------------------------------------------------------------------------

    def project(self, ref: str) -> dict[str, Any] | None:
        """A project by key (any case) or id."""
        return self._project_by_ref.get(ref) or self._project_by_ref.get(ref.upper())

    def user(self, ref: str) -> dict[str, Any] | None:
        """A user by accountId, login name or key."""
        return self._user_by_ref.get(ref)

    def user_by_name(self, login: str) -> dict[str, Any] | None:
        """A user by Data Center login name (case-insensitive, as DC compares them); never by key or accountId."""
        return self._user_by_name.get(login.lower())

    def dc_key(self, user: dict[str, Any]) -> str:
        """The user's Data Center key (``JIRAUSER12345``), which is not their login name."""
        return self._dc_keys.get(id(user)) or str(user.get("key") or user.get("name") or user.get("accountId"))

    def field_def(self, field_id: str) -> dict[str, Any] | None:
        return self._field_by_id.get(field_id)

    def add_custom_field(self, name: str, schema_type: str, custom_type: str) -> dict[str, Any]:
        """A new custom field as ``POST /field`` creates it (the next free ``customfield_N`` id)."""
        numbers = [int(f["id"].removeprefix("customfield_")) for f in self.fields if f["id"].startswith("customfield_")]
        number = max([*numbers, 10000]) + 1
        field_id = f"customfield_{number}"
        field: dict[str, Any] = {
            "id": field_id,
            "key": field_id,
            "name": name,
            "custom": True,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": [f"cf[{number}]", name],
            "schema": {"type": schema_type, "custom": custom_type, "customId": number},
        }
        self.fields.append(field)
        self._field_by_id[field_id] = field
        return dict(field)

    def status(self, name: str) -> dict[str, Any] | None:
        return self._status_by_name.get(name)

    def initial_status(self) -> dict[str, Any]:
        return self._status_by_name.get(catalog.INITIAL_STATUS) or self.statuses[0]

    def default_priority(self) -> dict[str, Any] | None:
        return next((p for p in self.priorities if p["name"] == catalog.DEFAULT_PRIORITY), None)

    def link_type(self, ref: dict[str, Any] | str) -> dict[str, Any] | None:
        """A link type by ``{"id"}``, ``{"name"}`` or name."""
        wanted_id = ref.get("id") if isinstance(ref, dict) else None
        wanted_name = ref.get("name") if isinstance(ref, dict) else ref
        for link_type in self.link_types:
            if (wanted_id is not None and str(link_type["id"]) == str(wanted_id)) or link_type["name"] == wanted_name:
                return link_type
        return None

    def option(self, field_id: str, *, value: Any, option_id: Any = None) -> dict[str, Any] | None:
        """A select field's option by value or id; a new value gets a new option (the snapshot has no lists)."""
        options = self._options.setdefault(field_id, {})
        for option in options.values():
            if (option_id is not None and str(option.get("id")) == str(option_id)) or option.get("value") == value:
                return option
        if value is None:
            return None
        new_id = str(20000 + sum(len(o) for o in self._options.values()))
        option = {"self": f"{self.base_url}/rest/api/2/customFieldOption/{new_id}", "value": value, "id": new_id}
        options[str(value)] = option
        return option

    # -- references as Jira embeds them -----------------------------------------------------------------

    def project_ref(self, project: dict[str, Any]) -> dict[str, Any]:
        return {
            "self": f"{self.base_url}/rest/api/2/project/{project['id']}",
            "id": str(project["id"]),
            "key": project["key"],
            "name": project["name"],
            "projectTypeKey": project.get("projectTypeKey", "software"),
            "simplified": bool(project.get("simplified", False)),
        }

    def user_ref(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user embedded in an issue: Cloud shows the accountId, Data Center the login name and key."""
        ref: dict[str, Any] = {}
        if self.flavour == "cloud" and user.get("accountId"):
            ref["self"] = f"{self.base_url}/rest/api/2/user?accountId={user['accountId']}"
            ref["accountId"] = user["accountId"]
            ref["accountType"] = user.get("accountType", "atlassian")
        else:
            name = user.get("name") or user.get("accountId")
            ref["self"] = f"{self.base_url}/rest/api/2/user?username={name}"
            ref.update(name=name, key=self.dc_key(user))
            if user.get("accountId"):
                ref["accountId"] = user["accountId"]
            if user.get("emailAddress"):
                ref["emailAddress"] = user["emailAddress"]
        ref.update(displayName=user.get("displayName", ""), active=bool(user.get("active", True)))
        if user.get("timeZone"):
            ref["timeZone"] = user["timeZone"]
        return ref

    def dc_user_ref(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user as Data Center serves one: login name and key, no accountId."""
        name = user.get("name") or user.get("accountId")
        ref: dict[str, Any] = {
            "self": f"{self.base_url}/rest/api/2/user?username={name}",
            "name": name,
            "key": self.dc_key(user),
        }
        if user.get("emailAddress"):
            ref["emailAddress"] = user["emailAddress"]
        ref.update(displayName=user.get("displayName", ""), active=bool(user.get("active", True)))
        if user.get("timeZone"):
            ref["timeZone"] = user["timeZone"]
        return ref


def _merge_by_name(*sources: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for source in sources:
        for obj in source:
            merged.setdefault(obj["name"], obj)
    return list(merged.values())
