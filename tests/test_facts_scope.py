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
