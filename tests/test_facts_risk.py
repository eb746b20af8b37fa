from tests.fixtures_facts import Portfolio, at, facts_of


def test_risk_register_counts_own_and_linked_open_risks(store):
    p = Portfolio()
    p.project("A", anchor=True)
    p.project("B")
    p.project("RISKS")  # a central risk project
    work = p.issue("A", "In Progress")
    p.issue("A", "To Do", type="Risk")  # A's own open risk
    p.issue("A", "Done", type="Risk", resolved=at("2026-10-01"))  # closed: no longer in the register
    central = p.issue("RISKS", "To Do", type="Risk")
    p.link(central, work, type="Relates")  # linked to A's work issue
    p.link("A-1", central, type="Relates")  # and to A's anchor, other direction: still one risk for A
    b_risk = p.issue("B", "To Do", type="Risk")
    p.link(b_risk, work, type="Blocks")  # B's risk threatens A too
    p.link(p.issue("B", "To Do"), work)  # a plain blocker is no risk
    p.save(store)
    facts = facts_of(store, "risk_register_size", "total_issues")
    assert facts["A"] == {"risk_register_size": 3, "total_issues": 1}
    assert facts["B"]["risk_register_size"] == 1
    assert facts["RISKS"] == {"risk_register_size": 1, "total_issues": 0}
