import pytest

from pmo_gates.rules.facts import FactContext, FactParams
from pmo_gates.rules.facts.builtin.flow import Flow, StatusTime, status_times
from tests.fixtures_facts import TODAY, Portfolio, at, facts_of

FLOW = (
    "bottleneck_status",
    "bottleneck_days",
    "bottleneck_max_days",
    "max_days_in_status",
    "stale_issues",
    "reopened_issues",
    "reopen_rate",
)


def _portfolio() -> Portfolio:
    p = Portfolio()
    p.project("F")
    # F-1: To Do 10 days, In Progress 20, Done, reopened: In Progress 5 more, Done again.
    one = p.issue("F", "Done", created=at("2026-01-01"), resolved=at("2026-02-05"))
    p.move(one, at("2026-01-11"), "To Do", "In Progress")
    p.move(one, at("2026-01-31"), "In Progress", "Done")
    p.move(one, at("2026-01-31", 18), "Done", "In Progress")  # 0.25 days in Done: done time is not counted
    p.move(one, at("2026-02-05", 18), "In Progress", "Done")
    p.move(one, at("2026-01-15"), "Alice", "Bob", field="assignee")  # not a status change
    # F-2: To Do 2 days, In Review since 2026-10-01 12:00 (32.5 days to the end of today), still open.
    two = p.issue("F", "In Review", created=at("2026-09-29"))
    p.move(two, at("2026-10-01"), "To Do", "In Review")
    # F-3: never moved, open since 2026-10-30 12:00: 3.5 days in To Do.
    p.issue("F", "To Do", created=at("2026-10-30"))
    # F-4: To Do 4 days, then Closed (a done status, since an issue is Closed now).
    four = p.issue("F", "Closed", created=at("2026-03-01"), resolved=at("2026-03-05"))
    p.move(four, at("2026-03-05"), "To Do", "Closed")
    p.project("DONE")
    p.issue("DONE", "Done", created=at("2026-03-01"), resolved=at("2026-03-01"))  # created done, never moved
    p.project("EMPTY")
    return p


def test_time_in_status_bottleneck_stale_and_reopen(store):
    _portfolio().save(store)
    facts = facts_of(store, *FLOW)
    # In Progress: F-1 only, 20 + 5 days. In Review: F-2, 32.5 days. To Do: F-1 10, F-2 2, F-3 3.5, F-4 4.
    assert facts["F"] == {
        "bottleneck_status": "In Review",
        "bottleneck_days": 32.5,
        "bottleneck_max_days": 32.5,
        "max_days_in_status": 32.5,
        "stale_issues": 1,
        "reopened_issues": 1,
        "reopen_rate": 0.5,  # F-1 of the two ever done (F-1, F-4)
    }
    assert facts["DONE"] == {
        "bottleneck_status": None,
        "bottleneck_days": None,
        "bottleneck_max_days": None,
        "max_days_in_status": None,
        "stale_issues": 0,
        "reopened_issues": 0,
        "reopen_rate": 0.0,
    }
    assert facts["EMPTY"] == {
        "bottleneck_status": None,
        "bottleneck_days": None,
        "bottleneck_max_days": None,
        "max_days_in_status": None,
        "stale_issues": 0,
        "reopened_issues": 0,
        "reopen_rate": None,
    }


def test_status_table_behind_the_bottleneck(store):
    _portfolio().save(store)
    with store.session() as session:
        ctx = FactContext(session=session, projects=("F",), today=TODAY)
        table = status_times(ctx)["F"]
    assert table["To Do"] == StatusTime("To Do", median_days=pytest.approx(3.75), max_days=10.0, issues=4)
    assert table["In Progress"] == StatusTime("In Progress", median_days=25.0, max_days=25.0, issues=1)
    assert set(table) == {"To Do", "In Progress", "In Review"}


def test_stale_threshold_is_a_parameter(store):
    _portfolio().save(store)
    facts = facts_of(store, "stale_issues", params=FactParams(stale_status_days=3))
    assert facts["F"]["stale_issues"] == 2  # F-2 (32.5 days) and F-3 (3.5 days)


def test_ties_go_to_the_longer_maximum(store):
    p = Portfolio()
    p.project("T")
    for created, moved in (("2026-10-01", "2026-10-03"), ("2026-10-01", "2026-10-05")):
        issue = p.issue("T", "Done", created=at(created), resolved=at(moved))
        p.move(issue, at(moved), "Backlog", "Done")
    for created, moved in (("2026-10-01", "2026-10-04"), ("2026-10-01", "2026-10-04")):
        issue = p.issue("T", "Done", created=at(created), resolved=at(moved))
        p.move(issue, at(moved), "To Do", "Done")
    p.save(store)
    facts = facts_of(store, "bottleneck_status", "bottleneck_days", "bottleneck_max_days")["T"]
    assert facts == {"bottleneck_status": "Backlog", "bottleneck_days": 3.0, "bottleneck_max_days": 4.0}


def test_bottleneck_ties_are_broken_the_same_way_on_every_store():
    """SQLite and PostgreSQL compute durations that differ in the last bits; a tie must not flip."""

    def flow(review: float, qa: float) -> Flow:
        statuses = {
            "In Review": StatusTime("In Review", review, 4.0, 3),
            "QA": StatusTime("QA", qa, 4.0, 3),
        }
        return Flow(statuses, ever_done=0, reopened=0, stale=0, max_current_days=None)

    assert flow(3.0, 3.0 + 1e-10).bottleneck.status == flow(3.0 + 1e-10, 3.0).bottleneck.status == "QA"
    assert flow(3.0, 3.1).bottleneck.status == "QA"
