from pmo_gates.rules.facts import FactParams
from tests.fixtures_facts import Portfolio, at, facts_of

PARAMS = FactParams(wip_limit=2, max_projects_per_person=2)
PEOPLE = ("overloaded_assignees", "overloaded_assignee_ids")


def _portfolio() -> Portfolio:
    p = Portfolio()
    for key in ("A", "B", "C", "D"):
        p.project(key)
    for _ in range(3):
        p.issue("A", "In Progress", assignee="u1")  # WIP 3 > 2
    for key in ("A", "B", "C"):
        p.issue(key, "To Do", assignee="u2")  # open work in 3 projects > 2
    p.issue("A", "In Progress", assignee="u3")
    p.issue("A", "In Review", assignee="u3")  # WIP 2: at the limit, not over it
    p.issue("B", "To Do", assignee="u3")  # 2 projects: at the limit
    for _ in range(5):
        p.issue("D", "Done", assignee="u4", resolved=at("2026-10-01"))  # done work is no load
    p.issue("D", "To Do", assignee="u4")
    p.issue("A", "In Progress", type="Risk", assignee="u3")  # risk entries are not work
    return p


def test_overloaded_by_wip_or_spread(store):
    _portfolio().save(store)
    facts = facts_of(store, *PEOPLE, params=PARAMS)
    assert facts["A"] == {"overloaded_assignees": 2, "overloaded_assignee_ids": ["u1", "u2"]}
    assert facts["B"] == {"overloaded_assignees": 1, "overloaded_assignee_ids": ["u2"]}
    assert facts["C"] == {"overloaded_assignees": 1, "overloaded_assignee_ids": ["u2"]}
    assert facts["D"] == {"overloaded_assignees": 0, "overloaded_assignee_ids": []}


def test_load_counts_projects_outside_the_scope(store):
    _portfolio().save(store)
    facts = facts_of(store, *PEOPLE, params=PARAMS, projects=["C"])
    assert list(facts) == ["C"]
    assert facts["C"]["overloaded_assignee_ids"] == ["u2"]


def test_default_thresholds(store):
    p = Portfolio()
    p.project("A")
    for _ in range(6):
        p.issue("A", "In Progress", assignee="busy")
    for _ in range(5):
        p.issue("A", "In Progress", assignee="full")
    p.save(store)
    assert facts_of(store, *PEOPLE)["A"]["overloaded_assignee_ids"] == ["busy"]
