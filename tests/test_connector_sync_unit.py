"""The sync's follow-up requests against mocked Jira answers, every exchange checked against Atlassian's
OpenAPI description (``jira_responses``): truncated changelogs and worklogs, paged bulk fetches, project
chunks, flavour detection."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from pmo_gates.connectors.sync import sync_portfolio
from pmo_gates.store.models import ChangelogItem, Project, Worklog
from tests.fixtures_connector import URL, FakeClock, connection, server_info, settings

API = f"{URL}/rest/api/2"


@pytest.fixture
def mock(request):
    """``jira_responses``: every exchange is checked against Atlassian's OpenAPI description."""
    return request.getfixturevalue("jira_responses")


FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string", "system": "summary"}},
    {"id": "customfield_10100", "name": "PMO Phase", "custom": True, "schema": {"type": "option", "custom": "x:sel"}},
]
USER = {"accountId": "acc-1", "displayName": "Ada", "active": True}


def _history(n: int) -> dict[str, Any]:
    return {
        "id": str(100 + n),
        "author": USER,
        "created": f"2026-10-0{n}T09:00:00.000+0000",
        "items": [{"field": "status", "fieldtype": "jira", "fromString": "To Do", "toString": f"S{n}"}],
    }


def _worklog(n: int) -> dict[str, Any]:
    return {"id": str(500 + n), "author": USER, "started": f"2026-10-0{n}T08:00:00.000+0000", "timeSpentSeconds": 60}


def _issue(n: int, *, histories: int = 1, history_total: int = 1, worklogs: int = 0, worklog_total: int = 0):
    return {
        "id": str(10000 + n),
        "key": f"A-{n}",
        "fields": {
            "summary": f"Issue {n}",
            "issuetype": {"name": "Task"},
            "project": {"id": "1", "key": "A", "name": "Alpha"},
            "status": {"name": "To Do", "statusCategory": {"key": "new"}},
            "created": "2026-10-01T08:00:00.000+0000",
            "updated": f"2026-10-0{n}T10:00:00.000+0000",
            "worklog": {
                "startAt": 0,
                "maxResults": 20,
                "total": worklog_total,
                "worklogs": [_worklog(i) for i in range(1, worklogs + 1)],
            },
        },
        "changelog": {
            "startAt": 0,
            "maxResults": histories,
            "total": history_total,
            "histories": [_history(i) for i in range(1, histories + 1)],
        },
    }


def _query(request) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.url).query)


def _common(mock, *, cloud: bool) -> None:
    mock.get(f"{API}/myself", json={"accountId": "bot", "displayName": "Bot", "timeZone": "UTC"})
    mock.get(f"{API}/field", json=FIELDS)
    project = {"id": "1", "key": "A", "name": "Alpha", "lead": USER}
    if cloud:
        mock.get(
            f"{API}/project/search",
            json={"isLast": True, "startAt": 0, "maxResults": 50, "total": 1, "values": [project]},
        )
    else:
        mock.get(f"{API}/project", json=[project])


def _count(store, model, **where) -> int:
    with store.session() as s:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return int(s.scalar(query) or 0)


def test_data_center_reads_truncated_changelogs_and_paged_worklogs(mock, sqlite_store):
    _common(mock, cloud=False)
    issues = [_issue(1, histories=1, history_total=3), _issue(2, worklogs=1, worklog_total=3)]

    def search(request):
        ids_only = _query(request).get("fields") == ["key"]
        page = [{"id": i["id"], "key": i["key"]} for i in issues] if ids_only else issues
        return 200, {}, json.dumps({"startAt": 0, "maxResults": 50, "total": 2, "issues": page})

    mock.add_callback("GET", f"{API}/search", callback=search, content_type="application/json")
    full = _issue(1, histories=3, history_total=3)
    mock.get(f"{API}/issue/A-1", json={"id": full["id"], "key": "A-1", "fields": {}, "changelog": full["changelog"]})

    def worklogs(request):
        start = int(_query(request).get("startAt", ["0"])[0])
        page = [_worklog(i) for i in (1, 2, 3)][start : start + 2]
        return 200, {}, json.dumps({"startAt": start, "maxResults": 2, "total": 3, "worklogs": page})

    mock.add_callback("GET", f"{API}/issue/A-2/worklog", callback=worklogs, content_type="application/json")
    result = sync_portfolio(
        connection(flavour="dc", email=None), sqlite_store, settings(["A"]), full=True, sleep=FakeClock().sleep
    )
    assert result.issues_upserted == 2 and [e.field for e in result.data_errors] == ["anchor"]
    assert _count(sqlite_store, ChangelogItem, issue_id=10001) == 3
    assert _count(sqlite_store, Worklog, issue_id=10002) == 3
    assert result.http_requests["GET /rest/api/2/issue/{id}/worklog"] == 2
    assert result.http_requests["GET /rest/api/2/issue/{id}"] == 1


def test_cloud_fetches_truncated_changelogs_in_one_paged_bulk_call(mock, sqlite_store):
    _common(mock, cloud=True)
    issues = [_issue(1, histories=1, history_total=3), _issue(2, histories=1, history_total=2), _issue(3)]

    def search(request):
        ids_only = _query(request).get("fields") == ["key"]
        page = [{"id": i["id"], "key": i["key"]} for i in issues] if ids_only else issues
        return 200, {}, json.dumps({"issues": page, "isLast": True})

    mock.add_callback("GET", f"{API}/search/jql", callback=search, content_type="application/json")
    bodies: list[dict] = []

    def bulk(request):
        body = json.loads(request.body)
        bodies.append(body)
        if not body.get("nextPageToken"):
            page = {"issueChangeLogs": [{"issueId": "10001", "changeHistories": [_history(1), _history(2)]}]}
            page["nextPageToken"] = "page-2"
        else:
            page = {
                "issueChangeLogs": [
                    {"issueId": "10001", "changeHistories": [_history(3)]},
                    {"issueId": "10002", "changeHistories": [_history(1), _history(2)]},
                ]
            }
        return 200, {}, json.dumps(page)

    mock.add_callback("POST", f"{API}/changelog/bulkfetch", callback=bulk, content_type="application/json")
    result = sync_portfolio(connection(), sqlite_store, settings(["A"]), full=True, sleep=FakeClock().sleep)
    assert [sorted(b["issueIdsOrKeys"]) for b in bodies] == [["10001", "10002"], ["10001", "10002"]]
    assert bodies[1]["nextPageToken"] == "page-2"
    assert _count(sqlite_store, ChangelogItem, issue_id=10001) == 3
    assert _count(sqlite_store, ChangelogItem, issue_id=10002) == 2
    assert _count(sqlite_store, ChangelogItem, issue_id=10003) == 1
    assert result.http_requests["POST /rest/api/2/changelog/bulkfetch"] == 2
    # The search asked for an explicit field list and the changelog, never *all.
    first = next(c.request for c in mock.calls if "/search/jql" in c.request.url)
    fields = _query(first)["fields"][0].split(",")
    assert "*all" not in fields and {"summary", "status", "updated", "customfield_10100"} <= set(fields)
    assert _query(first)["expand"] == ["changelog"]


def test_projects_are_read_fifty_keys_at_a_time(mock, sqlite_store):
    keys = [f"P{i:03d}" for i in range(60)]
    mock.get(f"{API}/myself", json={"accountId": "bot", "timeZone": "UTC"})
    mock.get(f"{API}/field", json=FIELDS)

    def project_search(request):
        wanted = _query(request)["keys"]
        values = [{"id": str(100 + keys.index(k)), "key": k, "name": k.lower(), "lead": USER} for k in wanted]
        return (
            200,
            {},
            json.dumps({"isLast": True, "startAt": 0, "maxResults": 50, "total": len(values), "values": values}),
        )

    mock.add_callback("GET", f"{API}/project/search", callback=project_search, content_type="application/json")
    mock.get(f"{API}/search/jql", json={"issues": [], "isLast": True})
    result = sync_portfolio(connection(), sqlite_store, settings(keys), full=True, sleep=FakeClock().sleep)
    assert result.http_requests["GET /rest/api/2/project/search"] == 2
    assert max(len(_query(c.request)["keys"]) for c in mock.calls if "project/search" in c.request.url) == 50
    with sqlite_store.session() as s:
        assert s.scalar(select(func.count()).select_from(Project)) == 60
        assert s.get(Project, "P007").lead_account_id == "acc-1"


def test_auto_flavour_is_detected_once_and_remembered(mock, sqlite_store):
    mock.get(f"{API}/serverInfo", json=server_info("Cloud"))
    _common(mock, cloud=True)
    mock.get(f"{API}/search/jql", json={"issues": [_issue(1)], "isLast": True})
    first = sync_portfolio(
        connection(flavour="auto"), sqlite_store, settings(["A"]), full=True, sleep=FakeClock().sleep
    )
    second = sync_portfolio(connection(flavour="auto"), sqlite_store, settings(["A"]), sleep=FakeClock().sleep)
    assert first.flavour == second.flavour == "cloud"
    assert first.http_requests["GET /rest/api/2/serverInfo"] == 1
    assert second.http_requests == {"GET /rest/api/2/search/jql": 1}


def test_a_long_portfolio_jql_is_posted(mock, sqlite_store):
    keys = [f"PROJ{i:03d}" for i in range(300)]  # about 3,000 characters of JQL
    mock.get(f"{API}/myself", json={"accountId": "bot", "timeZone": "UTC"})
    mock.get(f"{API}/field", json=FIELDS)
    mock.add_callback(
        "GET",
        f"{API}/project/search",
        callback=lambda r: (200, {}, json.dumps({"isLast": True, "values": [
            {"id": k[4:], "key": k, "name": k} for k in _query(r)["keys"]]})),
        content_type="application/json",
    )  # fmt: skip
    mock.post(f"{API}/search/jql", json={"issues": [_issue(1)], "isLast": True})
    one_stream = settings(keys, sync={"concurrency": 1})  # one query over all 300 projects
    result = sync_portfolio(connection(), sqlite_store, one_stream, full=True, sleep=FakeClock().sleep)
    assert result.http_requests["POST /rest/api/2/search/jql"] == 2  # the issues, then the id listing
    bodies = [json.loads(c.request.body) for c in mock.calls if c.request.method == "POST"]
    assert all(len(b["jql"]) > 2000 and isinstance(b["fields"], list) for b in bodies)
    assert bodies[0]["expand"] == "changelog" and "expand" not in bodies[1]


def _raw(issue_id: int, key: str, summary: str, updated: str, history: int) -> dict[str, Any]:
    return {
        "id": str(issue_id),
        "key": key,
        "fields": {
            "summary": summary, "project": {"key": "A", "id": "1"}, "issuetype": {"name": "Task"},
            "status": {"name": "To Do", "statusCategory": {"key": "new"}},
            "created": "2026-10-01T09:00:00.000+0000", "updated": updated,
        },
        "changelog": {"histories": [_history(history)], "total": 1},
    }  # fmt: skip


def _stored(store) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    from pmo_gates.store.models import Issue

    with store.session() as s:
        issues = sorted(s.execute(select(Issue.id, Issue.key, Issue.summary)).all())
        items = sorted(s.execute(select(ChangelogItem.issue_id, ChangelogItem.history_id)).all())
    return [*map(tuple, issues), "|", *map(tuple, items)]


def test_batches_stored_together_leave_what_storing_them_one_by_one_leaves(tmp_path):
    """The writer stores batches that wait for it in one transaction: an issue read again by a later batch
    (edited meanwhile) and a key a later batch gives to another issue id end up as they would one batch
    after another, and nothing violates a unique constraint."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from pmo_gates.connectors.client import RequestStats
    from pmo_gates.connectors.fields import FieldIds
    from pmo_gates.connectors.mapping import map_issue
    from pmo_gates.connectors.sync import SyncResult, _Fetched, _load_state, _Run, _store_fetched
    from pmo_gates.store import Store

    synced_at = datetime(2026, 11, 2, tzinfo=UTC)

    def batch(*raws: dict[str, Any]) -> _Fetched:
        mapped = [map_issue(r, FieldIds(), anchor_issue_type="Project", synced_at=synced_at) for r in raws]
        return _Fetched("p0", 1, len(raws), None, mapped, [])  # type: ignore[arg-type]

    def batches() -> list[_Fetched]:
        day2, day3 = "2026-10-02T09:00:00.000+0000", "2026-10-03T09:00:00.000+0000"
        first = batch(_raw(1, "A-1", "old", day2, 1), _raw(2, "A-2", "two", day2, 2))
        second = batch(_raw(1, "A-1", "new", day3, 3), _raw(3, "A-2", "moved", day3, 4))
        return [first, second]

    results = []
    for together in (False, True):
        store = Store(f"sqlite:///{tmp_path / f'store-{together}.db'}")
        _load_state(store)
        job = SimpleNamespace(store=store, settings=settings(["A"]))
        run = _Run(SyncResult(mode="full"), None, RequestStats(), synced_at)
        groups = [batches()] if together else [[b] for b in batches()]
        for group in groups:
            _store_fetched(job, group, run)  # type: ignore[arg-type]
        results.append(_stored(store))
        store.dispose()
    assert results[0] == results[1]
    assert results[1] == [(1, "A-1", "new"), (3, "A-2", "moved"), "|", (1, "103"), (3, "104")]
