"""Keyset paging, JQL time formatting, field resolution and changelog/worklog follow-ups, against a small
in-memory fake of the search endpoints (the HTTP-level behaviour is covered against the sandbox)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pmo_gates.config import FieldMap
from pmo_gates.connectors.fields import resolve_fields
from pmo_gates.connectors.search import IssueSearch, jql_instant, quote, scope_jql

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class FakeSearch:
    """Serves /search/jql (token) or /search (offset) over a mutable list of issues; ``between_pages`` runs
    after every answered page, to change the data mid-pagination like a busy Jira does."""

    def __init__(self, issues: list[dict[str, Any]], *, cloud: bool = True) -> None:
        self.issues = issues
        self.is_cloud = cloud
        self.flavour = "cloud" if cloud else "dc"
        self.queries: list[dict[str, Any]] = []
        self.between_pages = lambda: None

    def _matching(self, jql: str) -> list[dict[str, Any]]:
        bound = re.search(r'updated >= "([^"]+)"', jql)
        rows = self.issues
        if bound:
            since = datetime.strptime(bound.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            rows = [i for i in rows if i["_at"] >= since]
        return sorted(rows, key=lambda i: (i["_at"], int(i["key"].split("-")[1])))

    def get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        self.queries.append({"path": path, **params})
        rows = self._matching(params["jql"])
        size = params["maxResults"]
        if self.is_cloud:
            # Like Cloud's nextPageToken: a cursor that resumes after the last issue returned.
            after = params.get("nextPageToken")
            start = 0 if not after else next((n for n, i in enumerate(rows) if _position(i) > after), len(rows))
        else:
            start = int(params.get("startAt") or 0)
        page = [copy.deepcopy({k: v for k, v in i.items() if k != "_at"}) for i in rows[start : start + size]]
        last = _position(rows[start + size - 1]) if start + size <= len(rows) else None
        self.between_pages()
        if self.is_cloud:
            more = start + size < len(rows)
            return {"issues": page, "nextPageToken": last if more else None, "isLast": not more}
        return {"issues": page, "startAt": start, "maxResults": size, "total": len(rows)}


def _position(issue: dict[str, Any]) -> str:
    return f"{issue['_at'].isoformat()}|{int(issue['key'].split('-')[1]):08d}"


def _issues(n: int, spacing: timedelta = timedelta(minutes=1)) -> list[dict[str, Any]]:
    out = []
    for i in range(1, n + 1):
        at = T0 + spacing * i
        out.append({"id": str(10000 + i), "key": f"A-{i}", "_at": at, "fields": {"updated": _stamp(at)}})
    return out


def _touch(issue: dict[str, Any], at: datetime) -> None:
    issue["_at"] = at
    issue["fields"]["updated"] = _stamp(at)


def _collect(fake: FakeSearch, since: datetime | None = None, page_size: int = 10) -> list[str]:
    search = IssueSearch(fake, fields=["updated"], page_size=page_size, tz=UTC)  # type: ignore[arg-type]
    return [i["key"] for page in search.pages('project in ("A")', since) for i in page]


@pytest.mark.parametrize("cloud", [True, False])
def test_pages_stream_everything_once_in_updated_order(cloud):
    fake = FakeSearch(_issues(35), cloud=cloud)
    keys = _collect(fake)
    assert keys == [f"A-{i}" for i in range(1, 36)]
    assert len(fake.queries) == 4  # ceil(35 / 10)
    assert {q["jql"] for q in fake.queries} == {'project in ("A") ORDER BY updated ASC, key ASC'}
    if not cloud:  # later pages start one issue early, to see whether the order shifted
        assert [(q["startAt"], q["maxResults"]) for q in fake.queries] == [(0, 10), (9, 11), (19, 11), (29, 11)]


@pytest.mark.parametrize("cloud", [True, False])
def test_an_issue_updated_mid_pagination_does_not_make_another_skip(cloud):
    """Plain offset paging loses A-11 here: A-3 moves to the end after page 1, shifting A-11 onto page 1.
    Cloud's cursor is immune; on Data Center the overlap sees the shift and the search restarts."""
    issues = _issues(25)
    fake = FakeSearch(issues, cloud=cloud)
    moved = []

    def move_once():
        if not moved:
            moved.append(True)
            _touch(issues[2], T0 + timedelta(hours=2))

    fake.between_pages = move_once
    keys = _collect(fake)
    assert set(keys) == {f"A-{i}" for i in range(1, 26)}
    assert keys.count("A-3") == 2 and keys[-1] == "A-3"  # the old and the new version, the new one last
    assert len(keys) == 26
    if not cloud:
        assert fake.queries[2]["jql"].startswith('(project in ("A")) AND updated >= "2026-11-01 08:10"')


@pytest.mark.parametrize("cloud", [True, False])
def test_issues_sharing_one_minute_page_on_without_repeats(cloud):
    issues = _issues(5) + [
        {"id": str(20000 + i), "key": f"A-{100 + i}", "_at": T0 + timedelta(minutes=30, seconds=i % 50), "fields": {}}
        for i in range(45)
    ]
    for issue in issues[5:]:
        issue["fields"]["updated"] = _stamp(issue["_at"])
    fake = FakeSearch(issues, cloud=cloud)
    keys = _collect(fake)
    assert sorted(keys) == sorted(i["key"] for i in issues) and len(keys) == len(set(keys))
    assert len(fake.queries) <= 6  # 50 issues at 10 a page, at most one re-read page


def test_since_bounds_the_query_and_skips_already_yielded_issues():
    fake = FakeSearch(_issues(30))
    keys = _collect(fake, since=T0 + timedelta(minutes=20, seconds=30))
    assert keys == [f"A-{i}" for i in range(20, 31)]
    assert 'updated >= "2026-11-01 08:20"' in fake.queries[0]["jql"]


def test_ids_listing_uses_big_pages_and_no_changelog():
    fake = FakeSearch(_issues(12))
    search = IssueSearch(fake, fields=["updated"], page_size=5, tz=UTC, expand="changelog")  # type: ignore[arg-type]
    pages = list(search.ids('project in ("A")'))
    assert sum(len(p) for p in pages) == 12 and pages[0][0] == (10001, "A-1")
    assert fake.queries[0]["maxResults"] == 5000 and fake.queries[0]["fields"] == "key"
    assert "expand" not in fake.queries[0]


def test_jql_instant_uses_the_user_time_zone_and_minutes():
    berlin = ZoneInfo("Europe/Berlin")
    assert jql_instant(datetime(2026, 7, 1, 10, 15, 59, tzinfo=UTC), berlin) == "2026-07-01 12:15"
    assert jql_instant(datetime(2026, 7, 1, 10, 15, 59, tzinfo=UTC), UTC) == "2026-07-01 10:15"
    # 00:30 UTC on 25 Oct 2026 is 02:30 CEST, a wall time that happens twice: step back by the DST shift.
    assert jql_instant(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), berlin) == "2026-10-25 01:30"


def test_scope_and_quoting():
    assert scope_jql(["CPR", "AND"], None) == 'project in ("CPR", "AND")'
    assert scope_jql(["CPR"], "labels = pmo") == 'project in ("CPR") AND (labels = pmo)'
    assert scope_jql([], "project = X") == "(project = X)"
    assert quote('say "hi"\\') == '"say \\"hi\\"\\\\"'


GH = "com.pyxis.greenhopper.jira:"
FIELDS = [
    {"id": "customfield_1", "name": "Sprint", "custom": True, "schema": {"custom": "com.acme:sprint-ish"}},
    {"id": "customfield_2", "name": "Sprint", "custom": True, "schema": {"custom": GH + "gh-sprint"}},
    {"id": "customfield_3", "name": "Budget", "custom": True, "schema": {"custom": "x:float"}},
    {"id": "customfield_4", "name": "Budget", "custom": True, "schema": {"custom": "x:float"}},
    {"id": "customfield_5", "name": "epic link", "custom": True, "schema": {"custom": "x:other"}},
    {"id": "customfield_6", "name": "Points", "custom": True, "schema": {"custom": GH + "jsw-story-points"}},
]  # fmt: skip


def test_field_resolution_by_name_type_and_case(caplog):
    ids = resolve_fields(FIELDS, FieldMap(phase="customfield_3"))
    assert ids.get("sprint") == "customfield_2"  # the gh-sprint one among two "Sprint"s
    assert ids.get("epic_link") == "customfield_5"  # case-insensitive name match
    assert ids.get("story_points") == "customfield_6"  # no "Story Points": the only field of its type
    assert ids.get("budget") == "customfield_3"  # ambiguous: the lowest id, with a warning
    assert ids.get("phase") == "customfield_3"  # a field id is accepted instead of a name
    assert ids.get("charter") is None
    text = "\n".join(ids.warnings)
    assert "fields.charter: Jira has no field named 'Charter'" in text
    assert "fields.budget: 2 Jira fields are named 'Budget'" in text
    assert "fields.story_points: no Jira field is named 'Story Points'" in text
    assert "fields.charter" in caplog.text  # logged as well
    assert ids.matches(FieldMap(phase="customfield_3")) and not ids.matches(FieldMap())
