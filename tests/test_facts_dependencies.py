from pmo_gates.rules.facts import FactParams
from tests.fixtures_facts import Portfolio, at, facts_of

BLOCKERS = ("open_blockers", "cross_project_blockers", "blocked_issue_keys")


def _portfolio() -> Portfolio:
    p = Portfolio()
    p.project("A")
    p.project("B")
    a = [p.issue("A", "In Progress") for _ in range(8)]  # A-1 .. A-8
    b1 = p.issue("B", "To Do")
    b2 = p.issue("B", "Done", resolved=at("2026-10-01"))
    p.link(a[1], a[0])  # A-2 blocks A-1: same project
    p.link(b1, a[0])  # ...and B-1 too: A-1 counts once, and as cross-project
    p.link(b1, a[2])  # B-1 blocks A-3: cross-project
    p.link(b2, a[3])  # a done blocker blocks nothing
    p.link("X-9", a[4], type="blocks")  # a blocker outside the store counts as unresolved; type matches any case
    p.link(a[1], a[5], type="Relates")  # not a blocking link
    done = p.issue("A", "Done", resolved=at("2026-10-02"))
    p.link(b1, done)  # a done issue is not blocked
    p.link(a[6], b1)  # A-7 blocks B-1, which is open: B-1 counts for B
    return p


def test_open_and_cross_project_blockers(store):
    _portfolio().save(store)
    facts = facts_of(store, *BLOCKERS)
    assert facts["A"] == {"open_blockers": 3, "cross_project_blockers": 3, "blocked_issue_keys": ["A-1", "A-3", "A-5"]}
    assert facts["B"] == {"open_blockers": 1, "cross_project_blockers": 1, "blocked_issue_keys": ["B-1"]}


def test_same_project_blocker_is_not_cross_project(store):
    p = Portfolio()
    p.project("S")
    p.project("QUIET")
    p.link(p.issue("S", "In Progress"), p.issue("S", "To Do"))
    p.save(store)
    facts = facts_of(store, *BLOCKERS)
    assert facts["S"] == {"open_blockers": 1, "cross_project_blockers": 0, "blocked_issue_keys": ["S-2"]}
    assert facts["QUIET"] == {"open_blockers": 0, "cross_project_blockers": 0, "blocked_issue_keys": []}


def test_blocking_link_types_are_configurable(store):
    _portfolio().save(store)
    facts = facts_of(store, *BLOCKERS, params=FactParams(blocking_link_types=("Relates",)))
    assert facts["A"]["blocked_issue_keys"] == ["A-6"]
