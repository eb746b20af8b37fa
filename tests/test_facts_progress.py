import pytest

from tests.fixtures_facts import Portfolio, at, facts_of

PROGRESS = (
    "total_issues",
    "open_issues",
    "unassigned_open_issues",
    "percent_complete_issues",
    "percent_complete_points",
    "throughput_per_day",
    "defect_share",
)


def test_counts_percentages_throughput_and_defects(store):
    p = Portfolio()
    p.project("A", anchor=True)
    p.issue("A", "Done", points=3, assignee="u1", resolved=at("2026-10-20"))
    p.issue("A", "Done", points=5, assignee="u1", type="Bug", resolved=at("2026-06-01"))  # outside the window
    p.issue("A", "In Progress", points=2, assignee="u2")
    p.issue("A", "To Do")  # unassigned, unestimated
    p.issue("A", "To Do", type="Risk")  # the risk register is not delivery scope
    p.issue("A", "To Do", key="A-90")  # a corrective-action ticket pmo-gates opened
    p.ticket("A", ticket_key="A-90")
    p.project("E")
    p.project("N")
    p.issue("N", "Done", resolved=at("2026-10-30"))
    p.issue("N", "In Progress", assignee="u3")
    p.save(store)
    facts = facts_of(store, *PROGRESS)

    assert facts["A"] == {
        "total_issues": 4,
        "open_issues": 2,
        "unassigned_open_issues": 1,
        "percent_complete_issues": 50.0,
        "percent_complete_points": 80.0,
        "throughput_per_day": pytest.approx(1 / 42, abs=1e-6),
        "defect_share": 0.25,
    }
    # No issues: counts are 0, shares unknown.
    assert facts["E"] == {
        "total_issues": 0,
        "open_issues": 0,
        "unassigned_open_issues": 0,
        "percent_complete_issues": None,
        "percent_complete_points": None,
        "throughput_per_day": None,
        "defect_share": None,
    }
    # No story points at all: completion by points is unknown, by issues known.
    assert facts["N"]["percent_complete_points"] is None
    assert facts["N"]["percent_complete_issues"] == 50.0


def test_throughput_window_bounds_and_missing_resolution_date(store):
    p = Portfolio()
    p.project("W")
    p.issue("W", "Done", resolved=at("2026-09-22", 0, 0))  # first instant of the 42-day window ending today
    p.issue("W", "Done", resolved=at("2026-09-21", 23, 59))  # just before it
    p.issue("W", "Done", updated=at("2026-10-01"))  # no resolution date: the last update stands in
    p.issue("W", "Done", resolved=at("2026-11-03", 0, 0))  # after today (a replay): not counted
    p.issue("W", "To Do")
    p.save(store)
    assert facts_of(store, "throughput_per_day")["W"]["throughput_per_day"] == pytest.approx(2 / 42, abs=1e-6)


def test_throughput_window_is_a_parameter(store):
    from pmo_gates.rules.facts import FactParams

    p = Portfolio()
    p.project("W")
    p.issue("W", "Done", resolved=at("2026-10-30"))
    p.issue("W", "Done", resolved=at("2026-10-01"))
    p.save(store)
    facts = facts_of(store, "throughput_per_day", params=FactParams(throughput_window_days=7))
    assert facts["W"]["throughput_per_day"] == pytest.approx(1 / 7, abs=1e-6)
