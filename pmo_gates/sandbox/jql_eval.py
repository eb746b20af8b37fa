"""JQL meaning: a parsed query compiled into a predicate, a sort key and index hints over issue dicts.

Fields: project, key/issuekey, id, issuetype/type, status, statusCategory, labels, assignee, reporter,
creator, priority, resolution, created, updated, resolved, duedate/due, parent, "Epic Link", summary, text,
statusCategoryChangedDate, and custom fields by name or ``cf[id]``. Values: quoted strings, words, numbers,
dates ``yyyy-MM-dd`` / ``yyyy-MM-dd HH:mm`` (UTC), relative periods (``-7d``, ``4w 2d``, ``-3h``) and the
functions ``currentUser()``, ``now()``, ``startOfDay()``, ``endOfDay()``, ``openSprints()``,
``closedSprints()``. As in Jira, ``!=`` and ``NOT IN`` never match an empty field, and empty values sort
last ascending, first descending.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from pmo_gates.sandbox import catalog
from pmo_gates.sandbox.adf import adf_to_text, is_adf
from pmo_gates.sandbox.jira_time import parse_datetime
from pmo_gates.sandbox.jql import And, Clause, Empty, Function, JqlError, Node, Not, Operand, Or, Query, SortKey, Value

Issue = dict[str, Any]
Predicate = Callable[[Issue], bool]

_PERIOD = re.compile(r"^([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)$", re.IGNORECASE)
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])", re.IGNORECASE)
_PERIOD_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_DATE_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', "
    "or a period format e.g. '-5d', '4w 2d'."
)
_EQUALITY = frozenset({"=", "!=", "in", "not in", "is", "is not"})
_ORDERED = _EQUALITY | {">", ">=", "<", "<="}
_TEXT = frozenset({"~", "!~", "is", "is not"})
DEFAULT_ORDER = (SortKey("key", ascending=False),)
_KEY_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)-(\d+)$")


class JqlSite:
    """What compiling needs to know about a site; built once per state load and shared by requests.

    The caches it fills (user identities, the sets of known values) are only ever added to with values
    derived from immutable catalogs, so concurrent requests may share it.
    """

    def __init__(
        self,
        *,
        projects: list[dict[str, Any]],
        users: list[dict[str, Any]],
        fields: list[dict[str, Any]],
        statuses: list[dict[str, Any]],
        issue_types: list[dict[str, Any]],
        priorities: list[dict[str, Any]],
        issue_exists: Callable[[str], bool] = lambda key_or_id: True,
    ) -> None:
        self.projects = projects
        self.users = users
        self.fields = fields
        self.statuses = statuses
        self.issue_types = issue_types
        self.priorities = priorities
        self.issue_exists = issue_exists
        self._user_ids: dict[str, frozenset[str]] = {}
        self.user_catalog = {
            u.get("accountId") or u.get("name"): u for u in users if u.get("accountId") or u.get("name")
        }
        self.custom: dict[str, dict[str, Any]] = {}
        for f in fields:
            if f.get("custom"):
                self.custom[f["name"].lower()] = f
                self.custom[f["id"].lower()] = f
                self.custom[f"cf[{f['id'].rsplit('_', 1)[-1]}]"] = f
        self.epic_link_id = next(
            (f["id"] for f in fields if str((f.get("schema") or {}).get("custom", "")).endswith(":gh-epic-link")),
            None,
        )

    def user_identities(self, user: Any) -> frozenset[str] | None:
        """Every way JQL may name a user: accountId, login name and key, display name, e-mail (lower case)."""
        if not user:
            return None
        ident = user.get("accountId") or user.get("name") or user.get("key") or ""
        cached = self._user_ids.get(ident)
        if cached is None:
            full = {**self.user_catalog.get(ident, {}), **user}
            cached = frozenset(
                str(full[k]).lower() for k in ("accountId", "name", "key", "displayName", "emailAddress") if full.get(k)
            )
            self._user_ids[ident] = cached
        return cached

    @cached_property
    def known_users(self) -> set[str]:
        known: set[str] = set()
        for user in self.users:
            known |= self.user_identities(user) or set()
        return known

    @cached_property
    def known_projects(self) -> set[str]:
        return {str(p[k]).lower() for p in self.projects for k in ("key", "id", "name") if p.get(k)}

    @cached_property
    def known_statuses(self) -> set[str]:
        return _known_names(self.statuses)

    @cached_property
    def known_issue_types(self) -> set[str]:
        return _known_names(self.issue_types)

    @cached_property
    def known_priorities(self) -> set[str]:
        return _known_names(self.priorities)


@dataclass
class JqlContext:
    """One compilation: the site, the time relative dates count from, and who ``currentUser()`` is."""

    site: JqlSite
    now: datetime
    current_user: dict[str, Any] | None


def _known_names(objects: Iterable[dict[str, Any]]) -> set[str]:
    return {str(o[k]).lower() for o in objects for k in ("name", "id") if o.get(k) is not None}


@dataclass(frozen=True)
class Hints:
    """What an index can use: the query only matches these projects / keys / issues updated after."""

    projects: frozenset[str] | None = None
    keys: frozenset[str] | None = None
    updated_from: datetime | None = None
    only_projects: bool = False  # the whole query is one project clause: ``projects`` is exactly what matches


@dataclass
class CompiledQuery:
    matches: Predicate
    order_by: tuple[SortKey, ...]
    sort_getters: list[Callable[[Issue], Any]]
    hints: Hints = field(default_factory=Hints)
    bounded: bool = True  # has a search restriction (Cloud refuses queries without one)
    dynamic: bool = False  # depends on the clock or the caller (relative dates, now(), currentUser())

    def sort_values(self, issue: Issue) -> list[Any]:
        """The issue's ORDER BY values (JSON-safe; a page token stores them)."""
        return [get(issue) for get in self.sort_getters]

    def sort_key(self, values: list[Any], issue_id: int) -> tuple[Any, ...]:
        """A totally ordered key: ORDER BY values, then the issue id in the last term's direction."""
        parts: list[Any] = []
        for value, sort in zip(values, self.order_by, strict=True):
            parts.append(_rank(value, sort.ascending))
        last_ascending = self.order_by[-1].ascending if self.order_by else True
        parts.append(issue_id if last_ascending else -issue_id)
        return tuple(parts)


class _Descending:
    """Reverses the order of a value inside a sort key."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Descending) -> bool:
        return other.value < self.value

    def __gt__(self, other: _Descending) -> bool:
        return other.value > self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def _rank(value: Any, ascending: bool) -> tuple[Any, ...]:
    value = tuple(value) if isinstance(value, list) else value
    if ascending:
        return (1, 0) if value is None else (0, value)
    return (0, 0) if value is None else (1, _Descending(value))


@dataclass(frozen=True)
class _Field:
    """How a JQL field reads an issue: ``kind`` decides operators and value parsing."""

    name: str
    kind: str  # "name" | "key" | "number" | "datetime" | "date" | "text"
    get: Callable[[Issue], list[Any]]
    sort: Callable[[Issue], Any] | None = None
    known: Callable[[], set[str]] | None = None  # the values that exist (unknown ones are an error)
    is_user: bool = False


class JqlCompiler:
    """Compiles parsed queries against one site's projects, users, fields and statuses."""

    def __init__(self, ctx: JqlContext) -> None:
        self.ctx = ctx
        self.site = ctx.site
        self._fields = self._system_fields()
        self.dynamic = False

    # -- public -----------------------------------------------------------------------------------------

    def compile(self, query: Query) -> CompiledQuery:
        """The query's predicate, sort and hints; without ORDER BY, Jira's default ``key DESC``."""
        matches = self._node(query.where) if query.where is not None else (lambda issue: True)
        order_by = query.order_by or DEFAULT_ORDER
        getters = []
        for sort in order_by:
            spec = self._field(sort.field)
            if spec.sort is None:
                raise JqlError(f"Field '{sort.field}' does not support sorting.")
            getters.append(spec.sort)
        hints = self._hints(query.where)
        return CompiledQuery(matches, order_by, getters, hints, query.where is not None, self.dynamic)

    # -- fields -----------------------------------------------------------------------------------------

    def _system_fields(self) -> dict[str, _Field]:
        status_order = {name: i for i, name in enumerate(catalog.STATUSES)}
        site = self.site
        priority_rank = {p["name"]: len(site.priorities) - i for i, p in enumerate(site.priorities)}
        users = site.user_identities

        def one(getter: Callable[[dict[str, Any]], Any]) -> Callable[[Issue], list[Any]]:
            def read(issue: Issue) -> list[Any]:
                value = getter(issue["fields"])
                return [] if value is None else [value]

            return read

        def named(obj: Any) -> frozenset[str] | None:
            if not obj:
                return None
            return _identities(obj, ("name", "id", "key", "value"))

        def sort_name(name: str) -> Callable[[Issue], Any]:
            def read(issue: Issue) -> Any:
                obj = issue["fields"].get(name)
                return str(obj.get("name") or obj.get("value") or "").lower() if obj else None

            return read

        def sort_user(name: str) -> Callable[[Issue], Any]:
            def read(issue: Issue) -> Any:
                obj = issue["fields"].get(name)
                return str(obj.get("displayName", "")).lower() if obj else None

            return read

        def user_field(name: str) -> _Field:
            return _Field(
                name, "name", one(lambda f: users(f.get(name))), sort_user(name), lambda: site.known_users, is_user=True
            )

        def when(name: str) -> Callable[[Issue], list[Any]]:
            return one(lambda f: _to_datetime(f.get(name)))

        def when_sort(name: str) -> Callable[[Issue], Any]:
            def read(issue: Issue) -> Any:
                value = _to_datetime(issue["fields"].get(name))
                return value.timestamp() if value else None

            return read

        def project_ids(f: dict[str, Any]) -> frozenset[str] | None:
            return _identities(f.get("project") or {}, ("key", "id", "name"))

        def category(f: dict[str, Any]) -> frozenset[str] | None:
            return _identities((f.get("status") or {}).get("statusCategory") or {}, ("key", "name", "id"))

        def parent_keys(f: dict[str, Any]) -> frozenset[str] | None:
            parent = f.get("parent")
            return frozenset({parent["key"].lower(), str(parent["id"])}) if parent else None

        def epic_keys(f: dict[str, Any]) -> frozenset[str] | None:
            keys = set()
            if site.epic_link_id and f.get(site.epic_link_id):
                keys.add(str(f[site.epic_link_id]).lower())
            parent = f.get("parent") or {}
            if ((parent.get("fields") or {}).get("issuetype") or {}).get("name") == "Epic":
                keys.add(parent["key"].lower())
            return frozenset(keys) or None

        def key_sort(issue: Issue) -> Any:
            project, _, number = issue["key"].rpartition("-")
            return [project, int(number) if number.isdigit() else 0]

        def text(*names: str) -> Callable[[Issue], list[Any]]:
            def read(issue: Issue) -> list[Any]:
                f = issue["fields"]
                return [_plain(f.get(n)).lower() for n in names if f.get(n)]

            return read

        fields = {
            "project": _Field(
                "project",
                "name",
                one(project_ids),
                lambda i: i["fields"]["project"].get("key"),
                lambda: site.known_projects,
            ),
            "key": _Field("key", "key", lambda i: [frozenset({i["key"].lower(), str(i["id"])})], key_sort, None),
            "id": _Field("id", "number", lambda i: [float(i["id"])], lambda i: int(i["id"])),
            "issuetype": _Field(
                "issuetype",
                "name",
                one(lambda f: named(f.get("issuetype"))),
                sort_name("issuetype"),
                lambda: site.known_issue_types,
            ),
            "status": _Field(
                "status",
                "name",
                one(lambda f: named(f.get("status"))),
                lambda i: status_order.get(i["fields"]["status"]["name"], len(status_order)),
                lambda: site.known_statuses,
            ),
            "statuscategory": _Field(
                "statusCategory",
                "name",
                one(category),
                lambda i: (i["fields"]["status"].get("statusCategory") or {}).get("id"),
                lambda: {str(c[k]).lower() for c in catalog.STATUS_CATEGORIES.values() for k in ("key", "name", "id")},
            ),
            "labels": _Field(
                "labels", "name", lambda i: [frozenset({lbl.lower()}) for lbl in i["fields"].get("labels") or []]
            ),
            "assignee": user_field("assignee"),
            "reporter": user_field("reporter"),
            "creator": user_field("creator"),
            "priority": _Field(
                "priority",
                "name",
                one(lambda f: named(f.get("priority"))),
                lambda i: priority_rank.get((i["fields"].get("priority") or {}).get("name", "")),
                lambda: site.known_priorities,
            ),
            "resolution": _Field(
                "resolution",
                "name",
                one(lambda f: named(f.get("resolution"))),
                sort_name("resolution"),
                lambda: {*_known_names([catalog.DONE_RESOLUTION]), "unresolved"},
            ),
            "created": _Field("created", "datetime", when("created"), when_sort("created")),
            "updated": _Field("updated", "datetime", when("updated"), when_sort("updated")),
            "resolved": _Field("resolved", "datetime", when("resolutiondate"), when_sort("resolutiondate")),
            "statuscategorychangeddate": _Field(
                "statusCategoryChangedDate",
                "datetime",
                when("statuscategorychangedate"),
                when_sort("statuscategorychangedate"),
            ),
            "duedate": _Field(
                "duedate",
                "date",
                one(lambda f: _to_date(f.get("duedate"))),
                lambda i: d.toordinal() if (d := _to_date(i["fields"].get("duedate"))) else None,
            ),
            "parent": _Field("parent", "key", one(parent_keys)),
            "epic link": _Field("Epic Link", "key", one(epic_keys)),
            "summary": _Field("summary", "text", text("summary"), lambda i: i["fields"].get("summary", "").lower()),
            "text": _Field("text", "text", text("summary", "description", "environment")),
            # Jira Software's board order; the sandbox ranks by creation (id), which is where new issues go.
            "rank": _Field("Rank", "number", lambda i: [], lambda i: int(i["id"])),
        }
        aliases = {
            "type": "issuetype",
            "issuekey": "key",
            "due": "duedate",
            "resolutiondate": "resolved",
            "createddate": "created",
            "updateddate": "updated",
        }
        for alias, target in aliases.items():
            fields[alias] = fields[target]
        return fields

    def _field(self, name: str) -> _Field:
        lowered = name.lower()
        if lowered in self._fields:
            return self._fields[lowered]
        custom = self.site.custom.get(lowered)
        if custom is None:
            raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
        return self._custom_field(custom)

    def _custom_field(self, definition: dict[str, Any]) -> _Field:
        field_id, label = definition["id"], definition["name"]
        schema = definition.get("schema") or {}
        custom_type = str(schema.get("custom", "")).rsplit(":", 1)[-1]
        type_ = schema.get("type")

        def values(issue: Issue) -> list[Any]:
            value = issue["fields"].get(field_id)
            if value is None or value == []:
                return []
            return list(value) if isinstance(value, list) else [value]

        if custom_type == "gh-epic-link":
            return self._fields["epic link"]
        if type_ == "number":
            return _Field(
                label,
                "number",
                lambda i: [float(v) for v in values(i)],
                lambda i: float(v[0]) if (v := values(i)) else None,
            )
        if type_ in ("date", "datetime"):
            convert = _to_date if type_ == "date" else _to_datetime
            kind = "date" if type_ == "date" else "datetime"

            def sort_when(issue: Issue) -> Any:
                found = values(issue)
                parsed = convert(found[0]) if found else None
                if parsed is None:
                    return None
                return parsed.toordinal() if isinstance(parsed, date) and kind == "date" else parsed.timestamp()

            return _Field(label, kind, lambda i: [c for v in values(i) if (c := convert(v)) is not None], sort_when)
        if type_ == "user":
            return _Field(
                label,
                "name",
                lambda i: [self.site.user_identities(v) for v in values(i)],
                lambda i: str(v[0].get("displayName", "")).lower() if (v := values(i)) else None,
                lambda: self.site.known_users,
                is_user=True,
            )
        if custom_type == "gh-sprint":
            return _Field(label, "name", lambda i: [_sprint_ids(v) for v in values(i)])
        if type_ == "string":
            return _Field(
                label,
                "text",
                lambda i: [_plain(v).lower() for v in values(i)],
                lambda i: _plain(v[0]).lower() if (v := values(i)) else None,
            )

        def option_ids(value: Any) -> frozenset[str]:
            if isinstance(value, dict):
                return frozenset(str(value[k]).lower() for k in ("value", "id", "name") if value.get(k) is not None)
            return frozenset({str(value).lower()})

        def option_sort(issue: Issue) -> Any:
            found = values(issue)
            if not found:
                return None
            first = found[0]
            return str(first.get("value") or first.get("name") or "").lower() if isinstance(first, dict) else str(first)

        return _Field(label, "name", lambda i: [option_ids(v) for v in values(i)], option_sort)

    # -- clauses ----------------------------------------------------------------------------------------

    def _node(self, node: Node) -> Predicate:
        if isinstance(node, And):
            parts = [self._node(n) for n in node.items]
            return lambda issue: all(p(issue) for p in parts)
        if isinstance(node, Or):
            parts = [self._node(n) for n in node.items]
            return lambda issue: any(p(issue) for p in parts)
        if isinstance(node, Not):
            inner = self._node(node.item)
            return lambda issue: not inner(issue)
        return self._clause(node)

    def _clause(self, clause: Clause) -> Predicate:
        spec = self._field(clause.field)
        op = clause.operator
        if spec.kind == "text":  # summary and text are full-text only; text custom fields also take =
            allowed = _TEXT if spec.name in ("summary", "text") else _TEXT | {"=", "!=", "in", "not in"}
        elif spec.kind == "name" and spec.name != "priority":
            allowed = _EQUALITY
        else:
            allowed = _ORDERED
        if op not in allowed:
            raise JqlError(f"The operator '{op.upper()}' is not supported by the '{clause.field}' field.")
        get = spec.get
        if op in ("is", "is not"):
            return (lambda issue: not get(issue)) if op == "is" else (lambda issue: bool(get(issue)))
        wants_empty = any(isinstance(o, Empty) for o in clause.operands)
        values = [o for o in clause.operands if not isinstance(o, Empty)]
        if spec.kind == "text":
            return self._text_clause(spec, op, values)
        if op in (">", ">=", "<", "<="):
            return self._ordered_clause(spec, clause, values[0])
        if spec.kind in ("name", "key"):
            wanted = self._wanted_names(spec, clause, values)
            matcher = self._name_matcher(spec, wanted)
        else:
            points = [self._point(spec, clause, v) for v in values]
            matcher = self._point_matcher(spec, points)
        if op in ("=", "in"):
            if wants_empty:
                return lambda issue: (not get(issue)) or matcher(issue)
            return matcher
        # != and NOT IN never match an empty field (Jira's rule), unless EMPTY itself is excluded.
        return lambda issue: bool(get(issue)) and not matcher(issue)

    def _wanted_names(self, spec: _Field, clause: Clause, values: list[Operand]) -> frozenset[str]:
        wanted: set[str] = set()
        for operand in values:
            if isinstance(operand, Function):
                wanted |= self._function_names(spec, operand)
                continue
            assert isinstance(operand, Value)
            text = operand.text.lower()
            if spec.name == "resolution" and text == "unresolved":
                wanted.add("")  # matches nothing; EMPTY handled below
                continue
            if spec.known is not None and text not in spec.known():
                raise JqlError(f"The value '{operand.text}' does not exist for the field '{clause.field}'.")
            if spec.name == "key" and not self.site.issue_exists(operand.text):
                raise JqlError(f"An issue with key '{operand.text}' does not exist for field '{clause.field}'.")
            wanted.add(text)
        return frozenset(wanted)

    def _name_matcher(self, spec: _Field, wanted: frozenset[str]) -> Predicate:
        get = spec.get
        if "" in wanted and spec.name == "resolution":  # resolution = Unresolved
            rest = wanted - {""}
            return lambda issue: (not get(issue)) or any(ids & rest for ids in get(issue))
        return lambda issue: any(ids & wanted for ids in get(issue))

    def _function_names(self, spec: _Field, fn: Function) -> set[str]:
        name = fn.name.lower()
        if name == "currentuser" and spec.is_user:
            self.dynamic = True
            user = self.ctx.current_user
            return set(self.site.user_identities(user) or {"\0nobody"}) if user else {"\0nobody"}
        if name in ("opensprints", "closedsprints") and spec.kind == "name":
            return {f"\0sprint:{name}"}
        raise JqlError(f"Unable to find JQL function '{fn.name}()'.")

    def _point(self, spec: _Field, clause: Clause, operand: Operand) -> Any:
        """An operand as a comparable value of the field's kind."""
        if isinstance(operand, Function):
            fn = operand.name.lower()
            if spec.kind not in ("datetime", "date") or fn not in ("now", "startofday", "endofday"):
                raise JqlError(f"Unable to find JQL function '{operand.name}()'.")
            moment = self._function_time(fn, operand.args)
            return moment.date() if spec.kind == "date" else moment
        assert isinstance(operand, Value)
        if spec.kind == "number":
            try:
                return float(operand.text)
            except ValueError:
                raise JqlError(f"The value '{operand.text}' is invalid for the field '{clause.field}'.") from None
        if spec.kind in ("datetime", "date"):
            moment = self._parse_when(operand.text, clause.field)
            return moment.date() if spec.kind == "date" else moment
        key = _KEY_RE.match(operand.text)  # key comparisons: same project, higher number
        if not key:
            raise JqlError(f"The issue key '{operand.text}' for field '{clause.field}' is invalid.")
        return (key.group(1).lower(), int(key.group(2)))

    def _point_matcher(self, spec: _Field, points: list[Any]) -> Predicate:
        get = spec.get
        wanted = set(points)
        return lambda issue: any(v in wanted for v in get(issue))

    def _ordered_clause(self, spec: _Field, clause: Clause, operand: Operand) -> Predicate:
        op = clause.operator
        compare = {
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
        }[op]
        if spec.name == "priority":
            priorities = self.site.priorities
            rank = {p["name"].lower(): len(priorities) - i for i, p in enumerate(priorities)}
            if not isinstance(operand, Value) or operand.text.lower() not in rank:
                shown = operand.text if isinstance(operand, Value) else operand.name
                raise JqlError(f"The value '{shown}' does not exist for the field '{clause.field}'.")
            bound = rank[operand.text.lower()]
            sort = spec.sort
            assert sort is not None
            return lambda issue: (r := sort(issue)) is not None and compare(r, bound)
        point = self._point(spec, clause, operand)
        if spec.kind == "key":
            project, number = point

            def key_matches(issue: Issue) -> bool:
                found = _KEY_RE.match(issue["key"])
                return bool(found) and found.group(1).lower() == project and compare(int(found.group(2)), number)

            return key_matches
        get = spec.get
        return lambda issue: any(compare(v, point) for v in get(issue))

    def _text_clause(self, spec: _Field, op: str, values: list[Operand]) -> Predicate:
        get = spec.get
        terms = []
        for operand in values:
            if not isinstance(operand, Value):
                raise JqlError(f"Unable to find JQL function '{operand.name}()'.")  # type: ignore[union-attr]
            terms.append(operand.text.lower())
        if op in ("=", "in"):
            return lambda issue: any(v in terms for v in get(issue))
        if op in ("!=", "not in"):
            return lambda issue: bool(get(issue)) and not any(v in terms for v in get(issue))
        words = [w.strip("*") for t in terms for w in t.split() if w.strip("*")]

        def contains(issue: Issue) -> bool:
            return any(all(w in v for w in words) for v in get(issue))

        return contains if op == "~" else (lambda issue: bool(get(issue)) and not contains(issue))

    # -- time values ------------------------------------------------------------------------------------

    def _parse_when(self, text: str, field_name: str) -> datetime:
        period = _PERIOD.match(text.strip())
        if period:
            self.dynamic = True
            sign = -1 if period.group(1) == "-" else 1
            delta = sum(
                (int(n) * _PERIOD_UNITS[u.lower()] for n, u in _PERIOD_PART.findall(period.group(2))), timedelta()
            )
            return self.ctx.now + sign * delta
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
        raise JqlError(f"Date value '{text}' for field '{field_name}' is invalid. {_DATE_HELP}")

    def _function_time(self, name: str, args: tuple[str, ...]) -> datetime:
        self.dynamic = True
        now = self.ctx.now
        shift = self._parse_when(args[0], name) - now if args else timedelta()
        if name == "now":
            return now + shift
        start = datetime(now.year, now.month, now.day, tzinfo=UTC) + shift
        return start if name == "startofday" else start + timedelta(days=1) - timedelta(milliseconds=1)

    # -- hints ------------------------------------------------------------------------------------------

    def _hints(self, where: Node | None) -> Hints:
        """Index hints from the top-level AND: project/key equality and an updated lower bound."""
        if where is None:
            return Hints()
        clauses = [where] if isinstance(where, Clause) else list(where.items) if isinstance(where, And) else []
        projects: frozenset[str] | None = None
        keys: frozenset[str] | None = None
        updated_from: datetime | None = None
        for clause in clauses:
            if not isinstance(clause, Clause) or any(not isinstance(o, Value) for o in clause.operands):
                continue
            name = clause.field.lower()
            texts = frozenset(o.text for o in clause.operands if isinstance(o, Value))
            if name == "project" and clause.operator in ("=", "in"):
                resolved = self._project_keys(texts)
                projects = resolved if projects is None else projects & resolved
            elif name in ("key", "issuekey") and clause.operator in ("=", "in"):
                upper = frozenset(t.upper() for t in texts)
                keys = upper if keys is None else keys & upper
            elif name in ("updated", "updateddate") and clause.operator in (">", ">=") and len(texts) == 1:
                bound = self._parse_when(next(iter(texts)), clause.field)
                updated_from = bound if updated_from is None else max(updated_from, bound)
        only_projects = isinstance(where, Clause) and projects is not None
        return Hints(projects, keys, updated_from, only_projects)

    def _project_keys(self, texts: frozenset[str]) -> frozenset[str]:
        wanted = {t.lower() for t in texts}
        return frozenset(
            p["key"] for p in self.site.projects if {str(p.get(k, "")).lower() for k in ("key", "id", "name")} & wanted
        )


def _identities(obj: dict[str, Any], keys: tuple[str, ...]) -> frozenset[str]:
    """The lower-cased names and ids of a status, project or option object."""
    return frozenset(str(obj[k]).lower() for k in keys if obj.get(k) is not None)


def _plain(value: Any) -> str:
    if is_adf(value):
        return adf_to_text(value)
    return value if isinstance(value, str) else str(value)


def _to_datetime(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_datetime(str(value))
    except ValueError:
        return None


def _to_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _sprint_ids(sprint: Any) -> frozenset[str]:
    if isinstance(sprint, dict):
        state = str(sprint.get("state", "")).lower()
        tag = "\0sprint:closedsprints" if state == "closed" else "\0sprint:opensprints"
        return frozenset({str(sprint.get("id", "")), str(sprint.get("name", "")).lower(), tag})
    # The older string form: com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=12,state=ACTIVE,name=S1,...]
    found = dict(re.findall(r"(\w+)=([^,\]]*)", str(sprint)))
    tag = "\0sprint:closedsprints" if found.get("state", "").lower() == "closed" else "\0sprint:opensprints"
    return frozenset({found.get("id", ""), found.get("name", "").lower(), tag})
