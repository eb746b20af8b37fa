from datetime import date, timedelta

import pytest

from pmo_gates.rules.facts import FactParams
from pmo_gates.rules.facts.builtin.evm import planned_fraction
from tests.fixtures_facts import TODAY, Portfolio, at, facts_of

EVM = ("budget", "pv", "ev", "ac", "actual_cost", "spi", "cpi", "eac", "sv", "cv")


@pytest.mark.parametrize(
    ("start", "end", "fraction"),
    [
        (date(2026, 1, 1), date(2026, 1, 11), 1.0),  # plan over
        (date(2026, 11, 1), date(2026, 11, 5), 0.25),
        (date(2026, 12, 1), date(2026, 12, 31), 0.0),  # not started
        (date(2026, 11, 2), date(2026, 11, 2), 1.0),  # zero-length plan on its day
        (date(2026, 11, 3), date(2026, 11, 3), 0.0),  # zero-length plan tomorrow
        (date(2026, 11, 5), date(2026, 11, 1), None),  # end before start
        (None, date(2026, 11, 5), None),
        (date(2026, 11, 5), None, None),
    ],
)
def test_planned_fraction(start, end, fraction):
    assert planned_fraction(start, end, TODAY) == fraction


def _half_elapsed(p: Portfolio, key: str, **fields) -> None:
    p.project(key, planned_start=TODAY - timedelta(days=50), planned_end=TODAY + timedelta(days=50), **fields)


def test_pmbok_worked_example(store):
    """BAC 100,000; 50% of the plan elapsed; 40% earned; AC 45,000."""
    p = Portfolio()
    _half_elapsed(p, "PMB", budget=100_000.0, actual_cost=45_000.0)
    p.issue("PMB", "Done", points=40.0, resolved=at("2026-10-01"))
    p.issue("PMB", "In Progress", points=60.0)
    p.save(store)
    facts = facts_of(store, *EVM)["PMB"]
    assert facts["budget"] == 100_000.0
    assert facts["pv"] == pytest.approx(50_000.0)
    assert facts["ev"] == pytest.approx(40_000.0)
    assert facts["ac"] == facts["actual_cost"] == 45_000.0
    assert facts["spi"] == pytest.approx(0.8)
    assert facts["cpi"] == pytest.approx(0.888889, abs=1e-6)
    assert facts["eac"] == pytest.approx(112_500.0, abs=0.01)
    assert facts["sv"] == pytest.approx(-10_000.0)
    assert facts["cv"] == pytest.approx(-5_000.0)


def test_second_worked_example_ahead_and_under_budget(store):
    """BAC 200,000; 25% elapsed; 30% earned by points; AC 50,000: SPI 1.2, CPI 1.2, EAC 166,666.67."""
    p = Portfolio()
    p.project(
        "AHD",
        budget=200_000.0,
        actual_cost=50_000.0,
        planned_start=TODAY - timedelta(days=25),
        planned_end=TODAY + timedelta(days=75),
    )
    p.issue("AHD", "Done", points=3.0, resolved=at("2026-10-01"))
    p.issue("AHD", "To Do", points=7.0)
    p.save(store)
    facts = facts_of(store, *EVM)["AHD"]
    assert (facts["pv"], facts["ev"]) == (pytest.approx(50_000.0), pytest.approx(60_000.0))
    assert (facts["spi"], facts["cpi"]) == (pytest.approx(1.2), pytest.approx(1.2))
    assert facts["eac"] == pytest.approx(166_666.666667, abs=0.01)


def test_actual_cost_from_logged_time(store):
    p = Portfolio()
    _half_elapsed(p, "WL", budget=10_000.0, hourly_rate=100.0)
    issue = p.issue("WL", "Done", resolved=at("2026-10-01"), time_spent_s=999_999)  # worklogs win
    p.worklog(issue, 3 * 3600)
    p.worklog(p.issue("WL", "To Do"), 2 * 3600)
    _half_elapsed(p, "TS", budget=10_000.0, hourly_rate=50.0)  # no worklogs synced: Jira's time spent
    p.issue("TS", "Done", resolved=at("2026-10-01"), time_spent_s=4 * 3600)
    p.issue("TS", "To Do", time_spent_s=None)
    _half_elapsed(p, "DEF", budget=10_000.0)  # no project rate: the default rate, if configured
    p.worklog(p.issue("DEF", "To Do"), 3600)
    _half_elapsed(p, "MAP", budget=10_000.0, actual_cost=777.0, hourly_rate=100.0)  # the mapped field wins
    p.worklog(p.issue("MAP", "To Do"), 3600)
    _half_elapsed(p, "NOT", budget=10_000.0, hourly_rate=100.0)  # no time logged at all: unknown
    p.issue("NOT", "To Do")
    p.save(store)

    facts = facts_of(store, "ac", "cpi", "eac")
    assert facts["WL"]["ac"] == 500.0
    assert facts["WL"]["cpi"] == pytest.approx(5_000.0 / 500.0)
    assert facts["TS"]["ac"] == 200.0
    assert facts["DEF"]["ac"] is None
    assert facts["MAP"]["ac"] == 777.0
    assert facts["NOT"]["ac"] is None
    assert facts["NOT"]["cpi"] is None and facts["NOT"]["eac"] is None
    with_default = facts_of(store, "ac", params=FactParams(default_hourly_rate=80.0))
    assert with_default["DEF"]["ac"] == 80.0
    assert with_default["WL"]["ac"] == 500.0  # the project's own rate still wins


def test_division_by_zero_and_missing_inputs(store):
    p = Portfolio()
    _half_elapsed(p, "ZERO", budget=0.0, actual_cost=1_000.0)  # zero budget: PV and EV 0
    p.issue("ZERO", "Done", resolved=at("2026-10-01"))
    p.issue("ZERO", "To Do")
    _half_elapsed(p, "NOAC", budget=1_000.0, actual_cost=0.0)  # nothing spent: CPI unknown
    p.issue("NOAC", "Done", resolved=at("2026-10-01"))
    _half_elapsed(p, "NOEV", budget=1_000.0, actual_cost=500.0)  # nothing earned: CPI 0, EAC unknown
    p.issue("NOEV", "To Do")
    p.project("NOTYET", budget=1_000.0, planned_start=date(2026, 12, 1), planned_end=date(2027, 1, 1))
    p.issue("NOTYET", "Done", resolved=at("2026-10-01"))  # early work before the planned start: PV 0
    _half_elapsed(p, "NOISS", budget=1_000.0)  # no work issues: nothing to earn from
    p.project("NOBUD", actual_cost=300.0, planned_start=date(2026, 1, 1), planned_end=date(2026, 12, 31))
    p.issue("NOBUD", "Done", resolved=at("2026-10-01"))
    p.save(store)
    facts = facts_of(store, *EVM)

    zero = facts["ZERO"]
    assert (zero["pv"], zero["ev"], zero["spi"], zero["cpi"], zero["eac"]) == (0.0, 0.0, None, 0.0, None)
    assert (facts["NOAC"]["cpi"], facts["NOAC"]["eac"], facts["NOAC"]["cv"]) == (None, None, 1_000.0)
    assert (facts["NOEV"]["ev"], facts["NOEV"]["cpi"], facts["NOEV"]["eac"]) == (0.0, 0.0, None)
    assert (facts["NOTYET"]["pv"], facts["NOTYET"]["spi"], facts["NOTYET"]["ev"]) == (0.0, None, 1_000.0)
    assert (facts["NOISS"]["pv"], facts["NOISS"]["ev"], facts["NOISS"]["spi"]) == (500.0, None, None)
    nobud = facts["NOBUD"]
    assert nobud["ac"] == 300.0
    assert all(nobud[name] is None for name in ("budget", "pv", "ev", "spi", "cpi", "eac", "sv", "cv"))


def test_earned_value_by_issues_when_nothing_is_estimated(store):
    p = Portfolio()
    _half_elapsed(p, "ISS", budget=1_000.0)
    p.issue("ISS", "Done", resolved=at("2026-10-01"))
    p.issue("ISS", "To Do")
    p.issue("ISS", "To Do")
    p.issue("ISS", "To Do")
    p.save(store)
    assert facts_of(store, "ev")["ISS"]["ev"] == 250.0


def test_pmbok_etc_and_vac(store):
    """PMBOK: BAC 100,000, PV 50,000, EV 40,000, AC 45,000 -> EAC 112,500, ETC 67,500, VAC -12,500."""
    p = Portfolio()
    _half_elapsed(p, "PMB", budget=100_000.0, actual_cost=45_000.0)
    p.issue("PMB", "Done", points=40.0, resolved=at("2026-10-01"))
    p.issue("PMB", "In Progress", points=60.0)
    p.save(store)
    facts = facts_of(store, "spi", "cpi", "eac", "etc", "vac")["PMB"]
    assert round(facts["spi"], 2) == 0.80 and round(facts["cpi"], 3) == 0.889
    assert facts["eac"] == pytest.approx(112_500.0, abs=0.01)
    assert facts["etc"] == pytest.approx(67_500.0, abs=0.01)
    assert facts["vac"] == pytest.approx(-12_500.0, abs=0.01)


def test_scope_added_mid_project_does_not_lower_earned_value(store):
    """40 of 100 baseline points done; 50 points of new To Do work added after the baseline: EV stays
    40,000 (it was 26,667 when EV was measured against all points now), the added work is reported apart."""
    p = Portfolio()
    _half_elapsed(p, "ADD", budget=100_000.0, actual_cost=45_000.0, baseline_date=TODAY - timedelta(days=45))
    p.issue("ADD", "Done", points=40.0, created=at("2026-09-10"), resolved=at("2026-10-01"))
    p.issue("ADD", "In Progress", points=60.0, created=at("2026-09-10"))
    p.issue("ADD", "To Do", points=50.0, created=at("2026-10-20"))
    p.issue("ADD", "Done", points=10.0, created=at("2026-10-20"), resolved=at("2026-10-25"))
    p.save(store)
    facts = facts_of(store, "ev", "cpi", "spi", "added_scope_value", "scope_growth_pct")["ADD"]
    assert facts["ev"] == pytest.approx(40_000.0)
    assert facts["spi"] == pytest.approx(0.8) and facts["cpi"] == pytest.approx(40_000 / 45_000)
    assert facts["added_scope_value"] == pytest.approx(10_000.0)
    assert facts["scope_growth_pct"] == pytest.approx(100.0)


def test_earned_value_uses_the_inferred_baseline_without_a_baseline_date(store):
    """No baseline date: the backlog written over the first weeks is the baseline, later work is added."""
    p = Portfolio()
    _half_elapsed(p, "INF", budget=1_000.0)
    for n in range(20):  # the backlog, written over the 20 days after the planned start
        done = n < 10
        resolved = at("2026-10-01") if done else None
        p.issue("INF", "Done" if done else "To Do", created=at(TODAY - timedelta(days=50 - n)), resolved=resolved)
    for n in range(4):  # added later, slowly
        p.issue("INF", "To Do", created=at(TODAY - timedelta(days=20 - 5 * n)))
    p.save(store)
    facts = facts_of(store, "ev", "scope_baseline_source", "scope_baseline_date", "issues_added_since_baseline")
    assert facts["INF"]["scope_baseline_source"] == "backlog_knee"
    assert facts["INF"]["scope_baseline_date"] == TODAY - timedelta(days=31)
    assert facts["INF"]["issues_added_since_baseline"] == 4
    assert facts["INF"]["ev"] == pytest.approx(500.0)  # 10 of the 20 baseline items
