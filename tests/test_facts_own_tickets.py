"""Our own corrective-action tickets are never project work, whether or not the ledger knows them yet: on
a fresh store (before the run adopts them) they are recognised by their ``pmo-fp-`` label."""

from __future__ import annotations

from datetime import date

from pmo_gates.actions.ledger import fingerprint_label
from tests.fixtures_facts import Portfolio, at, facts_of

FACTS = ("issues_added_since_baseline", "total_issues", "open_issues")


def _portfolio(own_labels: list[str]) -> Portfolio:
    p = Portfolio()
    p.project("G", anchor=True, baseline_date=date(2026, 6, 1))
    p.issue("G", created=at("2026-05-01"))
    p.issue("G", "Done", created=at("2026-05-02"), resolved=at("2026-05-10"))
    p.issue("G", created=at("2026-07-01"))  # real growth
    ours = p.issue("G", created=at("2026-10-01"))  # a ticket we opened: not in the ledger (fresh store)
    for row in p.issues:
        if row["key"] == ours:
            row["labels"] = own_labels
    return p


def test_our_labelled_tickets_are_not_work_on_a_fresh_store(store):
    _portfolio(["pmo-gates", fingerprint_label("charter-approved:G"), "team-x"]).save(store)
    facts = facts_of(store, *FACTS)["G"]
    assert facts["issues_added_since_baseline"] == 1
    assert facts["total_issues"] == 3 and facts["open_issues"] == 2


def test_a_custom_actions_label_still_leaves_the_fingerprint_label(store):
    # actions.label may be renamed; every ticket we create still carries its pmo-fp- label.
    _portfolio(["pmo-bot", fingerprint_label("rca-7")]).save(store)
    assert facts_of(store, *FACTS)["G"]["total_issues"] == 3


def test_look_alike_labels_are_ordinary_work(store):
    # LIKE wildcards (_ and %) and other prefixes must not match: these are people's labels.
    _portfolio(["pmo_fp_x", "my-pmo-fp-y", "pmo-fp%"]).save(store)
    assert facts_of(store, *FACTS)["G"]["total_issues"] == 4
