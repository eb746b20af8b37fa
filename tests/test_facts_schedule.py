from datetime import date

from pmo_gates.rules.facts import FactParams
from tests.fixtures_facts import Portfolio, at, facts_of

SCHEDULE = ("actual_end", "forecast_end", "schedule_slip_days")


def test_forecast_from_recent_throughput_and_slip(store):
    p = Portfolio()
    p.project("LATE", phase="Execution", planned_end=date(2026, 12, 1))
    for day in ("2026-10-10", "2026-10-25"):
        p.issue("LATE", "Done", resolved=at(day), points=3)
    p.issue("LATE", "In Progress", points=5)
    p.issue("LATE", "To Do", points=5)
    p.save(store)
    # 2 open issues at 2 per 42 days: 42 days from today.
    assert facts_of(store, *SCHEDULE)["LATE"] == {
        "actual_end": None,
        "forecast_end": date(2026, 12, 14),
        "schedule_slip_days": 13,
    }
    # By points: 10 open points at 6 per 42 days: 70 days.
    by_points = facts_of(store, *SCHEDULE, params=FactParams(forecast_basis="points"))["LATE"]
    assert by_points["forecast_end"] == date(2027, 1, 11)
    assert by_points["schedule_slip_days"] == 41


def test_points_basis_falls_back_to_issues_without_resolved_points(store):
    p = Portfolio()
    p.project("P", planned_end=date(2026, 12, 31))
    p.issue("P", "Done", resolved=at("2026-10-25"))
    p.issue("P", "To Do", points=8)
    p.save(store)
    facts = facts_of(store, "forecast_end", params=FactParams(forecast_basis="points"))
    assert facts["P"]["forecast_end"] == date(2026, 12, 14)


def test_no_throughput(store):
    p = Portfolio()
    p.project("PAST", planned_end=date(2026, 10, 1))  # past its planned end, nothing moving
    p.issue("PAST", "In Progress")
    p.project("AHEAD", planned_end=date(2027, 3, 1))
    p.issue("AHEAD", "To Do")
    p.project("NODATE")
    p.issue("NODATE", "To Do")
    p.issue("NODATE", "Done", resolved=at("2026-10-30"))
    p.project("EMPTY", planned_end=date(2026, 10, 1))
    p.save(store)
    facts = facts_of(store, *SCHEDULE)
    # No pace to forecast from, but at least 32 days late already.
    assert facts["PAST"] == {"actual_end": None, "forecast_end": None, "schedule_slip_days": 32}
    assert facts["AHEAD"] == {"actual_end": None, "forecast_end": None, "schedule_slip_days": None}
    assert facts["NODATE"] == {"actual_end": None, "forecast_end": date(2026, 12, 14), "schedule_slip_days": None}
    assert facts["EMPTY"] == {"actual_end": None, "forecast_end": None, "schedule_slip_days": None}


def test_closed_and_finished_projects_use_the_actual_end(store):
    p = Portfolio()
    p.project("CLOSED", phase="Closed", planned_end=date(2026, 7, 31))
    p.issue("CLOSED", "Done", resolved=at("2026-08-10"))
    p.issue("CLOSED", "Done", resolved=at("2026-07-01"))
    p.issue("CLOSED", "To Do")  # left open when the project was closed: no longer forecast
    p.project("FINISHED", phase="Execution", planned_end=date(2026, 9, 30))
    p.issue("FINISHED", "Done", resolved=at("2026-09-20"))
    p.save(store)
    facts = facts_of(store, *SCHEDULE)
    assert facts["CLOSED"] == {
        "actual_end": date(2026, 8, 10),
        "forecast_end": date(2026, 8, 10),
        "schedule_slip_days": 10,
    }
    assert facts["FINISHED"] == {
        "actual_end": date(2026, 9, 20),
        "forecast_end": date(2026, 9, 20),
        "schedule_slip_days": -10,
    }
