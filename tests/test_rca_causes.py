"""Each root cause on a hand-built portfolio with known answers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pmo_gates.rca.analyse import ProjectAnalysis, analyse_portfolio
from tests.fixtures_rca import PER_DAY, TODAY, RcaPortfolio, days_ago, playbook


def analyse(store, portfolio: RcaPortfolio) -> dict[str, ProjectAnalysis]:
    portfolio.save(store)
    report = analyse_portfolio(store, today=TODAY, playbook=playbook())
    return {project.key: project for project in report.projects}


def cause(analysis: ProjectAnalysis, name: str):
    found = [c for c in analysis.causes if c.cause == name]
    assert found, f"{name} not found; causes: {[c.cause for c in analysis.causes]}"
    return found[0]


def test_base_project_is_delayed_with_no_cause_and_on_time_project_is_not(store):
    p = RcaPortfolio()
    p.delayed_project()
    p.on_time_project()
    result = analyse(store, p)
    late, fine = result["LATE"], result["FINE"]
    assert late.delayed and late.slip_days == 106.0  # forecast today + ceil(15 / (5/42)) = +126 vs +20
    assert late.schedule.spi == 0.3
    # No cause in the data: an explicit 'unexplained' answer naming what is missing, and a remedy for it.
    assert [c.cause for c in late.causes] == ["unexplained"]
    assert late.causes[0].impact_days == 106.0 and late.causes[0].confidence == 0.0
    assert "status history (changelogs)" in late.causes[0].evidence.summary
    assert "blocking links" in late.causes[0].evidence.summary
    assert [r.id for r in late.remedies] == ["delay_review"] and late.unexplained_days == 106.0
    assert not fine.delayed and fine.causes == []
    assert fine.slip_days == 0.0  # forecast +28 days vs planned +40: early; no progress lag (SPI 1.0)


def test_scope_creep_counts_work_added_after_the_baseline_but_not_bugs(store):
    p = RcaPortfolio()
    p.delayed_project()
    added = [p.work("LATE", "To Do", type="Story", created=days_ago(30 - n)) for n in range(6)]
    p.work("LATE", "To Do", type="Bug", created=days_ago(10))
    found = cause(analyse(store, p)["LATE"], "scope_creep")
    assert (
        found.evidence.numbers.items()
        >= {
            "added_items": 6,
            "baseline_items": 20,
            "growth_pct": 30.0,
            "baseline_date": str(TODAY - timedelta(days=95)),
        }.items()
    )
    assert found.evidence.issues == list(reversed(added))  # newest first
    assert found.impact_days == round(6 / PER_DAY, 1)


def test_dependency_blocked_weights_other_projects_fully_and_own_project_by_half(store):
    p = RcaPortfolio()
    todo = p.delayed_project()
    p.project("OTHER", planned_start=TODAY, planned_end=TODAY + timedelta(days=30))
    blocker = p.work("OTHER", "In Progress", created=days_ago(20))
    fixed = p.work("OTHER", "Done", created=days_ago(20), resolved=days_ago(3))
    p.link(blocker, todo[0])
    p.link(blocker, todo[1])
    p.link(todo[2], todo[3])  # same project, unresolved
    p.link(fixed, todo[4])  # resolved blocker: not waiting any more
    found = cause(analyse(store, p)["LATE"], "dependency_blocked")
    assert found.evidence.numbers.items() >= {"blocked_items": 3, "cross_project": 2, "blockers": 2}.items()
    assert found.evidence.projects == ["OTHER"]
    assert found.evidence.statuses == ["In Progress", "To Do"]
    assert set(found.evidence.issues) == {todo[0], todo[1], todo[3], blocker, todo[2]}
    assert found.impact_days == round((2 * 1.0 + 0.5) / PER_DAY, 1)


def test_resource_overload_counts_the_excess_share_of_overloaded_peoples_items(store):
    p = RcaPortfolio()
    p.delayed_project()
    p.project("ELSE", planned_start=TODAY, planned_end=TODAY + timedelta(days=30))
    mine = [p.work("LATE", "To Do", created=days_ago(50), assignee="alice") for _ in range(8)]
    for _ in range(12):
        p.work("ELSE", "To Do", created=days_ago(50), assignee="alice")  # 20 open in all: 5 over 15
    for extra in ("X1", "X2", "X3"):  # bob: one item in each of 4 projects, over the cap of 3
        p.project(extra, planned_start=TODAY, planned_end=TODAY + timedelta(days=30))
        p.work(extra, "To Do", created=days_ago(50), assignee="bob")
    bobs = p.work("LATE", "To Do", created=days_ago(50), assignee="bob")
    found = cause(analyse(store, p)["LATE"], "resource_overload")
    assert found.evidence.numbers.items() >= {"overloaded_people": 2, "their_items_here": 9}.items()
    assert found.evidence.people == ["alice", "bob"]  # no display names synced: account ids
    assert set(found.evidence.issues) == {*mine, bobs}
    # alice: 8 items x (1 - 15/20) = 2; bob: 1 item x (1 - 3/4) = 0.25
    assert found.impact_days == round(2.25 / PER_DAY, 1)


def test_status_bottleneck_compares_time_in_status_with_the_portfolio_norm(store):
    p = RcaPortfolio()
    p.delayed_project()
    slow = []
    for n in range(4):  # LATE: 2 days in progress, then 9 days in review
        key = p.work("LATE", "Done", created=days_ago(98), resolved=days_ago(20 - n), assignee="carol")
        p.move(key, days_ago(31 - n), "To Do", "In Progress")
        p.move(key, days_ago(29 - n), "In Progress", "In Review")
        p.move(key, days_ago(20 - n), "In Review", "Done")
        slow.append(key)
    for project in ("N1", "N2", "N3"):  # the norm: 2 days in progress, 1 in review
        p.project(project, planned_start=TODAY - timedelta(days=50), planned_end=TODAY + timedelta(days=50))
        for n in range(3):
            key = p.work(project, "Done", created=days_ago(40), resolved=days_ago(10 + n), assignee="erin")
            p.move(key, days_ago(13 + n), "To Do", "In Progress")
            p.move(key, days_ago(11 + n), "In Progress", "In Review")
            p.move(key, days_ago(10 + n), "In Review", "Done")
    report_project = analyse(store, p)["LATE"]
    found = cause(report_project, "status_bottleneck")
    assert (
        found.evidence.numbers.items()
        >= {
            "status": "In Review",
            "mean_days": 9.0,
            "norm_days": 1.0,  # median of the per-project means 1, 1, 1, 9
            "issues": 4,
            "waiting_now": 0,
            "excess_days": 32.0,  # 4 x 9 - 4 x 1
        }.items()
    )
    assert found.evidence.statuses == ["In Review"] and set(found.evidence.issues) == set(slow)
    # cycle norm: median of per-project mean cycle days 3, 3, 3, 11 = 3; each issue waited 8 days beyond
    # the norm, more than a whole cycle, so counts one item-equivalent (waiting holds an item up, it does
    # not multiply it): 4 items (LATE's throughput now counts its 4 extra resolutions too: 9 in the window)
    assert found.evidence.numbers["item_equivalents"] == 4.0
    assert found.impact_days == round(4 / (9 / 42), 1)


def test_unstaffed_work_counts_unassigned_items_due_soon_or_overdue(store):
    p = RcaPortfolio()
    p.delayed_project()
    due = [
        p.work("LATE", "To Do", created=days_ago(50), due=TODAY - timedelta(days=3)),
        p.work("LATE", "In Progress", created=days_ago(50), due=TODAY + timedelta(days=5)),
        p.work("LATE", "To Do", created=days_ago(50), due=TODAY + timedelta(days=14)),
    ]
    p.work("LATE", "To Do", created=days_ago(50), due=TODAY + timedelta(days=30))  # not due soon
    p.work("LATE", "To Do", created=days_ago(50), due=TODAY + timedelta(days=1), assignee="carol")  # staffed
    found = cause(analyse(store, p)["LATE"], "unstaffed_work")
    assert found.evidence.numbers.items() >= {"unassigned_due": 3, "overdue": 1, "unassigned_open": 4}.items()
    assert found.evidence.issues == due
    assert found.evidence.statuses == ["In Progress", "To Do"]
    assert found.impact_days == round(3 / PER_DAY, 1)


def test_rework_counts_reopens_fully_and_bounce_backs_by_half(store):
    p = RcaPortfolio()
    todo = p.delayed_project()
    p.move(todo[0], days_ago(40), "To Do", "In Progress")
    p.move(todo[0], days_ago(35), "In Progress", "Done")
    p.move(todo[0], days_ago(30), "Done", "In Progress")  # reopened
    p.move(todo[0], days_ago(25), "In Progress", "To Do")  # stopped: back a step
    p.move(todo[1], days_ago(40), "To Do", "In Progress")
    p.move(todo[1], days_ago(38), "In Progress", "In Review")
    p.move(todo[1], days_ago(36), "In Review", "In Progress")  # bounced back from review
    p.move(todo[1], days_ago(33), "In Progress", "To Do")
    found = cause(analyse(store, p)["LATE"], "rework")
    assert found.evidence.numbers.items() >= {"rework_items": 2, "rate_pct": 10.0, "reopens": 1, "bounces": 3}.items()
    assert found.evidence.issues == [todo[0], todo[1]]  # most rework first (2 moves each), then by key
    assert found.impact_days == round((1 + 3 * 0.5) / PER_DAY, 1)


def test_estimation_error_counts_logged_effort_beyond_estimates(store):
    p = RcaPortfolio()
    p.delayed_project()
    over = [
        p.work("LATE", "Done", created=days_ago(80), resolved=days_ago(60 - n), estimate_h=8, spent_h=12)
        for n in range(4)
    ]
    p.work("LATE", "In Progress", created=days_ago(80), estimate_h=8, spent_h=2)  # unfinished: not judged
    found = cause(analyse(store, p)["LATE"], "estimation_error")
    assert (
        found.evidence.numbers.items()
        >= {"estimated_h": 32.0, "logged_h": 48.0, "overrun_pct": 50.0, "items": 4}.items()
    )
    assert found.evidence.issues == over
    assert found.impact_days == round(16 / 8 / PER_DAY, 1)  # 16 h over / 8 h per item = 2 items


@pytest.mark.parametrize(
    ("name", "setup"),
    [
        ("scope_creep", lambda p: p.work("LATE", "To Do", created=days_ago(10))),  # 1 of 20: 5% < 10%
        (
            "rework",
            lambda p: [  # 1 item of 21 bounced back: 4.8% < 5%
                p.move(p.work("LATE", "To Do", created=days_ago(50)), days_ago(9), "In Progress", "To Do")
            ],
        ),
        (
            "estimation_error",
            lambda p: [
                p.work("LATE", "Done", created=days_ago(80), resolved=days_ago(70), estimate_h=8, spent_h=9)
                for _ in range(4)
            ],
        ),  # 12.5% over < 25%
    ],
)
def test_causes_below_their_playbook_threshold_are_not_reported(store, name, setup):
    p = RcaPortfolio()
    p.delayed_project()
    setup(p)
    assert name not in [c.cause for c in analyse(store, p)["LATE"].causes]


def test_ranking_shares_and_remedies(store):
    p = RcaPortfolio()
    todo = p.delayed_project()
    for n in range(6):
        p.work("LATE", "To Do", type="Story", created=days_ago(30 - n))  # scope: 6 items
    p.project("OTHER", planned_start=TODAY, planned_end=TODAY + timedelta(days=30))
    blocker = p.work("OTHER", "In Progress", created=days_ago(20))
    for blocked in todo[:4]:
        p.link(blocker, blocked)  # blocked: 4 items
    p.work("LATE", "To Do", due=TODAY, created=days_ago(50))  # unstaffed: 1 item, under 10% of the slip
    late = analyse(store, p)["LATE"]
    assert [c.cause for c in late.causes] == ["scope_creep", "dependency_blocked", "unstaffed_work"]
    assert [c.score for c in late.causes] == sorted((c.score for c in late.causes), reverse=True)
    assert sum(c.share for c in late.causes) <= 1.0
    # the slip (forecast from 22 open items) is larger than all impacts together: shares are impact / slip
    assert late.slip_days == 165.0
    assert [c.share for c in late.causes] == [round(c.impact_days / 165, 3) for c in late.causes]
    # remedies for causes explaining at least 10% of the slip, in cause order, each once
    assert [r.id for r in late.remedies] == [
        "change_control",
        "rebaseline",
        "dependency_escalation",
        "workflow_reordering",
    ]
    escalate = late.remedies[2]
    assert escalate.kind == "dependency_escalation" and escalate.causes == ["dependency_blocked"]
    assert "Pat Manager" in escalate.action and blocker in escalate.action and "OTHER" in escalate.action


def test_the_analysis_reads_each_table_of_the_scope_facts_once(sqlite_store):
    """The detection facts and the scope baselines share one fact context: on 200,000 issues each extra
    pass over the scope's rows cost the rca command about half a second."""
    from sqlalchemy import event

    p = RcaPortfolio()
    p.delayed_project()
    p.on_time_project()
    p.save(sqlite_store)
    statements: list[str] = []
    listener = lambda conn, cursor, stmt, *rest: statements.append(stmt)  # noqa: E731
    event.listen(sqlite_store.engine, "before_cursor_execute", listener)
    try:
        analyse_portfolio(sqlite_store, today=TODAY, playbook=playbook())
    finally:
        event.remove(sqlite_store.engine, "before_cursor_execute", listener)
    repeated = {s for s in statements if statements.count(s) > 1 and s.lstrip().upper().startswith("SELECT")}
    assert not repeated, f"read twice: {[' '.join(s.split())[:160] for s in repeated]}"
