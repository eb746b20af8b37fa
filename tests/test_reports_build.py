"""Every report figure on a hand-built portfolio with known answers (tests/fixtures_rca.report_portfolio),
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from pmo_gates.reports.build import build_reports
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.priority import parse_priority
from pmo_gates.store import Store
from pmo_gates.store.models import Base
from tests.fixtures_rca import TODAY, playbook, report_portfolio

PRIORITY = """
kind: priority-scoring
criteria:
  - {id: strategic, title: Strategic value, value: strategic_value, weight: 3,
     normalise: {method: range, min: 1, max: 5}}
  - {id: roi, title: ROI, value: expected_roi, weight: 1, normalise: {method: minmax}}
"""


def empty_store(kind: str, request, tmp_path_factory) -> Store:
    """A store of ``kind`` holding nothing: the reports take seconds to draw, so each backend builds once."""
    if kind == "sqlite":
        return Store(f"sqlite:///{tmp_path_factory.mktemp('reports') / 'store.db'}")
    store = Store(request.getfixturevalue("pg_database_url"))
    with store.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    return store


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bundle(request, tmp_path_factory):
    store = empty_store(request.param, request, tmp_path_factory)
    report_portfolio(store)
    yield build_reports(
        store,
        today=TODAY,
        out_dir=tmp_path_factory.mktemp("report"),
        options=ReportOptions(on_time_target_pct=80, go_rate_target_pct=60),
        playbook=playbook(),
        priority=parse_priority(PRIORITY),
    )
    store.dispose()


def rows(bundle, key):
    return bundle.tables[key].rows


def by(rows_, column):
    return {row[column]: row for row in rows_}


def test_priority_ranking_follows_the_weighted_criteria(bundle):
    ranking = rows(bundle, "priority")
    assert [(r["rank"], r["project"], r["score"]) for r in ranking] == [
        (1, "A", 100.0),  # strategic (5-1)/4 x 75 + ROI (40-10)/30 x 25
        (2, "C", 12.5),  # strategic unknown: 0; ROI (25-10)/30 x 25
        (3, "B", 0.0),
        (4, "D", 0.0),
        (5, "E", 0.0),
    ]
    assert ranking[0]["strategic"] == 5.0 and ranking[0]["roi"] == 40.0 and ranking[1]["strategic"] is None
    assert by(ranking, "project")["B"]["delayed"] is True and by(ranking, "project")["A"]["delayed"] is False


def test_resource_map_counts_load_projects_experience_and_overload(bundle):
    people = by(rows(bundle, "people"), "person")
    alice, bob, frank = people["alice"], people["bob"], people["frank"]
    assert (alice["open"], alice["projects"], alice["overloaded"]) == (12, 3, False)  # at the limits, not over
    assert (frank["open"], frank["projects"], frank["overloaded"]) == (4, 4, True)  # 4 projects > 3
    assert (people["dave"]["in_progress"], people["dave"]["open"]) == (2, 2)
    assert (bob["open"], bob["resolved"], bob["resolved_last_90d"], bob["delivered_in_projects"]) == (0, 8, 8, 2)
    assert bob["hours_logged"] == 10.0 and bob["experience"] == "Task x7, Bug x1"
    assert alice["working_on"] == "A, B, D"
    cells = {(c["person"], c["project"]): c for c in rows(bundle, "people_projects")}
    assert cells[("alice", "B")]["open"] == 7 and cells[("carol", "B")]["resolved"] == 2
    assert bundle.figures()["resources"] == {"people": 5, "overloaded": 1}


def test_cost_analysis_per_project_and_totals(bundle):
    cost = rows(bundle, "cost")
    assert [r["project"] for r in cost] == ["B", "A"]  # worst CPI first; C, D, E have no budget
    b, a = cost
    assert (b["earned_value"], b["cpi"], b["eac"], b["vac"], b["over_budget"]) == (400.0, 0.4, 5000.0, -3000.0, True)
    assert (a["earned_value"], a["cpi"], a["eac"], a["vac"], a["over_budget"]) == (500.0, 1.0, 1000.0, 0.0, False)
    assert bundle.figures()["cost"] == {
        "projects_with_budget": 2,
        "budget": 3000.0,
        "actual_cost": 1500.0,
        "earned_value": 900.0,
        "cpi": 0.6,
        "eac": 6000.0,
        "vac": -3000.0,
        "over_budget_projects": 1,
    }


def test_goal_achievement_against_targets(bundle):
    measures = by(rows(bundle, "goals"), "measure")
    go = measures["Gate reviews ending Go / Conditional Go"]
    assert (go["actual_pct"], go["target_pct"], go["met"], go["basis"]) == (66.7, 60, True, 3)
    on_time = measures["Projects on schedule"]
    assert (on_time["actual_pct"], on_time["met"], on_time["basis"]) == (60.0, False, 5)  # B and D late
    assert measures["Finished projects delivered on time"]["actual_pct"] == 100.0
    schedule = by(rows(bundle, "schedule"), "project")
    assert (schedule["A"]["decision"], schedule["A"]["latest_gate"], schedule["A"]["reviewed"]) == (
        "go",
        "execution",
        "2026-10-20",
    )
    assert schedule["B"]["on_schedule"] is False and schedule["E"]["decision"] is None
    figures = bundle.figures()["goals"]
    assert figures["decisions"] == {"go": 1, "conditional_go": 1, "hold": 0, "recycle": 0, "kill": 1}
    assert figures["projects_delayed"] == 2


def test_quality_reopen_rate_and_defect_share(bundle):
    quality = by(rows(bundle, "quality"), "project")
    assert (quality["B"]["reopen_rate"], quality["B"]["reopened_issues"], quality["B"]["alerts"]) == (
        0.5,
        1,
        "reopen rate",
    )
    assert (quality["A"]["defect_share"], quality["A"]["reopen_rate"], quality["A"]["alerts"]) == (0.2, 0.0, "")
    assert rows(bundle, "quality")[0]["project"] == "B"  # alerts first
    assert bundle.figures()["quality"]["projects_with_alerts"] == 1


def test_stale_ineffective_and_redundant_work(bundle):
    findings = by(rows(bundle, "stale_ineffective"), "project")
    assert set(findings) == {"B", "D", "E"}
    assert findings["D"]["finding"] == "stale: no work issue updated for 40 days" and findings["D"]["idle_days"] == 40
    assert findings["E"]["finding"] == "ineffective: 3 issues updated but none resolved in 30 days"
    assert findings["B"]["finding"] == "ineffective: latest gate review (execution) decided kill"
    assert rows(bundle, "redundant_work") == [
        {"summary": "Migrate the billing DB", "projects": "A, B", "issues": "A-BILL, B-BILL", "count": 2}
    ]


def test_trends_from_the_stored_history(bundle):
    assert rows(bundle, "decision_trend") == [
        {"month": "2026-09", "go": 0, "conditional_go": 1, "hold": 1, "recycle": 0, "kill": 0},
        {"month": "2026-10", "go": 1, "conditional_go": 0, "hold": 0, "recycle": 0, "kill": 1},
    ]
    assert rows(bundle, "rca_trend") == [
        {"month": "2026-09", "analysed": 2, "delayed": 1, "mean_slip_days": 20.0, "top_cause": "scope_creep"},
        {"month": "2026-10", "analysed": 3, "delayed": 3, "mean_slip_days": 30.0, "top_cause": "scope_creep"},
    ]


def test_markdown_summarises_each_section(bundle):
    text = bundle.markdown
    assert text.startswith(f"# PMO portfolio report {TODAY.isoformat()}")
    for title in ("Priority ranking", "Resource map", "Cost analysis", "Goal achievement", "Quality analysis",
                  "Stale and ineffective projects, redundant work", "Trends"):  # fmt: skip
        assert f"## {title}" in text
    assert "- Projects on schedule: **60%** vs target 80% (**missed**, 5 projects)." in text
    assert "Portfolio CPI **0.60**" in text


def test_shipped_priority_playbook_ranks_the_portfolio(sqlite_store, tmp_path):
    report_portfolio(sqlite_store)
    shipped = build_reports(sqlite_store, today=TODAY, out_dir=tmp_path, playbook=playbook())
    ranking = rows(shipped, "priority")
    assert ranking[0]["project"] == "A" and set(ranking[0]) >= {"strategic_value", "roi", "risk", "health"}
    assert all(0 <= r["score"] <= 100 for r in ranking)
