from datetime import date

import pytest

from tests.fixtures_facts import Portfolio, at, facts_of

SCOPE = ("scope_growth_pct", "issues_added_since_baseline")


def test_scope_growth_since_the_baseline_day(store):
    p = Portfolio()
    p.project("G", anchor=True, baseline_date=date(2026, 6, 1))
    p.issue("G", created=at("2026-05-01"))
    p.issue("G", created=at("2026-05-20"))
    p.issue("G", created=at("2026-06-01", 23, 30))  # on the baseline day: part of the baseline
    p.issue("G", created=at("2026-06-02", 0, 30))  # the day after: growth
    p.issue("G", "Done", created=at("2026-07-01"), resolved=at("2026-07-03"))  # done or not, it was added
    p.issue("G", type="Risk", created=at("2026-08-01"))  # risks are not scope
    p.save(store)
    assert facts_of(store, *SCOPE)["G"] == {
        "scope_growth_pct": pytest.approx(200 / 3, abs=1e-6),
        "issues_added_since_baseline": 2,
    }


def test_no_baseline_or_nothing_at_the_baseline(store):
    p = Portfolio()
    p.project("NOBASE")
    p.issue("NOBASE", created=at("2026-05-01"))
    p.project("EARLY", baseline_date=date(2026, 1, 1))  # every issue came after the baseline
    p.issue("EARLY", created=at("2026-05-01"))
    p.project("EMPTY", baseline_date=date(2026, 1, 1))
    p.project("FLAT", baseline_date=date(2026, 12, 1))  # baseline in the future: no growth yet
    p.issue("FLAT", created=at("2026-05-01"))
    p.save(store)
    facts = facts_of(store, *SCOPE)
    assert facts["NOBASE"] == {"scope_growth_pct": None, "issues_added_since_baseline": None}
    assert facts["EARLY"] == {"scope_growth_pct": None, "issues_added_since_baseline": 1}
    assert facts["EMPTY"] == {"scope_growth_pct": None, "issues_added_since_baseline": 0}
    assert facts["FLAT"] == {"scope_growth_pct": 0.0, "issues_added_since_baseline": 0}


def test_inferred_baseline_from_phase_change_or_backlog_build_up(store):
    from datetime import timedelta

    from tests.fixtures_facts import TODAY

    p = Portfolio()
    # Entered execution on 2026-08-01 (phase field changelog), backlog written well before.
    p.project("PH", anchor=True, planned_start=date(2026, 6, 1))
    for n in range(10):
        p.issue("PH", created=at(date(2026, 6, 1) + timedelta(days=n)))
    p.issue("PH", created=at("2026-09-01"))
    p.move(p.projects[-1]["anchor_issue_key"], at("2026-08-01"), "Planning", "Execution", field="PMO Phase")
    # Phase entered on the start day, but the backlog was still being written for 25 days after it.
    p.project("LATEBL", anchor=True, planned_start=date(2026, 6, 1))
    for n in range(50):
        p.issue("LATEBL", created=at(date(2026, 6, 1) + timedelta(days=n // 2)))
    p.issue("LATEBL", created=at("2026-09-15"))
    p.move(p.projects[-1]["anchor_issue_key"], at("2026-06-01"), "Planning", "Execution", field="PMO Phase")
    # Work created at a steady pace from day one: no baseline can be told, and none is guessed.
    p.project("STEADY", planned_start=date(2026, 6, 1))
    for n in range(30):
        p.issue("STEADY", created=at(TODAY - timedelta(days=5 * n)))
    p.save(store)
    facts = facts_of(store, "scope_baseline_date", "scope_baseline_source", *SCOPE)
    assert facts["PH"]["scope_baseline_source"] == "phase_change"
    assert facts["PH"]["scope_baseline_date"] == date(2026, 8, 1)
    assert facts["PH"]["issues_added_since_baseline"] == 1
    assert facts["LATEBL"]["scope_baseline_source"] == "backlog_knee"
    assert facts["LATEBL"]["scope_baseline_date"] == date(2026, 6, 25)
    assert facts["LATEBL"]["issues_added_since_baseline"] == 1
    assert facts["STEADY"]["scope_baseline_source"] == "none"
    assert facts["STEADY"]["scope_growth_pct"] is None
