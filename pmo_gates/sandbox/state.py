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
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from pmo_gates.sandbox import catalog
from pmo_gates.sandbox.field_input import FieldErrors, FieldWriter
from pmo_gates.sandbox.gc_pause import freeze_long_lived, gc_paused
from pmo_gates.sandbox.history import UNTRACKED, change_item
from pmo_gates.sandbox.jira_time import format_datetime, parse_datetime, utc_now
from pmo_gates.sandbox.jql import parse
from pmo_gates.sandbox.jql_eval import CompiledQuery, JqlCompiler, JqlContext
from pmo_gates.sandbox.search_engine import SearchEngine
from pmo_gates.sandbox.site_catalog import SiteCatalog
from pmo_gates.sandbox.snapshot import Snapshot

PROPERTY_VALUE_LIMIT = 32_768
PROPERTY_KEY_LIMIT = 255
FREEZE_FROM_ISSUES = 20_000
COMPILED_CACHE_SIZE = 256


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
        # Search index lag (seconds): Cloud's JQL index trails writes, GET /issue does not. 0 = never stale.
        self.index_lag = 0.0
        self.index_clock: Callable[[], float] = time.monotonic
        self._stale: dict[int, tuple[float, dict[str, Any] | None]] = {}
        self.search = SearchEngine(self)
        self.reset()

    # -- loading ----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the snapshot: every write, comment, property and link made since is forgotten."""
        with self.lock, gc_paused():
            snap = self.snapshot
            project_keys = {str(p.id): p.key for p in snap.projects}
            self._issues: dict[int, dict[str, Any]] = {}
            self._ids_by_key: dict[str, int] = {}
            self._project_ids: dict[str, dict[int, None]] = {p.key: {} for p in snap.projects}
            self._properties: dict[int, dict[str, Any]] = {}
            self._links: dict[str, tuple[int, int, dict[str, Any]]] = {}
            self._stale = {}
            updated: list[tuple[float, int]] = []
            numbers: dict[str, int] = {}
            for issue in snap.issues:
                issue_id = int(issue["id"])
                self._issues[issue_id] = issue
                key = issue["key"].upper()
                self._ids_by_key[key] = issue_id
                project = issue["fields"]["project"]
                project_key = project.get("key") or project_keys.get(str(project.get("id")), key.rsplit("-", 1)[0])
                self._project_ids.setdefault(project_key, {})[issue_id] = None
                prefix, _, number = key.rpartition("-")
                if number.isdigit() and int(number) > numbers.get(prefix, 0):
                    numbers[prefix] = int(number)
                updated.append((parse_datetime(issue["fields"]["updated"]).timestamp(), issue_id))
                if issue.get("properties"):
                    self._properties[issue_id] = dict(issue["properties"])
                self._index_links(issue_id, issue)
            updated.sort()
            self._updated = updated
            self.site = SiteCatalog(
                snap,
                self._issues.values(),
                flavour=self.flavour,
                base_url=self.base_url,
                actor_email=self.actor_email,
                issue_exists=lambda ref: self.issue(ref) is not None,
            )
            self._next_issue_id = max(self._issues, default=10000) + 1
            self._next_number = {key: numbers.get(key, 0) + 1 for key in self._project_ids}
            # Found on the first write: scanning 200,000 changelogs at load would take seconds.
            self._next_ids: dict[str, int] = {}
            self._next_link_id = max((int(i) for i in self._links if i.isdigit()), default=10000) + 1
            self._compiled: OrderedDict[tuple[str, str], CompiledQuery] = OrderedDict()
            self.version += 1
        if len(self._issues) >= FREEZE_FROM_ISSUES:
            freeze_long_lived()

    def _index_links(self, issue_id: int, issue: dict[str, Any]) -> None:
        for link in issue["fields"].get("issuelinks") or []:
            other = link.get("outwardIssue")
            if other and link.get("id") is not None:  # this issue is the link's source (inward side)
                self._links[str(link["id"])] = (issue_id, int(other["id"]), link.get("type") or {})

    def _new_id(self, kind: str) -> str:
        """A fresh changelog history or comment id, above every id in the snapshot."""
        if kind not in self._next_ids:
            self._next_ids[kind] = self._max_nested_id(kind) + 1
        self._next_ids[kind] += 1
        return str(self._next_ids[kind] - 1)

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

    @property
    def actor(self) -> dict[str, Any]:
        """The user API calls act as (``GET /myself``)."""
        return self.site.actor

    def projects(self) -> list[dict[str, Any]]:
        """``GET /project`` objects."""
        return list(self.site.projects)

    def users(self) -> list[dict[str, Any]]:
        """The snapshot's users plus the sandbox's own actor."""
        return list(self.site.users)

    def fields(self) -> list[dict[str, Any]]:
        """``GET /field``."""
        return list(self.site.fields)

    def statuses(self) -> list[dict[str, Any]]:
        return list(self.site.statuses)

    def priorities(self) -> list[dict[str, Any]]:
        """Highest first."""
        return list(self.site.priorities)

    def issue_types(self) -> list[dict[str, Any]]:
        return list(self.site.issue_types)

    def link_types(self) -> list[dict[str, Any]]:
        return list(self.site.link_types)

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

    def project_issue_count(self, project_key: str) -> int:
        return len(self._project_ids.get(project_key, ()))

    def updated_index(self) -> list[tuple[float, int]]:
        """(updated epoch seconds, id) ascending; callers must hold the lock while using it."""
        return self._updated

    def by_id(self, issue_id: int) -> dict[str, Any] | None:
        return self._issues.get(issue_id)

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
            return self.site.user_ref(self.actor)
        ref = author if isinstance(author, str) else (author.get("accountId") or author.get("name") or "")
        user = self.site.user(str(ref))
        if user is None:
            raise FieldErrors({"author": f"User '{ref}' does not exist."})
        return self.site.user_ref(user)

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
            initial = self.site.initial_status()
            default_priority = self.site.default_priority()
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
            self._lag_index(issue_id, None)
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
            if self.site.status(status_name) is None:
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
        before, after = issue["fields"]["status"], self.site.status(status_name)
        changed: dict[str, Any] = {"status": after}
        before_cat = (before.get("statusCategory") or {}).get("key")
        after_cat = (after.get("statusCategory") or {}).get("key")
        if after_cat == "done" and not issue["fields"].get("resolution"):
            changed["resolution"] = self.site.done_resolution
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
                items.append(change_item(field_id, fields.get(field_id), value, self.site.field_def(field_id)))
            fields[field_id] = value
        fields["updated"] = stamp
        new = {**issue, "fields": fields}
        if items:
            changelog = issue.get("changelog") or {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
            entry = {"id": self._new_id("changelog"), "author": who, "created": stamp, "items": items}
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
        self._lag_index(issue_id, old)
        self._issues[issue_id] = new
        self.version += 1

    # -- the search index's view (index lag) ------------------------------------------------------------

    def _lag_index(self, issue_id: int, indexed: dict[str, Any] | None) -> None:
        """Search keeps seeing ``indexed`` (None: nothing) until ``index_lag`` seconds after this write."""
        if self.index_lag <= 0:
            return
        now = self.index_clock()
        pending = self._stale.get(issue_id)
        still_old = pending[1] if pending is not None and pending[0] > now else indexed
        self._stale[issue_id] = (now + self.index_lag, still_old)

    def searchable(self, issue_id: int) -> dict[str, Any] | None:
        """The issue as JQL search sees it: the version the index holds (None while a new issue is unindexed)."""
        pending = self._stale.get(issue_id)
        if pending is not None:
            if pending[0] > self.index_clock():
                return pending[1]
            del self._stale[issue_id]
        return self._issues.get(issue_id)

    def settle_index(self) -> None:
        """Search catches up with every write so far (time passing, for tests of a later run)."""
        with self.lock:
            self._stale.clear()
            self.version += 1  # cached search results may hold the stale view

    def index_pending(self) -> bool:
        """Whether some write is not yet visible to search (search results must not be cached then)."""
        now = self.index_clock()
        return any(visible_at > now for visible_at, _ in self._stale.values())

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
            comment_id = self._new_id("comment")
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

    def add_link(self, link_type: dict[str, Any] | str, inward: str, outward: str) -> str:
        """``POST /issueLink``: ``inward`` <outward verb> ``outward`` (e.g. inward blocks outward).

        An identical link is not duplicated (Jira accepts the request and keeps one link).
        """
        with self.lock:
            found_type = self.site.link_type(link_type)
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
        """Parse and compile a JQL query against this site; raises JqlError with Jira's message.

        Queries that depend on neither the clock nor the caller are cached: a sync pages through one long
        JQL (2,000 project keys) many times, and parsing it again per page would dominate the search."""
        user = current_user or self.actor
        key = (text, str(user.get("accountId") or user.get("key") or "") if user else "")
        with self.lock:
            cached = self._compiled.get(key)
            if cached is not None:
                self._compiled.move_to_end(key)
                return cached
        compiled = JqlCompiler(JqlContext(self.site.jql, self.clock(), user)).compile(parse(text))
        if not compiled.dynamic:
            with self.lock:
                self._compiled[key] = compiled
                while len(self._compiled) > COMPILED_CACHE_SIZE:
                    self._compiled.popitem(last=False)
        return compiled

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
