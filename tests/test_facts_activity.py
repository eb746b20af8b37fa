from datetime import date

from tests.fixtures_facts import Portfolio, at, fact


def test_days_since_status_update(store):
    p = Portfolio()
    p.project("MOVED", anchor=True, anchor_updated=at("2026-10-25"))
    issue = p.issue("MOVED", "In Progress", created=at("2026-10-01"))
    p.move(issue, at("2026-10-30", 23, 50), "To Do", "In Progress")
    p.move(issue, at("2026-11-01"), "a", "b", field="description")  # edits are not status updates
    p.project("REPORTED", anchor=True, anchor_updated=at("2026-10-28"))  # a comment on the anchor
    old = p.issue("REPORTED", "In Progress", created=at("2026-09-01"), updated=at("2026-11-02"))
    p.move(old, at("2026-09-05"), "To Do", "In Progress")
    p.project("SILENT")
    p.issue("SILENT", "To Do", updated=at("2026-11-01"))  # no anchor, no status change
    p.project("NOANCHOR")
    p.move(p.issue("NOANCHOR", "Done", resolved=at("2026-08-01")), at("2026-08-01"), "To Do", "Done")
    p.save(store)
    assert fact(store, "days_since_status_update") == {"MOVED": 3, "REPORTED": 5, "SILENT": None, "NOANCHOR": 93}
    assert fact(store, "days_since_status_update", today=date(2026, 10, 29))["REPORTED"] == 1
