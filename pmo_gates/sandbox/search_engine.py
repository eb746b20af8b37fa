"""Runs compiled JQL over the state's indexes: keyset pages (Cloud), offset windows (DC) and counts.

Keyset paging: a page ends at the last issue's (ORDER BY values, id); the next page starts strictly after
that position in the *current* data. Issues that change between pages move, but every issue that matched
and did not change is returned exactly once, which is what Cloud's ``nextPageToken`` promises.

Two ways to produce a page:

- ORDER BY ``updated`` (the sync connector's query) walks the state's (updated, id) index from the token's
  position and stops after one page: O(page) whatever the portfolio size and however often it changes.
- Anything else filters the candidates (one project's issues when the query pins projects or keys), sorts
  them and caches the ordered result per (query, state version); later pages bisect into it.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pmo_gates.sandbox.jql_eval import CompiledQuery

if TYPE_CHECKING:
    from pmo_gates.sandbox.state import SandboxState

_CACHE_SIZE = 64  # a concurrent sync pages through one query per project group at once
_UPDATED = ("updated", "updateddate")
_WALK_SHARE = 2  # walk the updated index when the pinned projects hold at least half of the issues


@dataclass
class SearchPage:
    issues: list[dict[str, Any]]
    has_more: bool

    def position_after(self, query: CompiledQuery) -> tuple[list[Any], int] | None:
        """Where the next page starts: the last issue's ORDER BY values and id."""
        if not self.issues:
            return None
        last = self.issues[-1]
        return query.sort_values(last), int(last["id"])


class SearchEngine:
    """Search over one state's issues; call with the state's lock held or let the methods take it."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._cache: OrderedDict[tuple[str, int], tuple[list[tuple[Any, ...]], list[int]]] = OrderedDict()

    def page(
        self, query: CompiledQuery, cache_key: str, *, after: tuple[list[Any], int] | None, limit: int
    ) -> SearchPage:
        """Up to ``limit`` issues after ``after`` (None: from the start), and whether more follow."""
        with self.state.lock:
            if self._walks_updated(query):
                return self._walk_updated(query, after, limit)
            keys, ids = self._ordered(query, cache_key)
            start = 0 if after is None else bisect.bisect_right(keys, query.sort_key(after[0], after[1]))
            chosen = ids[start : start + limit]
            return SearchPage([self.state.searchable(i) for i in chosen], start + limit < len(ids))  # type: ignore[misc]

    def window(
        self, query: CompiledQuery, cache_key: str, *, start: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Offset paging (Data Center's startAt): the issues in [start, start+limit) and the total."""
        with self.state.lock:
            _, ids = self._ordered(query, cache_key)
            return [self.state.searchable(i) for i in ids[start : start + limit]], len(ids)  # type: ignore[misc]

    def count(self, query: CompiledQuery, cache_key: str) -> int:
        """How many issues match: from an ordered result already at hand, else counted without sorting."""
        with self.state.lock:
            cached = self._cached(cache_key, self.state.index_pending())
            if cached is not None:
                return len(cached[1])
            return sum(1 for _ in self._matching(query))

    # -- ordered results --------------------------------------------------------------------------------

    def _candidates(self, query: CompiledQuery) -> list[int]:
        hints, state = query.hints, self.state
        if hints.keys is not None:
            found = (state.issue(k) for k in hints.keys)
            return [int(i["id"]) for i in found if i is not None]
        if hints.projects is not None:
            return [i for p in sorted(hints.projects) for i in state.project_issue_ids(p)]
        return list(state.iter_ids())

    @staticmethod
    def _predicate(query: CompiledQuery) -> Callable[[dict[str, Any]], bool]:
        """The query's predicate; for a query of projects alone, a look at the project key (the full
        predicate compares every identity of the project: most of the time of a large count)."""
        projects = query.hints.projects
        if query.hints.only_projects and projects is not None:
            return lambda issue: issue["fields"]["project"]["key"] in projects
        return query.matches

    def _matching(self, query: CompiledQuery) -> Iterator[tuple[int, dict[str, Any]]]:
        """(id, issue as search sees it) of every candidate the query matches, in candidate order."""
        match, searchable = self._predicate(query), self.state.searchable
        for issue_id in self._candidates(query):
            issue = searchable(issue_id)
            if issue is not None and match(issue):
                yield issue_id, issue

    def _cached(self, cache_key: str, lagging: bool) -> tuple[list[tuple[Any, ...]], list[int]] | None:
        """The ordered result of this query on the current data, if at hand (never while the index lags:
        it then changes with time alone)."""
        key = (cache_key, self.state.version)
        cached = None if lagging else self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
        return cached

    def _ordered(self, query: CompiledQuery, cache_key: str) -> tuple[list[tuple[Any, ...]], list[int]]:
        lagging = self.state.index_pending()  # once: what is computed while lagging is never cached
        cached = self._cached(cache_key, lagging)
        if cached is not None:
            return cached
        matching = self._matching(query)
        rows = [(query.sort_key(query.sort_values(issue), issue_id), issue_id) for issue_id, issue in matching]
        rows.sort(key=lambda row: row[0])
        result = ([r[0] for r in rows], [r[1] for r in rows])
        if lagging:
            return result
        self._cache[(cache_key, self.state.version)] = result
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    # -- the updated index ------------------------------------------------------------------------------

    def _walks_updated(self, query: CompiledQuery) -> bool:
        """Whether to page by walking the (updated, id) index rather than sorting the candidates.

        Pinned projects do not rule the walk out: when they hold most of the portfolio (a sync's horizon
        names every project), walking skips few issues per page, where sorting would touch them all."""
        if len(query.order_by) != 1 or query.order_by[0].field.lower() not in _UPDATED or query.hints.keys is not None:
            return False
        projects = query.hints.projects
        if projects is None:
            return True
        pinned = sum(self.state.project_issue_count(p) for p in projects)
        return pinned * _WALK_SHARE >= len(self.state)

    def _walk_updated(self, query: CompiledQuery, after: tuple[list[Any], int] | None, limit: int) -> SearchPage:
        index = self.state.updated_index()
        floor = query.hints.updated_from.timestamp() if query.hints.updated_from else None
        found: list[dict[str, Any]] = []
        match = self._predicate(query)
        if query.order_by[0].ascending:
            start = 0 if floor is None else bisect.bisect_left(index, (floor, -1))
            if after is not None:
                start = max(start, bisect.bisect_right(index, (after[0][0], after[1])))
            positions = range(start, len(index))
        else:
            end = len(index) if after is None else bisect.bisect_left(index, (after[0][0], after[1]))
            positions = range(end - 1, -1, -1)
        for position in positions:
            stamp, issue_id = index[position]
            if floor is not None and stamp < floor:
                break  # descending walk: everything further is older than the query allows
            issue = self.state.searchable(issue_id)
            if issue is not None and match(issue):
                if len(found) == limit:
                    return SearchPage(found, True)
                found.append(issue)
        return SearchPage(found, False)
