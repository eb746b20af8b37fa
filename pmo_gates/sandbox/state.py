"""The sandbox's Jira: issues in memory with indexes, and every write Jira allows through its REST API.

Stored issues are the snapshot's dicts in Jira's v2 shape. They are never changed in place: a write builds
a new issue dict (copy-on-write) and swaps it in, so a reader holding an issue sees a consistent version
and a reset can go back to the snapshot without a deep copy. Treat what the read methods return as
read-only.

Indexes: id -> issue, key -> id, project key -> ids, and (updated, id) sorted, so a search over a
200,000-issue portfolio ordered by ``updated`` pages in O(page) and ``project = X`` reads one project.

Every write takes the lock, stamps ``fields.updated`` from the injectable clock, appends a changelog
history for tracked field changes (status, labels, priority, assignee, duedate, summary, ...) and bumps
``version`` (search caches key on it).

Example (a test moving an issue behind the connector's back)::

    sb.state.update_issue("CPR-3", {"labels": ["urgent"]})
    sb.state.transition("CPR-3", "Done")
"""

from __future__ import annotations

import bisect
import json
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pmo_gates.sandbox import catalog
from pmo_gates.sandbox.field_input import FieldErrors, FieldWriter
from pmo_gates.sandbox.gc_pause import gc_paused
from pmo_gates.sandbox.history import UNTRACKED, change_item
from pmo_gates.sandbox.jira_time import format_datetime, parse_datetime, utc_now
from pmo_gates.sandbox.jql import parse
from pmo_gates.sandbox.jql_eval import CompiledQuery, JqlCompiler, JqlContext
from pmo_gates.sandbox.search_engine import SearchEngine
from pmo_gates.sandbox.snapshot import Snapshot

PROPERTY_VALUE_LIMIT = 32_768
PROPERTY_KEY_LIMIT = 255
_ACTOR_ID = "557058:pmo-gates-sandbox"


class IssueNotFound(LookupError):
    """No issue with that key or id (Jira answers 404)."""

    def __init__(self, key_or_id: str) -> None:
        super().__init__(key_or_id)
        self.key_or_id = key_or_id


class SandboxState:
    """Everything the sandbox serves, loaded from a snapshot; thread-safe."""

    def __init__(
        self,
        snapshot: Snapshot,
        *,
        flavour: str = "cloud",
        clock: Callable[[], datetime] | None = None,
        actor_email: str | None = None,
    ) -> None:
        if flavour not in ("cloud", "dc"):
            raise ValueError(f"flavour must be 'cloud' or 'dc', got {flavour!r}")
        self.snapshot = snapshot
        self.flavour = flavour
        self.clock = clock or utc_now
        self.actor_email = actor_email
        self.lock = threading.RLock()
        self.base_url = snapshot.base_url or catalog.DEFAULT_BASE_URL
        self.version = 0
        self.search = SearchEngine(self)
        self.reset()

    # -- loading ----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the snapshot: every write, comment, property and link made since is forgotten."""
        with self.lock, gc_paused():
            snap = self.snapshot
            self._fields = [f.model_dump(by_alias=True, exclude_unset=True) for f in snap.fields]
            self._field_by_id = {f["id"]: f for f in self._fields}
            self._projects = [p.model_dump(by_alias=True, exclude_unset=True) for p in snap.projects]
            self._project_by_ref = {p["key"]: p for p in self._projects} | {str(p["id"]): p for p in self._projects}
            self._users = [u.model_dump(by_alias=True, exclude_unset=True) for u in snap.users]
            self.actor = self._find_or_add_actor()
            self._user_by_ref: dict[str, dict[str, Any]] = {}
            for user in self._users:
                for ref in (user.get("accountId"), user.get("name"), user.get("key")):
                    if ref:
                        self._user_by_ref.setdefault(str(ref), user)
            self._link_types = [t.model_dump(by_alias=True, exclude_unset=True) for t in snap.issue_link_types]
            self._issues: dict[int, dict[str, Any]] = {}
            self._ids_by_key: dict[str, int] = {}
            self._project_ids: dict[str, dict[int, None]] = {p["key"]: {} for p in self._projects}
            self._properties: dict[int, dict[str, Any]] = {}
            self._links: dict[str, tuple[int, int, dict[str, Any]]] = {}
            self._options: dict[str, dict[str, dict[str, Any]]] = {}
            updated: list[tuple[float, int]] = []
            for issue in snap.issues:
                issue_id = int(issue["id"])
                self._issues[issue_id] = issue
                self._ids_by_key[issue["key"].upper()] = issue_id
                project_key = issue["fields"]["project"].get("key") or self._project_key_of(issue)
                self._project_ids.setdefault(project_key, {})[issue_id] = None
                updated.append((parse_datetime(issue["fields"]["updated"]).timestamp(), issue_id))
                if issue.get("properties"):
                    self._properties[issue_id] = dict(issue["properties"])
                self._index_links(issue_id, issue)
            updated.sort()
            self._updated = updated
            self._derive_catalogs()
            self._next_issue_id = max(self._issues, default=10000) + 1
            self._next_number = {key: self._max_number(key) + 1 for key in self._project_ids}
            self._next_history_id = self._max_nested_id("changelog") + 1
            self._next_comment_id = self._max_nested_id("comment") + 1
            self._next_link_id = max((int(i) for i in self._links if i.isdigit()), default=10000) + 1
            self.version += 1

    def _find_or_add_actor(self) -> dict[str, Any]:
        """The user the sandbox acts as for API calls (``GET /myself``): the auth e-mail's user if known."""
        for user in self._users:
            if self.actor_email and user.get("emailAddress", "").lower() == self.actor_email.lower():
                return user
        actor = {
            "accountId": _ACTOR_ID,
            "accountType": "atlassian",
            "name": "pmo-automation",
            "key": "pmo-automation",
            "displayName": "PMO Automation",
            "emailAddress": self.actor_email or "pmo-automation@example.com",
            "active": True,
            "timeZone": "UTC",
        }
        self._users.append(actor)
        return actor

    def _project_key_of(self, issue: dict[str, Any]) -> str:
        project = self._project_by_ref.get(str(issue["fields"]["project"].get("id")))
        return project["key"] if project else issue["key"].rsplit("-", 1)[0]

    def _index_links(self, issue_id: int, issue: dict[str, Any]) -> None:
        for link in issue["fields"].get("issuelinks") or []:
            other = link.get("outwardIssue")
            if other and link.get("id") is not None:  # this issue is the link's source (inward side)
                self._links[str(link["id"])] = (issue_id, int(other["id"]), link.get("type") or {})

    def _derive_catalogs(self) -> None:
        snap, base = self.snapshot, self.base_url
        seen: dict[str, dict[str, dict[str, Any]]] = {"status": {}, "priority": {}, "issuetype": {}}
        for issue in self._issues.values():
            fields = issue["fields"]
            for name, table in seen.items():
                obj = fields.get(name)
                if obj and obj.get("name") and obj["name"] not in table:
                    table[obj["name"]] = obj
            for field_id, value in fields.items():
                if field_id.startswith("customfield_") and isinstance(value, dict) and "value" in value:
                    self._options.setdefault(field_id, {}).setdefault(str(value["value"]), value)
        self._statuses = snap.statuses or _merge_by_name(
            seen["status"].values(), (catalog.status_object(n, base) for n in catalog.STATUSES)
        )
        self._priorities = snap.priorities or _merge_by_name(
            (catalog.priority_object(n, base) for n in catalog.PRIORITIES), seen["priority"].values()
        )
        project_types = [t for p in self._projects for t in p.get("issueTypes") or []]
        self._issue_types = snap.issue_types or _merge_by_name(
            project_types, seen["issuetype"].values(), (catalog.issue_type_object(n, base) for n in catalog.ISSUE_TYPES)
        )
        if not self._link_types:
            self._link_types = [catalog.link_type_object(n, base) for n in catalog.LINK_TYPES]
        self._status_by_name = {s["name"]: s for s in self._statuses}
        self._resolution = next(
            (
                i["fields"]["resolution"]
                for i in self._issues.values()
                if (i["fields"].get("resolution") or {}).get("name") == "Done"
            ),
            catalog.resolution_object(base),
        )

    def _max_number(self, project_key: str) -> int:
        numbers = [int(self._issues[i]["key"].rsplit("-", 1)[1]) for i in self._project_ids[project_key]]
        return max(numbers, default=0)

    def _max_nested_id(self, kind: str) -> int:
        best = 100000
        for issue in self._issues.values():
            if kind == "changelog":
                entries = (issue.get("changelog") or {}).get("histories") or []
            else:
                entries = ((issue["fields"].get("comment") or {}).get("comments")) or []
            for entry in entries:
                if str(entry.get("id", "")).isdigit():
                    best = max(best, int(entry["id"]))
        return best

    # -- reads ------------------------------------------------------------------------------------------

    def projects(self) -> list[dict[str, Any]]:
        """``GET /project`` objects."""
        return list(self._projects)

    def users(self) -> list[dict[str, Any]]:
        """The snapshot's users plus the sandbox's own actor (``GET /myself``)."""
        return list(self._users)

    def fields(self) -> list[dict[str, Any]]:
        """``GET /field``."""
        return list(self._fields)

    def statuses(self) -> list[dict[str, Any]]:
        return list(self._statuses)

    def priorities(self) -> list[dict[str, Any]]:
        """Highest first."""
        return list(self._priorities)

    def issue_types(self) -> list[dict[str, Any]]:
        return list(self._issue_types)

    def link_types(self) -> list[dict[str, Any]]:
        return list(self._link_types)

    def issue(self, key_or_id: str | int) -> dict[str, Any] | None:
        """The issue with this key (any case) or numeric id, or None."""
        ref = str(key_or_id)
        issue_id = int(ref) if ref.isdigit() else self._ids_by_key.get(ref.upper())
        return self._issues.get(issue_id) if issue_id is not None else None

    def require(self, key_or_id: str | int) -> dict[str, Any]:
        issue = self.issue(key_or_id)
        if issue is None:
            raise IssueNotFound(str(key_or_id))
        return issue

    def issues(self) -> list[dict[str, Any]]:
        """Every issue, in id order."""
        with self.lock:
            return [self._issues[i] for i in sorted(self._issues)]

    def __len__(self) -> int:
        return len(self._issues)

    def iter_ids(self) -> Iterator[int]:
        return iter(list(self._issues))

    def project_issue_ids(self, project_key: str) -> list[int]:
        return list(self._project_ids.get(project_key, {}))

    def updated_index(self) -> list[tuple[float, int]]:
        """(updated epoch seconds, id) ascending; callers must hold the lock while using it."""
        return self._updated

    def by_id(self, issue_id: int) -> dict[str, Any] | None:
        return self._issues.get(issue_id)

    def project(self, ref: str) -> dict[str, Any] | None:
        return self._project_by_ref.get(ref) or self._project_by_ref.get(ref.upper())

    def user(self, ref: str) -> dict[str, Any] | None:
        return self._user_by_ref.get(ref)

    def field_def(self, field_id: str) -> dict[str, Any] | None:
        return self._field_by_id.get(field_id)

    def status(self, name: str) -> dict[str, Any] | None:
        return self._status_by_name.get(name)

    def option(self, field_id: str, *, value: Any, option_id: Any = None) -> dict[str, Any] | None:
        """A select field's option by value or id; a new value gets a new option (we do not know the list)."""
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

    def comments(self, key: str) -> list[dict[str, Any]]:
        return list((self.require(key)["fields"].get("comment") or {}).get("comments") or [])

    def comment(self, key: str, comment_id: str) -> dict[str, Any] | None:
        return next((c for c in self.comments(key) if str(c.get("id")) == str(comment_id)), None)

    def properties(self, key: str) -> dict[str, Any]:
        return dict(self._properties.get(int(self.require(key)["id"]), {}))

    def links(self, key: str) -> list[dict[str, Any]]:
        return list(self.require(key)["fields"].get("issuelinks") or [])

    def link(self, link_id: str) -> dict[str, Any] | None:
        """``GET /issueLink/{id}``: the link with both ends."""
        found = self._links.get(str(link_id))
        if found is None:
            return None
        source, dest, link_type = found
        return {
            "id": str(link_id),
            "self": f"{self.base_url}/rest/api/2/issueLink/{link_id}",
            "type": link_type,
            "inwardIssue": self.issue_ref(self._issues[source]),
            "outwardIssue": self.issue_ref(self._issues[dest]),
        }

    def changelog(self, key: str) -> list[dict[str, Any]]:
        return list((self.require(key).get("changelog") or {}).get("histories") or [])

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
        """A user embedded in an issue: Cloud shows accountId only, Data Center its name and key."""
        ref: dict[str, Any] = {}
        if self.flavour == "cloud" and user.get("accountId"):
            ref["self"] = f"{self.base_url}/rest/api/2/user?accountId={user['accountId']}"
            ref["accountId"] = user["accountId"]
            ref["accountType"] = user.get("accountType", "atlassian")
        else:
            name = user.get("name") or user.get("accountId")
            ref["self"] = f"{self.base_url}/rest/api/2/user?username={name}"
            ref.update(name=name, key=user.get("key") or name)
            if user.get("accountId"):
                ref["accountId"] = user["accountId"]
            if user.get("emailAddress"):
                ref["emailAddress"] = user["emailAddress"]
        ref.update(displayName=user.get("displayName", ""), active=bool(user.get("active", True)))
        if user.get("timeZone"):
            ref["timeZone"] = user["timeZone"]
        return ref

    def issue_ref(self, issue: dict[str, Any]) -> dict[str, Any]:
        """An issue as links and ``parent`` embed it (with its current summary, status and type)."""
        f = issue["fields"]
        return {
            "id": str(issue["id"]),
            "key": issue["key"],
            "self": f"{self.base_url}/rest/api/2/issue/{issue['id']}",
            "fields": {k: f[k] for k in ("summary", "status", "priority", "issuetype") if f.get(k) is not None},
        }

    def _author(self, author: str | dict[str, Any] | None) -> dict[str, Any]:
        if author is None:
            return self.user_ref(self.actor)
        ref = author if isinstance(author, str) else (author.get("accountId") or author.get("name") or "")
        user = self.user(str(ref))
        if user is None:
            raise FieldErrors({"author": f"User '{ref}' does not exist."})
        return self.user_ref(user)

    # -- issue writes -----------------------------------------------------------------------------------

    def add_issue(
        self,
        fields: dict[str, Any],
        *,
        update: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        author: str | dict[str, Any] | None = None,
        api_version: str = "2",
    ) -> dict[str, Any]:
        """Create an issue as ``POST /issue`` does (REST-shaped fields; FieldErrors when Jira would refuse).

        ``properties`` are set atomically with the issue.
        """
        with self.lock:
            values = FieldWriter(self, flavour=self.flavour, api_version=api_version).for_create(fields, update)
            for prop_key, value in (properties or {}).items():
                _check_property(prop_key, value)
            who = self._author(author)
            stamp = self._now()
            project_key = values["project"]["key"]
            issue_id = self._next_issue_id
            self._next_issue_id += 1
            number = self._next_number.get(project_key, 1)
            self._next_number[project_key] = number + 1
            initial = self._status_by_name.get(catalog.INITIAL_STATUS) or self._statuses[0]
            default_priority = next((p for p in self._priorities if p["name"] == catalog.DEFAULT_PRIORITY), None)
            new_fields: dict[str, Any] = {
                "summary": values["summary"],
                "issuetype": values["issuetype"],
                "project": values["project"],
                "status": initial,
                "statuscategorychangedate": stamp,
                "priority": default_priority,
                "labels": [],
                "assignee": None,
                "reporter": who,
                "creator": who,
                "created": stamp,
                "updated": stamp,
                "resolution": None,
                "resolutiondate": None,
                "duedate": None,
                "description": None,
                "issuelinks": [],
                "comment": self._comment_page(issue_id, []),
                "worklog": {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []},
            }
            new_fields.update(values)
            issue = {
                "id": str(issue_id),
                "self": f"{self.base_url}/rest/api/2/issue/{issue_id}",
                "key": f"{project_key}-{number}",
                "fields": new_fields,
                "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": []},
            }
            self._issues[issue_id] = issue
            self._ids_by_key[issue["key"]] = issue_id
            self._project_ids.setdefault(project_key, {})[issue_id] = None
            bisect.insort(self._updated, (parse_datetime(stamp).timestamp(), issue_id))
            if properties:
                self._properties[issue_id] = dict(properties)
            for op in (update or {}).get("comment") or []:
                if isinstance(op, dict) and isinstance(op.get("add"), dict):
                    self.add_comment(issue["key"], op["add"].get("body"), author=author)
            self.version += 1
            return self._issues[issue_id]

    def update_issue(
        self,
        key: str,
        fields: dict[str, Any] | None = None,
        *,
        update: dict[str, Any] | None = None,
        author: str | dict[str, Any] | None = None,
        api_version: str = "2",
    ) -> dict[str, Any]:
        """Edit an issue as ``PUT /issue/{key}`` does; records a changelog history of what changed."""
        with self.lock:
            issue = self.require(key)
            values = FieldWriter(self, flavour=self.flavour, api_version=api_version).for_edit(
                issue, fields or {}, update
            )
            changed = {k: v for k, v in values.items() if issue["fields"].get(k) != v}
            if changed:
                self._write(issue, changed, author)
            for op in (update or {}).get("comment") or []:
                if isinstance(op, dict) and isinstance(op.get("add"), dict):
                    self.add_comment(key, op["add"].get("body"), author=author)
            return self.require(key)

    def transition(self, key: str, status_name: str, *, author: str | dict[str, Any] | None = None) -> dict[str, Any]:
        """Move an issue straight to ``status_name`` (any status; tests use this to change the world)."""
        with self.lock:
            issue = self.require(key)
            if status_name not in self._status_by_name:
                raise FieldErrors(messages=[f"Unknown status '{status_name}'."])
            if issue["fields"]["status"].get("name") != status_name:
                stamp = self._now()
                self._write(issue, self._status_change(issue, status_name, stamp), author, stamp)
            return self.require(key)

    def available_transitions(self, key: str) -> list[catalog.Transition]:
        """The workflow transitions out of the issue's status (from anywhere for statuses outside it)."""
        current = self.require(key)["fields"]["status"].get("name")
        if current in catalog.STATUSES:
            return [t for t in catalog.WORKFLOW if t.from_status == current]
        by_target: dict[str, catalog.Transition] = {}
        for t in catalog.WORKFLOW:
            by_target.setdefault(t.to_status, t)
        return list(by_target.values())

    def apply_transition(
        self,
        key: str,
        transition_id: str,
        *,
        fields: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
        author: str | dict[str, Any] | None = None,
        api_version: str = "2",
    ) -> dict[str, Any]:
        """``POST /issue/{key}/transitions``: one history with the status change and any field edits."""
        with self.lock:
            issue = self.require(key)
            chosen = next((t for t in self.available_transitions(key) if t.id == str(transition_id)), None)
            if chosen is None:
                raise FieldErrors(messages=[f"Transition id '{transition_id}' is not valid for this issue."])
            writer = FieldWriter(self, flavour=self.flavour, api_version=api_version)
            values = writer.for_edit(issue, fields or {}, update)
            changed = {k: v for k, v in values.items() if issue["fields"].get(k) != v}
            stamp = self._now()
            changed.update(self._status_change(issue, chosen.to_status, stamp))
            self._write(issue, changed, author, stamp)
            return self.require(key)

    def _status_change(self, issue: dict[str, Any], status_name: str, stamp: str) -> dict[str, Any]:
        before, after = issue["fields"]["status"], self._status_by_name[status_name]
        changed: dict[str, Any] = {"status": after}
        before_cat = (before.get("statusCategory") or {}).get("key")
        after_cat = (after.get("statusCategory") or {}).get("key")
        if after_cat == "done" and not issue["fields"].get("resolution"):
            changed["resolution"] = self._resolution
            changed["resolutiondate"] = stamp
        elif after_cat != "done" and issue["fields"].get("resolution"):
            changed["resolution"] = None
            changed["resolutiondate"] = None
        if before_cat != after_cat:
            changed["statuscategorychangedate"] = stamp
        return changed

    def _write(
        self,
        issue: dict[str, Any],
        changed: dict[str, Any],
        author: str | dict[str, Any] | None,
        stamp: str | None = None,
    ) -> None:
        """Swap in a new version of ``issue`` with ``changed`` fields, a history entry and a new ``updated``."""
        who = self._author(author)
        stamp = stamp or self._now()
        fields = dict(issue["fields"])
        items = []
        for field_id, value in changed.items():
            if field_id not in UNTRACKED and field_id != "resolutiondate":
                items.append(change_item(field_id, fields.get(field_id), value, self._field_by_id.get(field_id)))
            fields[field_id] = value
        fields["updated"] = stamp
        new = {**issue, "fields": fields}
        if items:
            changelog = issue.get("changelog") or {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
            entry = {"id": str(self._next_history_id), "author": who, "created": stamp, "items": items}
            self._next_history_id += 1
            histories = [*(changelog.get("histories") or []), entry]
            new["changelog"] = {
                **changelog,
                "histories": histories,
                "total": len(histories),
                "maxResults": len(histories),
            }
        self._swap(issue, new)

    def _touch(self, issue: dict[str, Any], stamp: str | None = None, **field_values: Any) -> dict[str, Any]:
        """A new version with some fields replaced and ``updated`` bumped, without a history entry."""
        new = {**issue, "fields": {**issue["fields"], **field_values, "updated": stamp or self._now()}}
        self._swap(issue, new)
        return new

    def _swap(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        issue_id = int(old["id"])
        old_entry = (parse_datetime(old["fields"]["updated"]).timestamp(), issue_id)
        position = bisect.bisect_left(self._updated, old_entry)
        if position < len(self._updated) and self._updated[position] == old_entry:
            del self._updated[position]
        bisect.insort(self._updated, (parse_datetime(new["fields"]["updated"]).timestamp(), issue_id))
        self._issues[issue_id] = new
        self.version += 1

    def delete_issue(self, key: str) -> None:
        """``DELETE /issue/{key}``: the issue, its links on other issues and its properties go."""
        with self.lock:
            issue = self.require(key)
            issue_id = int(issue["id"])
            for link in issue["fields"].get("issuelinks") or []:
                self._drop_link(str(link.get("id")))
            issue = self.require(key)  # dropping links touched it
            entry = (parse_datetime(issue["fields"]["updated"]).timestamp(), issue_id)
            position = bisect.bisect_left(self._updated, entry)
            if position < len(self._updated) and self._updated[position] == entry:
                del self._updated[position]
            del self._issues[issue_id]
            del self._ids_by_key[issue["key"].upper()]
            for ids in self._project_ids.values():
                ids.pop(issue_id, None)
            self._properties.pop(issue_id, None)
            for child in [
                i for i in self._issues.values() if (i["fields"].get("parent") or {}).get("id") == str(issue_id)
            ]:
                self._touch(child, parent=None)
            self.version += 1

    # -- comments ---------------------------------------------------------------------------------------

    def _comment_page(self, issue_id: int, comments: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "comments": comments,
            "self": f"{self.base_url}/rest/api/2/issue/{issue_id}/comment",
            "maxResults": len(comments),
            "total": len(comments),
            "startAt": 0,
        }

    def add_comment(
        self,
        key: str,
        body: Any,
        *,
        author: str | dict[str, Any] | None = None,
        visibility: dict[str, Any] | None = None,
        properties: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Add a comment (bumps the issue's ``updated``; comments are not changelog entries in Jira)."""
        with self.lock:
            issue = self.require(key)
            who = self._author(author)
            stamp = self._now()
            comment_id = str(self._next_comment_id)
            self._next_comment_id += 1
            comment: dict[str, Any] = {
                "self": f"{self.base_url}/rest/api/2/issue/{issue['id']}/comment/{comment_id}",
                "id": comment_id,
                "author": who,
                "body": body,
                "updateAuthor": who,
                "created": stamp,
                "updated": stamp,
                "jsdPublic": True,
            }
            if visibility:
                comment["visibility"] = visibility
            if properties:
                comment["properties"] = properties
            comments = [*self.comments(key), comment]
            self._touch(issue, stamp, comment=self._comment_page(int(issue["id"]), comments))
            return comment

    def update_comment(
        self, key: str, comment_id: str, body: Any, *, author: str | dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        with self.lock:
            issue = self.require(key)
            comments = self.comments(key)
            for i, comment in enumerate(comments):
                if str(comment.get("id")) == str(comment_id):
                    stamp = self._now()
                    comments[i] = {**comment, "body": body, "updateAuthor": self._author(author), "updated": stamp}
                    self._touch(issue, stamp, comment=self._comment_page(int(issue["id"]), comments))
                    return comments[i]
            return None

    def delete_comment(self, key: str, comment_id: str) -> bool:
        with self.lock:
            issue = self.require(key)
            comments = self.comments(key)
            kept = [c for c in comments if str(c.get("id")) != str(comment_id)]
            if len(kept) == len(comments):
                return False
            self._touch(issue, comment=self._comment_page(int(issue["id"]), kept))
            return True

    # -- entity properties ------------------------------------------------------------------------------

    def set_property(self, key: str, prop_key: str, value: Any) -> bool:
        """Set an issue property; True when it was created, False when replaced. FieldErrors when too big."""
        with self.lock:
            issue = self.require(key)
            _check_property(prop_key, value)
            props = self._properties.setdefault(int(issue["id"]), {})
            created = prop_key not in props
            props[prop_key] = value
            self._touch(issue)
            return created

    def delete_property(self, key: str, prop_key: str) -> bool:
        with self.lock:
            issue = self.require(key)
            props = self._properties.get(int(issue["id"]), {})
            if prop_key not in props:
                return False
            del props[prop_key]
            self._touch(issue)
            return True

    # -- links ------------------------------------------------------------------------------------------

    def link_type(self, ref: dict[str, Any] | str) -> dict[str, Any] | None:
        wanted_id = ref.get("id") if isinstance(ref, dict) else None
        wanted_name = ref.get("name") if isinstance(ref, dict) else ref
        for link_type in self._link_types:
            if (wanted_id is not None and str(link_type["id"]) == str(wanted_id)) or link_type["name"] == wanted_name:
                return link_type
        return None

    def add_link(self, link_type: dict[str, Any] | str, inward: str, outward: str) -> str:
        """``POST /issueLink``: ``inward`` <outward verb> ``outward`` (e.g. inward blocks outward).

        An identical link is not duplicated (Jira accepts the request and keeps one link).
        """
        with self.lock:
            found_type = self.link_type(link_type)
            if found_type is None:
                raise FieldErrors(messages=[f"No issue link type with name '{link_type}' found."], status=404)
            source, dest = self.require(inward), self.require(outward)
            for link_id, (s, d, t) in self._links.items():
                if s == int(source["id"]) and d == int(dest["id"]) and t.get("id") == found_type["id"]:
                    return link_id
            link_id = str(self._next_link_id)
            self._next_link_id += 1
            link_self = f"{self.base_url}/rest/api/2/issueLink/{link_id}"
            out_side = {"id": link_id, "self": link_self, "type": found_type, "outwardIssue": self.issue_ref(dest)}
            in_side = {"id": link_id, "self": link_self, "type": found_type, "inwardIssue": self.issue_ref(source)}
            self._links[link_id] = (int(source["id"]), int(dest["id"]), found_type)
            stamp = self._now()
            self._touch(source, stamp, issuelinks=[*(source["fields"].get("issuelinks") or []), out_side])
            dest = self.require(outward)
            self._touch(dest, stamp, issuelinks=[*(dest["fields"].get("issuelinks") or []), in_side])
            return link_id

    def delete_link(self, link_id: str) -> bool:
        with self.lock:
            return self._drop_link(str(link_id))

    def _drop_link(self, link_id: str) -> bool:
        found = self._links.pop(link_id, None)
        if found is None:
            return False
        for issue_id in found[:2]:
            issue = self._issues.get(issue_id)
            if issue is not None:
                kept = [lk for lk in issue["fields"].get("issuelinks") or [] if str(lk.get("id")) != link_id]
                self._touch(issue, issuelinks=kept)
        return True

    # -- search -----------------------------------------------------------------------------------------

    def compile_jql(self, text: str, *, current_user: dict[str, Any] | None = None) -> CompiledQuery:
        """Parse and compile a JQL query against this site; raises JqlError with Jira's message."""
        ctx = JqlContext(
            now=self.clock(),
            current_user=current_user or self.actor,
            projects=self._projects,
            users=self._users,
            fields=self._fields,
            statuses=self._statuses,
            issue_types=self._issue_types,
            priorities=self._priorities,
            issue_exists=lambda ref: self.issue(ref) is not None,
        )
        return JqlCompiler(ctx).compile(parse(text))

    # -- helpers ----------------------------------------------------------------------------------------

    def _now(self) -> str:
        return format_datetime(self.clock())

    def now(self) -> datetime:
        return self.clock()


def _check_property(prop_key: str, value: Any) -> None:
    if not prop_key or len(prop_key) > PROPERTY_KEY_LIMIT:
        raise FieldErrors(messages=[f"The property key must be 1 to {PROPERTY_KEY_LIMIT} characters long."])
    if value is None:
        raise FieldErrors(messages=["The property value must be a valid, non-empty JSON value."])
    if len(json.dumps(value, separators=(",", ":"))) > PROPERTY_VALUE_LIMIT:
        raise FieldErrors(messages=[f"The property value is too long: at most {PROPERTY_VALUE_LIMIT} characters."])


def _merge_by_name(*sources: Any) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for source in sources:
        for obj in source:
            merged.setdefault(obj["name"], obj)
    return list(merged.values())
