"""Streaming issue search: a generator of pages, never the whole portfolio in memory.

Cloud pages through GET /rest/api/2/search/jql with ``nextPageToken``; Data Center through
GET /rest/api/2/search with ``startAt``. Both always get an explicit field list (never ``*all``).

Pages are read in ``updated ASC, key ASC`` order, one query per sync. Paging must not skip an issue when
the result set changes while we read it (an issue edited mid-sync jumps to the end of the order):

- Cloud's ``nextPageToken`` is a cursor into the query's order (a keyset: the next page starts after the
  last issue returned), so edits between pages cannot shift what is still to come.
- Data Center's ``startAt`` is an offset: an edited issue leaving an already-read page shifts every later
  issue one place back, and the issue on the page boundary would be skipped. Each following page is
  therefore asked for from one issue earlier; when that overlap is not the last issue we read, the order
  shifted, and the search restarts as a keyset from the last minute read (``updated >= "yyyy-MM-dd HH:mm"``),
  leaving out the issues of that minute already yielded.

JQL reads a date-time in the searching user's time zone at minute precision: instants are turned into
that zone (from GET /myself ``timeZone``) and floored to the minute; where a local time is ambiguous
(the hour repeated when daylight saving time ends) the bound moves back by the DST shift, so it never
starts after the instant it stands for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from datetime import datetime, tzinfo
from typing import Any

from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.errors import JiraConnectorError, JiraHTTPError
from pmo_gates.connectors.jql_bound import jql_bound_problem
from pmo_gates.connectors.mapping import parse_jira_datetime

ORDER = "ORDER BY updated ASC, key ASC"
POST_JQL_OVER = 2000  # characters of JQL above which a search is POSTed
# Cloud returns up to 5000 issues per page when only ids are asked for; Data Center caps every page at
# jira.search.views.default.max (1000 by default) and we follow whatever it returns.
ID_PAGE_SIZE = {"cloud": 5000, "dc": 1000}


def quote(value: str) -> str:
    """A JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scope_jql(projects: Sequence[str], extra: str | None) -> str:
    """The portfolio's bounded JQL: its projects, ANDed with the configured extra JQL."""
    parts = []
    if projects:
        parts.append(f"project in ({', '.join(quote(p) for p in projects)})")
    if extra:
        problem = jql_bound_problem(extra)
        if problem is not None:  # also checked at config load; this keeps the guarantee local
            raise ValueError(f"portfolio.jql {problem}")
        parts.append(f"({extra})")
    if not parts:
        raise ValueError("the portfolio needs projects or JQL to bound the search")
    return " AND ".join(parts)


def floor_minute(instant: datetime) -> datetime:
    return instant.replace(second=0, microsecond=0)


def jql_instant(instant: datetime, tz: tzinfo) -> str:
    """``instant`` as JQL reads it in the user's zone, floored to the minute (see the module docstring)."""
    local = instant.astimezone(tz)
    naive = local.replace(tzinfo=None)
    earlier = naive.replace(tzinfo=tz, fold=0).utcoffset()
    later = naive.replace(tzinfo=tz, fold=1).utcoffset()
    if earlier is not None and later is not None and earlier != later:
        local = (instant - abs(earlier - later)).astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M")


def _updated_minute(issue: dict[str, Any]) -> datetime | None:
    fields = issue.get("fields")
    value = fields.get("updated") if isinstance(fields, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return floor_minute(parse_jira_datetime(value))
    except ValueError:
        return None


class IssueSearch:
    """Pages of raw issues for a bounded JQL, Cloud or Data Center."""

    def __init__(
        self,
        client: JiraClient,
        *,
        fields: Iterable[str],
        page_size: int,
        tz: tzinfo,
        expand: str | None = None,
    ) -> None:
        self.client = client
        self.fields = ",".join(dict.fromkeys(fields))
        self.page_size = page_size
        self.tz = tz
        self.expand = expand

    def _page(
        self, jql: str, cursor: Any, max_results: int, fields: str, expand: str | None
    ) -> tuple[list[dict[str, Any]], Any]:
        """One request: (issues, cursor of the next page or None). DC's cursor is the next ``startAt``.

        A long JQL (a portfolio of hundreds of projects) goes in a POST body: Jira refuses URLs of more
        than about 8 KB. Both flavours' search POSTs only read.
        """
        params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": max_results}
        if expand:
            params["expand"] = expand
        post = len(jql) > POST_JQL_OVER
        if self.client.is_cloud:
            if cursor:
                params["nextPageToken"] = cursor
            if post:
                data = self.client.post("/search/jql", params | {"fields": fields.split(",")})
            else:
                data = self.client.get("/search/jql", params)
            issues = data.get("issues") or []
            token = data.get("nextPageToken")
            return issues, (token if token and not data.get("isLast") else None)
        start = cursor or 0
        params["startAt"] = start
        if post:
            body = params | {"fields": fields.split(",")}
            if expand:
                body["expand"] = expand.split(",")
            data = self.client.post("/search", body)
        else:
            data = self.client.get("/search", params)
        issues = data.get("issues") or []
        total = data.get("total")
        following = start + len(issues)
        more = bool(issues) and (following < total if isinstance(total, int) else len(issues) >= max_results)
        return issues, (following if more else None)

    def count(self, scope: str, since: datetime | None = None) -> int | None:
        """Jira's estimate of how many issues ``pages(scope, since)`` yields, for a progress bar only: Cloud's
        approximate count, Data Center's search ``total``. None when Jira cannot say (never raises). Always a
        POST: a portfolio's JQL can be longer than a URL may be."""
        jql = scope if since is None else f"({scope}) AND updated >= {quote(jql_instant(floor_minute(since), self.tz))}"
        try:
            if self.client.is_cloud:
                data = self.client.post("/search/approximate-count", {"jql": jql})
                return int(data["count"])
            data = self.client.post("/search", {"jql": jql, "maxResults": 0, "fields": ["id"]})
            return int(data["total"])
        except (JiraConnectorError, KeyError, TypeError, ValueError):
            return None

    def pages(self, scope: str, since: datetime | None = None) -> Iterator[list[dict[str, Any]]]:
        """Issues of ``scope`` updated at or after ``since`` (all when None), page by page, oldest first."""
        bound = floor_minute(since) if since is not None else None
        minute: datetime | None = None  # the minute of the newest issue yielded ...
        seen: set[str] = set()  # ... and the ids yielded in that minute (to skip them after a restart)
        while True:
            jql = scope if bound is None else f"({scope}) AND updated >= {quote(jql_instant(bound, self.tz))}"
            jql = f"{jql} {ORDER}"
            cursor: Any = None
            last_id: str | None = None  # DC: the last issue read, expected back as the overlap
            restart = False
            while True:
                overlap = last_id is not None and not self.client.is_cloud
                if overlap:
                    issues, following = self._page(jql, cursor - 1, self.page_size + 1, self.fields, self.expand)
                    if not issues or str(issues[0].get("id")) != last_id:
                        restart = True  # the order shifted under us: continue as a keyset
                        break
                    issues = issues[1:]
                else:
                    issues, following = self._page(jql, cursor, self.page_size, self.fields, self.expand)
                fresh = []
                for issue in issues:
                    at = _updated_minute(issue)
                    ident = str(issue.get("id"))
                    if at is not None and at == minute and ident in seen:
                        continue
                    if at is not None and (minute is None or at > minute):
                        minute, seen = at, set()
                    if at == minute:
                        seen.add(ident)
                    fresh.append(issue)
                if fresh:
                    yield fresh
                if following is None:
                    return
                if issues:
                    last_id = str(issues[-1].get("id"))
                cursor = following
            if restart:
                bound = minute if minute is not None else bound

    def newest(self, scope: str) -> datetime | None:
        """The newest ``updated`` in ``scope`` right now (one request): a full sync's horizon."""
        issues, _ = self._page(f"{scope} ORDER BY updated DESC", None, 1, "updated", None)
        for issue in issues:
            value = (issue.get("fields") or {}).get("updated")
            if isinstance(value, str):
                try:
                    return parse_jira_datetime(value)
                except ValueError:
                    return None
        return None

    def ids(self, scope: str) -> Iterator[list[tuple[int, str]]]:
        """Every (id, key) of ``scope``: the cheap listing deletion reconciliation needs."""
        size = ID_PAGE_SIZE[self.client.flavour]
        cursor: Any = None
        while True:
            issues, cursor = self._page(f"{scope} ORDER BY key ASC", cursor, size, "key", None)
            page = [(int(i["id"]), str(i.get("key", ""))) for i in issues if str(i.get("id", "")).isdigit()]
            if page:
                yield page
            if cursor is None:
                return

    def existing(self, scope: str, issue_ids: Sequence[int], *, projects: set[str], check_jql: bool) -> set[int]:
        """Which of ``issue_ids`` are still in scope: they exist, sit in one of ``projects`` (when given)
        and, with ``check_jql``, match ``scope``. The last look before deleting them from the store.

        One GET per issue, since JQL naming an issue that no longer exists is an error; deletions are
        few, and issues of projects that left the portfolio never get here (the caller deletes those).
        """
        found: list[int] = []
        for issue_id in issue_ids:
            try:
                issue = self.client.get(f"/issue/{issue_id}", {"fields": "project"})
            except JiraHTTPError as exc:
                if exc.status_code == 404:
                    continue
                raise
            project = ((issue.get("fields") or {}).get("project") or {}).get("key")
            if not projects or project in projects:
                found.append(issue_id)
        if not check_jql or not found:
            return set(found)
        in_scope: set[int] = set()
        for start in range(0, len(found), 100):
            chunk = found[start : start + 100]
            jql = f"({scope}) AND id in ({', '.join(str(i) for i in chunk)})"
            issues, _ = self._page(jql, None, len(chunk), "id", None)
            in_scope |= {int(i["id"]) for i in issues if str(i.get("id", "")).isdigit()}
        return in_scope


def fetch_changelogs(
    client: JiraClient, issues: Sequence[dict[str, Any]], *, executor: Executor | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Full change histories (oldest first) for ``issues``, by issue id.

    Cloud: POST /changelog/bulkfetch, up to 1000 issues and 10000 histories per request. Data Center:
    GET /issue/{key}?expand=changelog, whose changelog is complete (one per issue: in ``executor`` when
    given, so they run in parallel within the client's request budget).
    """
    out: dict[str, list[dict[str, Any]]] = {str(i["id"]): [] for i in issues}
    if not issues:
        return out
    if client.is_cloud:
        ids = list(out)
        for start in range(0, len(ids), 1000):
            token: str | None = None
            while True:
                body: dict[str, Any] = {"issueIdsOrKeys": ids[start : start + 1000], "maxResults": 10000}
                if token:
                    body["nextPageToken"] = token
                data = client.post("/changelog/bulkfetch", body)
                for entry in data.get("issueChangeLogs") or []:
                    out.setdefault(str(entry.get("issueId")), []).extend(entry.get("changeHistories") or [])
                token = data.get("nextPageToken")
                if not token:
                    break
        for histories in out.values():
            histories.sort(key=lambda h: (str(h.get("created", "")), str(h.get("id", ""))))
        return out

    def one(issue: dict[str, Any]) -> list[dict[str, Any]]:
        data = client.get(f"/issue/{issue['key']}", {"fields": "updated", "expand": "changelog"})
        return list((data.get("changelog") or {}).get("histories") or [])

    found = executor.map(one, issues) if executor is not None else map(one, issues)
    for issue, histories in zip(issues, found, strict=True):
        out[str(issue["id"])] = histories
    return out


def fetch_worklogs(client: JiraClient, key: str) -> list[dict[str, Any]]:
    """Every worklog of one issue (GET /issue/{key}/worklog, paged where the server pages)."""
    worklogs: list[dict[str, Any]] = []
    start = 0
    while True:
        data = client.get(f"/issue/{key}/worklog", {"startAt": start, "maxResults": 5000})
        page = data.get("worklogs") or []
        worklogs.extend(page)
        start += len(page)
        total = data.get("total")
        if not page or not isinstance(total, int) or start >= total:
            return worklogs
