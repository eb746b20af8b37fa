"""End to end through the real ``jira`` client over HTTP against the sandbox (Cloud and Data Center), into
SQLite and PostgreSQL, every exchange checked against Atlassian's OpenAPI description."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from pmo_gates.connectors.sync import SyncProgress
from pmo_gates.sandbox import CF, SandboxLimits
from pmo_gates.store.models import ChangelogItem, Issue, Project, SyncRun, SyncState, Worklog
from tests.fixtures_sync import PAGE, config, portfolio, run_sync, serve, served, stored

FLAVOURS = ["cloud", "dc"]
SEARCH = {"cloud": "/search/jql", "dc": "/search"}


def _search_count(sb) -> int:
    return sb.requests.count("GET", SEARCH[sb.flavour])


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_full_sync_stores_everything_the_sandbox_serves(store, flavour):
    with serve(portfolio(), flavour) as sb:
        updates: list[SyncProgress] = []
        result = run_sync(sb, store, full=True, progress=updates.append)
        want = served(sb)
        have = stored(store)
        assert {k: have[k] for k in want} == want
        assert result.mode == "full" and result.flavour == flavour
        assert result.issues_upserted == want["issues"] and result.issues_deleted == 0
        assert result.changelog_items == want["changelog_items"] and result.worklogs == want["worklogs"]
        assert result.data_errors == [] and result.warnings == []
        # Requests: the pages (the keyset costs at most one extra; each of the 3 project groups read in
        # parallel at most one partial page), the horizon, the catch-up, one id listing, the metadata.
        pages = math.ceil(want["issues"] / PAGE)
        assert pages + 1 <= _search_count(sb) <= pages + 3 + 3
        assert sb.requests.count("GET", "/field") == 1 and sb.requests.count("GET", "/myself") == 1
        assert sb.requests.writes() == []
        assert result.http_requests_total == len(sb.requests)
        assert updates[-1].stage == "done" and updates[-1].issues == want["issues"]
        newest = max(i["fields"]["updated"] for i in sb.state.issues())
        assert result.watermark is not None and result.watermark.strftime("%Y-%m-%dT%H:%M:%S") == newest[:19]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_anchor_issues_fill_the_project_metadata(sqlite_store, flavour):
    with serve(portfolio(), flavour) as sb:
        run_sync(sb, sqlite_store, full=True)
        anchors = {
            i["fields"]["project"]["key"]: i for i in sb.state.issues() if i["fields"]["issuetype"]["name"] == "Project"
        }
        with sqlite_store.session() as s:
            projects = {p.key: p for p in s.scalars(select(Project))}
        assert set(projects) == set(anchors)
        for key, anchor in anchors.items():
            f, p = anchor["fields"], projects[key]
            assert p.anchor_issue_key == anchor["key"]
            assert p.phase == f[CF["PMO Phase"]]["value"].lower()
            assert p.planned_end.isoformat() == f[CF["Planned End"]]
            assert p.budget == f[CF["Budget"]] and p.hourly_rate == f[CF["Hourly Rate"]]
            assert p.budget_approved == (f[CF["Budget Approved"]]["value"] == "Yes")
            assert p.project_manager_id and p.project_manager_name == f[CF["Project Manager"]]["displayName"]
            assert p.charter_url == f.get(CF["Charter"])
            assert p.lead_account_id  # from /project/search (Cloud) or /project (DC)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_incremental_sync_fetches_only_what_changed(store, flavour):
    with serve(portfolio(), flavour) as sb:
        run_sync(sb, store, full=True)
        keys = sorted(i["key"] for i in sb.state.issues())
        sb.state.update_issue(keys[3], {"summary": "Renamed by the PM"})
        sb.state.transition(keys[7], "Done")
        sb.requests.reset()

        result = run_sync(sb, store)
        assert result.mode == "incremental"
        assert result.issues_upserted == 2
        # One search page; no metadata requests (they are remembered from the full sync).
        assert sb.requests.stats()["by_endpoint"] == {f"GET {SEARCH[flavour]}": 1}
        with store.session() as s:
            assert s.scalar(select(Issue.summary).where(Issue.key == keys[3])) == "Renamed by the PM"
            assert s.scalar(select(Issue.status).where(Issue.key == keys[7])) == "Done"
        want, have = served(sb), stored(store)
        assert {k: have[k] for k in want} == want  # the new changelog entries replaced, not appended

        sb.requests.reset()
        again = run_sync(sb, store)
        assert again.issues_upserted == 0 and again.http_requests_total <= 2
        assert len(sb.requests) <= 2


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_full_sync_reconciles_deletions_incremental_does_not(store, flavour):
    with serve(portfolio(), flavour) as sb:
        run_sync(sb, store, full=True)
        victims = sorted(i["key"] for i in sb.state.issues() if i["fields"]["issuetype"]["name"] == "Task")[:2]
        ids = [int(sb.state.issue(k)["id"]) for k in victims]
        for key in victims:
            sb.state.delete_issue(key)

        assert run_sync(sb, store).issues_deleted == 0
        with store.session() as s:
            assert s.scalar(select(Issue.id).where(Issue.id == ids[0])) == ids[0]

        sb.requests.reset()
        result = run_sync(sb, store, full=True)
        assert result.issues_deleted == 2
        assert sb.requests.count("GET", "/issue/") == 2  # each deletion confirmed once
        with store.session() as s:
            assert s.scalars(select(Issue.id).where(Issue.id.in_(ids))).all() == []
            assert s.scalars(select(ChangelogItem.id).where(ChangelogItem.issue_id.in_(ids))).all() == []
            assert s.scalars(select(Worklog.id).where(Worklog.issue_id.in_(ids))).all() == []
        want, have = served(sb), stored(store)
        assert {k: have[k] for k in want} == want


def test_truncated_changelogs_are_fetched_in_bulk_on_cloud(sqlite_store):
    limits = SandboxLimits(search_changelog_histories=1)
    with serve(portfolio(), "cloud", limits=limits) as sb:
        truncated = sum(1 for i in sb.state.issues() if len(i["changelog"]["histories"]) > 1)
        assert truncated >= 3
        result = run_sync(sb, sqlite_store, full=True)
        assert sb.requests.count("POST", "/changelog/bulkfetch") == 1  # one batch: one call for all of them
        want = served(sb)
        assert stored(sqlite_store)["changelog_items"] == want["changelog_items"] == result.changelog_items


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_truncated_worklogs_are_read_from_the_worklog_endpoint(sqlite_store, flavour):
    """The sandbox keeps one worklog list, so this checks the follow-up call; the unit tests check that its
    answer replaces the embedded page."""
    snapshot = portfolio().model_copy(deep=True)
    issue = next(i for i in snapshot.issues if (i["fields"].get("worklog") or {}).get("worklogs"))
    issue["fields"]["worklog"]["total"] = len(issue["fields"]["worklog"]["worklogs"]) + 20
    with serve(snapshot, flavour) as sb:
        run_sync(sb, sqlite_store, full=True)
        assert sb.requests.count("GET", "/issue/") == 1
        assert sb.requests.count("GET", f"/issue/{issue['key']}/worklog") == 1
        assert stored(sqlite_store)["worklogs"] == served(sb)["worklogs"]


def test_sync_runs_are_recorded(sqlite_store):
    with serve(portfolio(), "cloud") as sb:
        first = run_sync(sb, sqlite_store, full=True)
        second = run_sync(sb, sqlite_store)
    with sqlite_store.session() as s:
        runs = s.scalars(select(SyncRun).order_by(SyncRun.id)).all()
        state = s.get(SyncState, "portfolio")
        assert [(r.id, r.mode, r.status) for r in runs] == [
            (first.run_id, "full", "completed"),
            (second.run_id, "incremental", "completed"),
        ]
        assert runs[0].stats["issues_upserted"] == first.issues_upserted and runs[0].finished_at is not None
        assert state.last_full_sync is not None and state.cursor is None
        assert state.context["flavour"] == "cloud" and state.context["fields"]["ids"]["budget"] == CF["Budget"]


def test_a_renamed_project_replaces_its_old_row(sqlite_store):
    from pmo_gates.sandbox import Snapshot

    with serve(portfolio(), "cloud") as sb:
        run_sync(sb, sqlite_store, full=True)
        old_key = sorted(p["key"] for p in sb.state.projects())[0]
    # The same portfolio, with that project's key changed (its id stays): Jira's project key rename.
    data = portfolio().model_dump(by_alias=True, mode="json")
    text = json.dumps(data).replace(f'"{old_key}-', '"ZZNEW-').replace(f'"key": "{old_key}"', '"key": "ZZNEW"')
    renamed = Snapshot.model_validate(json.loads(text))
    with serve(renamed, "cloud") as sb:
        run_sync(sb, sqlite_store, full=True)
        want, have = served(sb), stored(sqlite_store)
        assert {k: have[k] for k in want} == want
    with sqlite_store.session() as s:
        assert s.get(Project, old_key) is None and s.get(Project, "ZZNEW").anchor_issue_key.startswith("ZZNEW-")


def test_worklogs_can_be_left_out(sqlite_store):
    with serve(portfolio(), "cloud") as sb:
        cfg = config(sb, sync={"sync_worklogs": False})
        result = run_sync(sb, sqlite_store, full=True, cfg=cfg)
        first = sb.requests.matching("GET", "/search/jql")[0]
        assert "worklog" not in first.query["fields"][0].split(",")
    assert result.worklogs == 0 and stored(sqlite_store)["worklogs"] == 0


def test_a_stale_full_sync_is_redone(sqlite_store):
    from datetime import timedelta

    with serve(portfolio(), "dc") as sb:
        first = run_sync(sb, sqlite_store, full=True)
        started = datetime.now(UTC)
        assert run_sync(sb, sqlite_store, now=started + timedelta(days=1)).mode == "incremental"
        again = run_sync(sb, sqlite_store, now=started + timedelta(days=8))  # full_sync_every_days: 7
        assert again.mode == "full" and again.issues_upserted == first.issues_upserted


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_portfolio_defined_by_jql_alone(sqlite_store, flavour):
    from tests.fixtures_connector import settings

    with serve(portfolio(), flavour) as sb:
        keys = sorted(p["key"] for p in sb.state.projects())[:2]
        cfg = settings([], url=sb.url, page_size=PAGE, portfolio={"jql": f"project in ({', '.join(keys)})"})
        first = run_sync(sb, sqlite_store, full=True, cfg=cfg)
        again = run_sync(sb, sqlite_store, full=True, cfg=cfg)  # reconciles: nothing to delete
        want = sum(1 for i in sb.state.issues() if i["fields"]["project"]["key"] in keys)
    assert first.issues_upserted == again.issues_upserted == want and again.issues_deleted == 0
    with sqlite_store.session() as s:
        projects = s.scalars(select(Project)).all()
    assert sorted(p.key for p in projects) == keys
    assert all(p.lead_account_id and p.phase for p in projects)  # /project/search, then the anchor issue
