"""The sync against the stricter sandbox (issue 13): long changelogs and many worklogs (bulk fetch and paging),
explicit nulls in changelog items, raw non-JSON error bodies, and Data Center people by login name."""

from __future__ import annotations

import functools

import pytest
from sqlalchemy import select

from pmo_gates.sandbox import FaultRule, Snapshot, generate_portfolio
from pmo_gates.store.models import ChangelogItem, Issue, Person
from tests.fixtures_sync import TODAY, run_sync, serve, served, stored

SEARCH = {"cloud": r"/search/jql$", "dc": r"/search$"}


@functools.cache
def heavy() -> Snapshot:
    return generate_portfolio(projects=2, issues_per_project=12, seed=7, today=TODAY, heavy_issues=3)


def _complete(sb, store) -> None:
    want, have = served(sb), stored(store)
    assert {k: have[k] for k in want} == want


def test_the_heavy_portfolio_has_long_changelogs_and_many_worklogs() -> None:
    issues = heavy().issues
    long = [i for i in issues if len(i["changelog"]["histories"]) >= 100]
    busy = [i for i in issues if len(i["fields"]["worklog"]["worklogs"]) > 20]
    assert len(long) == 3 and len(busy) == 3
    light = generate_portfolio(projects=2, issues_per_project=12, seed=7, today=TODAY)
    assert [i["key"] for i in light.issues] == [i["key"] for i in issues]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_every_history_and_worklog_of_heavy_issues_is_stored(sqlite_store, flavour) -> None:
    with serve(heavy(), flavour) as sb:
        run_sync(sb, sqlite_store, full=True)
        _complete(sb, sqlite_store)
        if flavour == "cloud":
            assert sb.requests.count("POST", "/changelog/bulkfetch") >= 1
        # The worklogs Jira does not embed (beyond 20 per issue) are read from each heavy issue's /worklog.
        worklog_reads = [r for r in sb.requests.all() if r.method == "GET" and r.api_path.endswith("/worklog")]
        assert len({r.api_path for r in worklog_reads}) >= 3


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_explicit_nulls_in_changelog_items_are_stored_as_nulls(sqlite_store, flavour) -> None:
    with serve(heavy(), flavour) as sb:
        run_sync(sb, sqlite_store, full=True)
    with sqlite_store.session() as s:
        labels = s.scalars(select(ChangelogItem).where(ChangelogItem.field == "labels")).all()
        assert labels and all(item.from_value is None and item.to_value is None for item in labels)
        unassigned = s.scalars(select(Issue).where(Issue.assignee_id.is_(None))).all()
        assert unassigned  # assignee: null maps to no assignee


def test_data_center_people_are_keyed_by_login_name(sqlite_store) -> None:
    with serve(heavy(), "dc") as sb:
        run_sync(sb, sqlite_store, full=True)
        logins = {u["name"] for u in sb.state.users()}
    with sqlite_store.session() as s:
        ids = set(s.scalars(select(Person.account_id)))
        assignees = set(s.scalars(select(Issue.assignee_id).where(Issue.assignee_id.is_not(None))))
    assert ids and ids <= logins and assignees <= logins
    assert not any(i.startswith("JIRAUSER") for i in ids)


def test_data_center_people_keep_their_user_key_and_login(sqlite_store) -> None:
    with serve(heavy(), "dc") as sb:
        run_sync(sb, sqlite_store, full=True)
        keys = {u["name"]: sb.state.site.dc_key(u) for u in sb.state.users()}
    with sqlite_store.session() as s:
        people = s.scalars(select(Person)).all()
        # DC changelogs name users by key: every such key is a person whose login the store knows.
        changed = set(s.scalars(select(ChangelogItem.to_value).where(ChangelogItem.field == "assignee")))
    assert people and all(p.login == p.account_id and p.user_key == keys[p.login] for p in people)
    assert any(k and k.startswith("JIRAUSER") for k in changed)
    assert {p.user_key for p in people} >= {k for k in changed if k}


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_raw_error_bodies_and_a_zero_retry_after_are_waited_out(sqlite_store, flavour) -> None:
    with serve(heavy(), flavour) as sb:
        html = "<html><head><title>503 Service Unavailable</title></head><body>Try later</body></html>"
        sb.faults.add(FaultRule(path=SEARCH[flavour], status=503, raw_body=html, content_type="text/html", nth=2))
        sb.faults.add(FaultRule(path=SEARCH[flavour], status=429, raw_body="", retry_after=0, nth=3))
        sb.faults.add(FaultRule(path=r"/field$", status=429, raw_body="Rate limit exceeded", count=1))
        run_sync(sb, sqlite_store, full=True)
        _complete(sb, sqlite_store)
        assert sb.requests.count(status=503) == 1 and sb.requests.count(status=429) == 2


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_an_issue_updated_during_index_lag_is_picked_up_by_the_next_sync(sqlite_store, flavour) -> None:
    ticks = [1000.0]
    with serve(heavy(), flavour, index_lag=60) as sb:
        sb.state.index_clock = lambda: ticks[0]
        run_sync(sb, sqlite_store, full=True)
        key = sb.state.issues()[5]["key"]
        sb.state.update_issue(key, {"summary": "Renamed while the index lags"})
        run_sync(sb, sqlite_store)  # the index does not show the change yet: nothing to see
        with sqlite_store.session() as s:
            assert s.scalar(select(Issue.summary).where(Issue.key == key)) != "Renamed while the index lags"
        ticks[0] += 61
        run_sync(sb, sqlite_store)  # the watermark never passed the unseen change: the next sync finds it
        with sqlite_store.session() as s:
            assert s.scalar(select(Issue.summary).where(Issue.key == key)) == "Renamed while the index lags"
        _complete(sb, sqlite_store)
