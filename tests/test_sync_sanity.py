"""Data sanity at sync: values that are well-formed but cannot be true (a second anchor, absurd story points,
a `created` in 9999, duplicate ids, a self-link, a move into a status Jira does not list, a change dated
2099, a planned end before the planned start, an Actual Cost of 1e308) are reported by Jira key and field
in the sync's ``data_errors`` and on the issue, and left out, so the project is judged on what is valid."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from pmo_gates.connectors import sync as sync_module
from pmo_gates.connectors.search import IssueSearch
from pmo_gates.rules.facts import compute_facts
from pmo_gates.sandbox import CF
from pmo_gates.store.models import ChangelogItem, Issue, IssueLink, Project
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sync import TODAY, UNPACED, config, portfolio, run_sync, serve

STATUS_IDS = {"To Do": "10000", "In Progress": "3"}


def _history(ident: str, created: str, moves: list[tuple[str, str]]) -> dict:
    return {
        "id": ident,
        "created": created,
        "items": [
            {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": STATUS_IDS.get(a, "99999"),
             "fromString": a, "to": STATUS_IDS.get(b, "99999"), "toString": b}
            for a, b in moves
        ],
    }  # fmt: skip


def _add_histories(issue: dict, *histories: dict) -> None:
    changelog = issue.setdefault("changelog", {"startAt": 0, "maxResults": 0, "total": 0, "histories": []})
    changelog["histories"] = [*changelog.get("histories", []), *histories]
    changelog["total"] = changelog["maxResults"] = len(changelog["histories"])


def _hostile(impostor_updated: str = "2026-11-01T06:00:00.000+0000"):
    """The test portfolio with one implausible value per case, all in CPR and MBA; DWM is left clean
    except for its Actual Cost. The second anchor, CPR-99, is created after CPR-1 and updated at
    ``impostor_updated`` (by default after CPR-1, so a sync reads it last)."""
    snap = portfolio().model_copy(deep=True)
    by_key = {i["key"]: i for i in snap.issues}
    anchor = by_key["CPR-1"]
    impostor = copy.deepcopy(anchor)
    impostor.update(id="19999", key="CPR-99", self=anchor["self"].replace("10001", "19999"))
    impostor["fields"]["summary"] = "Project (copy)"
    impostor["fields"][CF["Budget"]] = 1.0
    impostor["fields"]["created"] = "2026-10-20T06:00:00.000+0000"
    impostor["fields"]["updated"] = impostor_updated
    snap.issues.append(impostor)
    by_key["CPR-4"]["fields"][CF["Story Points"]] = -3
    by_key["CPR-5"]["fields"][CF["Story Points"]] = 1e20
    by_key["CPR-6"]["fields"]["created"] = "9999-12-31T00:00:00.000+0000"
    self_link = copy.deepcopy(by_key["CPR-5"]["fields"]["issuelinks"][0])
    self_link["id"] = "299999"
    self_link["outwardIssue"].update(id=by_key["CPR-9"]["id"], key="CPR-9")
    by_key["CPR-9"]["fields"]["issuelinks"] = [self_link]
    _add_histories(
        by_key["CPR-7"],
        _history("900001", "2026-10-25T09:00:00.000+0000", [("To Do", "Nonexistent")]),
        _history("900002", "2026-10-27T09:00:00.000+0000", [("Nonexistent", "In Progress")]),
    )
    _add_histories(by_key["CPR-8"], _history("900003", "2099-01-01T09:00:00.000+0000", [("To Do", "In Progress")]))
    by_key["MBA-1"]["fields"][CF["Planned Start"]] = "2026-12-01"
    by_key["MBA-1"]["fields"][CF["Planned End"]] = "2026-06-30"
    by_key["DWM-1"]["fields"][CF["Actual Cost"]] = 1e308
    return snap, anchor["fields"][CF["Budget"]]


EXPECTED = {
    ("CPR-99", "anchor"),
    ("CPR-4", "story_points"),
    ("CPR-5", "story_points"),
    ("CPR-6", "created"),
    ("CPR-9", "issuelinks"),
    ("CPR-7", "changelog[900001].status"),
    ("CPR-8", "changelog[900003].created"),
    ("MBA-1", "planned_end"),
    ("DWM-1", "actual_cost"),
}


@pytest.fixture
def synced(store, sandbox_flavour):
    snap, budget = _hostile()
    with serve(snap, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as sb:
        result = run_sync(sb, store, full=True, cfg=config(sb, **UNPACED))
    return store, result, budget


def test_each_implausible_value_is_reported_by_key_and_field(synced):
    _, result, _ = synced
    reported = {(e.key, e.field) for e in result.data_errors}
    assert reported >= EXPECTED, EXPECTED - reported
    assert not any(key.startswith("DWM-") and key != "DWM-1" for key, _ in reported)


def test_the_store_holds_only_what_is_valid(synced):
    store, _, budget = synced
    with store.session() as s:
        cpr = s.get(Project, "CPR")
        assert cpr.anchor_issue_key == "CPR-1" and cpr.budget == budget != 1.0
        points = dict(s.execute(select(Issue.key, Issue.story_points).where(Issue.key.in_(["CPR-4", "CPR-5"]))).all())
        assert points == {"CPR-4": None, "CPR-5": None}
        created = s.scalar(select(Issue.created).where(Issue.key == "CPR-6"))
        assert created.replace(tzinfo=UTC) <= datetime.now(UTC)
        assert s.scalars(select(IssueLink).where(IssueLink.from_key == IssueLink.to_key)).all() == []
        moves = s.execute(
            select(Issue.key, ChangelogItem.from_string, ChangelogItem.to_string, ChangelogItem.created)
            .join(Issue, Issue.id == ChangelogItem.issue_id)
            .where(Issue.key.in_(["CPR-7", "CPR-8"]), ChangelogItem.field == "status")
        ).all()
        assert all("Nonexistent" not in (m.from_string, m.to_string) for m in moves)
        assert ("CPR-7", "To Do", "In Progress") in {(m.key, m.from_string, m.to_string) for m in moves}
        assert all(m.created.year < 2099 for m in moves)
        mba = s.get(Project, "MBA")
        assert mba.planned_start is None and mba.planned_end is None
        dwm = s.get(Project, "DWM")
        assert dwm.actual_cost is None and dwm.budget is not None
        flagged = s.scalar(select(Issue.data_errors).where(Issue.key == "CPR-99"))
        assert any(e.startswith("anchor: ") and "CPR-1" in e for e in flagged)


def test_facts_are_computed_on_what_is_valid(synced):
    store, _, _ = synced
    facts = compute_facts(store, today=TODAY)
    assert set(facts) == {"CPR", "DWM", "MBA"}
    assert facts["DWM"]["actual_cost"] is None and facts["MBA"]["pv"] is None


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("impostor_updated", ["2026-10-01T06:00:00.000+0000", "2026-11-01T06:00:00.000+0000"])
def test_the_oldest_anchor_wins_across_batches_and_runs(sqlite_store, monkeypatch, impostor_updated, flavour):
    monkeypatch.setattr(sync_module, "BATCH_ISSUES", 5)  # CPR-1 and CPR-99 in different transactions
    snap, budget = _hostile(impostor_updated)
    with serve(snap, flavour, index_lag=STRICT_INDEX_LAG) as sb:
        first = run_sync(sb, sqlite_store, full=True, cfg=config(sb, **UNPACED))
        again = run_sync(sb, sqlite_store, full=True, cfg=config(sb, **UNPACED))
    for result in (first, again):
        assert ("CPR-99", "anchor") in {(e.key, e.field) for e in result.data_errors}
    with sqlite_store.session() as s:
        cpr = s.get(Project, "CPR")
        assert cpr.anchor_issue_key == "CPR-1" and cpr.budget == budget


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_two_issues_sharing_an_id_keep_one_and_say_so(store, monkeypatch, flavour):
    pages = IssueSearch.pages

    def with_a_twin(self, *args, **kwargs):
        for page in pages(self, *args, **kwargs):
            twins = []
            for raw in page:
                if raw.get("key") == "CPR-3":
                    twin = copy.deepcopy(raw)
                    twin["key"] = "CPR-77"
                    twin["fields"]["summary"] = "An older copy with the same id"
                    twin["fields"]["updated"] = "2026-01-01T00:00:00.000+0000"
                    twins.append(twin)
            yield page + twins

    monkeypatch.setattr(IssueSearch, "pages", with_a_twin)
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        result = run_sync(sb, store, full=True, cfg=config(sb, **UNPACED))
        served_issue = sb.state.issue("CPR-3")
    assert ("CPR-77", "id") in {(e.key, e.field) for e in result.data_errors}
    with store.session() as s:
        row = s.get(Issue, int(served_issue["id"]))
        assert row.key == "CPR-3" and row.summary == served_issue["fields"]["summary"]
        assert any(e.startswith("id: ") and "CPR-77" in e for e in row.data_errors)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_clean_portfolio_has_no_data_errors(sqlite_store, flavour):
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        result = run_sync(sb, sqlite_store, full=True, cfg=config(sb, **UNPACED))
    assert result.data_errors == []
