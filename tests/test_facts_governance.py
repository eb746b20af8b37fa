from datetime import date

from tests.fixtures_facts import Portfolio, at, facts_of

LEDGER = (
    "open_corrective_actions",
    "overdue_corrective_actions",
    "corrective_actions_closed_on_time_pct",
    "days_since_last_rca",
)


def test_corrective_action_ledger_and_rca(store):
    p = Portfolio()
    p.project("A")
    p.ticket("A", due=date(2026, 11, 1))  # overdue
    p.ticket("A", due=date(2026, 11, 2))  # due today: not yet overdue
    p.ticket("A")  # no due date: never overdue
    p.ticket("A", "resolved", due=date(2026, 10, 10), resolved_at=at("2026-10-10", 23, 30), kind="rca")  # on time
    p.ticket("A", "resolved", due=date(2026, 10, 10), resolved_at=at("2026-10-11", 0, 30))  # late
    p.ticket("A", "resolved", resolved_at=at("2026-10-11"))  # no due date: not judged
    p.rca("A", at("2026-09-01"))
    p.rca("A", at("2026-10-20"))
    p.project("B")
    p.ticket("B", "resolved", due=date(2026, 10, 10), resolved_at=at("2026-10-01"))
    p.rca("B", at("2026-11-02", 1))
    p.project("C")
    p.save(store)
    facts = facts_of(store, *LEDGER)
    assert facts["A"] == {
        "open_corrective_actions": 3,
        "overdue_corrective_actions": 1,
        "corrective_actions_closed_on_time_pct": 50.0,
        "days_since_last_rca": 13,
    }
    assert facts["B"] == {
        "open_corrective_actions": 0,
        "overdue_corrective_actions": 0,
        "corrective_actions_closed_on_time_pct": 100.0,
        "days_since_last_rca": 0,
    }
    assert facts["C"] == {
        "open_corrective_actions": 0,
        "overdue_corrective_actions": 0,
        "corrective_actions_closed_on_time_pct": None,
        "days_since_last_rca": None,
    }
