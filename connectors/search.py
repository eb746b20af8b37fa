"""Streaming issue search: a generator of pages, never the whole portfolio in memory.

Cloud pages through GET /rest/api/2/search/jql with ``nextPageToken``; Data Center through
GET /rest/api/2/search with ``startAt``. Both always get an explicit field list (never ``*all``).

Pages are read in ``updated ASC, key ASC`` order as a **keyset**: after each page the next query restarts
at the minute of the last issue seen (``updated >= "yyyy-MM-dd HH:mm"``), skipping the issues of that
minute already yielded. Offset paging over a result set that changes while we read it (an issue updated
mid-sync jumps to the end and shifts every later issue one place back) can skip an issue on a page
boundary; restarting from the keyset cannot, except among issues sharing one minute, where paging
continues by token/offset because JQL has no finer resolution. Restarting costs no extra request.

JQL reads a date-time in the searching user's time zone at minute precision: instants are turned into
that zone (from GET /myself ``timeZone``) and floored to the minute; where a local time is ambiguous
(the hour repeated when daylight saving time ends) the bound moves back by the DST shift, so it never
starts after the instant it stands for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any

from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.errors import JiraHTTPError
from pmo_gates.connectors.mapping import parse_jira_datetime

ORDER = "ORDER BY updated ASC, key ASC"
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

    def _page(self, jql: str, cursor: Any, max_results: int, fields: str, expand: str | None) -> tuple[list, Any]:
        """One request: (issues, cursor of the next page or None)."""
        params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": max_results}
        if expand:
            params["expand"] = expand
        if self.client.is_cloud:
            if cursor:
                params["nextPageToken"] = cursor
            data = self.client.get("/search/jql", params)
            issues = data.get("issues") or []
            token = data.get("nextPageToken")
            return issues, (token if token and not data.get("isLast") else None)
        start = cursor or 0
        params["startAt"] = start
        data = self.client.get("/search", params)
        issues = data.get("issues") or []
        total = data.get("total")
        following = start + len(issues)
        more = bool(issues) and (following < total if isinstance(total, int) else len(issues) >= max_results)
        return issues, (following if more else None)

    def pages(self, scope: str, since: datetime | None = None) -> Iterator[list[dict[str, Any]]]:
        """Issues of ``scope`` updated at or after ``since`` (all when None), page by page, oldest first."""
        bound = floor_minute(since) if since is not None else None  # the query's lower bound
        minute = bound  # the minute whose already-yielded issues ``seen`` holds
        seen: set[str] = set()
        cursor: Any = None
        while True:
            jql = scope if bound is None else f"({scope}) AND updated >= {quote(jql_instant(bound, self.tz))}"
            issues, following = self._page(f"{jql} {ORDER}", cursor, self.page_size, self.fields, self.expand)
            minutes = [_updated_minute(i) for i in issues]
            fresh = [i for i, m in zip(issues, minutes, strict=True) if not (m == minute and str(i.get("id")) in seen)]
            if fresh:
                yield fresh
            if following is None:
                return
            last = next((m for m in reversed(minutes) if m is not None), None)
            if last is not None and (minute is None or last > minute):
                in_last = {str(i.get("id")) for i, m in zip(issues, minutes, strict=True) if m == last}
                minute, seen = last, in_last
                # Restart the keyset at the last minute seen (see the module docstring), unless that minute
                # fills much of the page: re-reading it would waste the next request, so page on instead.
                if len(in_last) <= max(1, len(issues) // 4):
                    bound, cursor = last, None
                    continue
            else:
                seen |= {str(i.get("id")) for i, m in zip(issues, minutes, strict=True) if m == minute}
            cursor = following

    def ids(self, scope: str) -> Iterator[list[tuple[int, str]]]:
        """Every (id, key) of ``scope``: the cheap listing deletion reconciliation needs."""
        size = ID_PAGE_SIZE[self.client.flavour]
        cursor: Any = None
        while True:
            issues, cursor = self._page(f"{scope} ORDER BY key ASC", cursor, size, "id", None)
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


def fetch_changelogs(client: JiraClient, issues: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Full change histories (oldest first) for ``issues``, by issue id.

    Cloud: POST /changelog/bulkfetch, up to 1000 issues and 10000 histories per request. Data Center:
    GET /issue/{key}?expand=changelog, whose changelog is complete.
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
    for issue in issues:
        data = client.get(f"/issue/{issue['key']}", {"fields": "updated", "expand": "changelog"})
        changelog = data.get("changelog") or {}
        out[str(issue["id"])] = list(changelog.get("histories") or [])
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
