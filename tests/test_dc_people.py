"""Data Center identity in the store: people by login with their immutable user key, and writes that
follow a renamed login (DC refuses the old login and any key: ``User '...' does not exist``)."""

from __future__ import annotations

from types import SimpleNamespace

from pmo_gates.actions.run import target_of
from pmo_gates.connectors.people import write_people
from pmo_gates.store.models import Person


def person(login: str, key: str, name: str = "Jo Doe") -> dict:
    return {"account_id": login, "display_name": name, "active": True, "user_key": key, "login": login}


def test_a_renamed_login_is_written_by_its_new_name(store):
    with store.session() as session:
        write_people(session, {"jdoe": person("jdoe", "JIRAUSER10001"), "ada": person("ada", "JIRAUSER10002")})
    with store.session() as session:  # a later sync: DC renamed jdoe to john.doe (the key stays)
        write_people(session, {"john.doe": person("john.doe", "JIRAUSER10001")})
    with store.session() as session:
        rows = {p.account_id: (p.user_key, p.login) for p in session.query(Person)}
    # Issues not synced since still name "jdoe": that row stays (their assignee_id), pointing at the new login.
    assert rows == {
        "jdoe": ("JIRAUSER10001", "john.doe"),
        "john.doe": ("JIRAUSER10001", "john.doe"),
        "ada": ("JIRAUSER10002", "ada"),
    }
    dc = target_of(SimpleNamespace(flavour="dc"), "wiki", store)
    assert dc.write_id("jdoe") == "john.doe" and dc.user("jdoe") == {"name": "john.doe"}
    assert dc.write_id("JIRAUSER10001") == "john.doe" and dc.write_id("JIRAUSER10002") == "ada"
    assert dc.write_id("ada") == "ada" and dc.write_id("someone-else") == "someone-else"
    cloud = target_of(SimpleNamespace(flavour="cloud"), "wiki", store)
    assert cloud.write_id("JIRAUSER10001") == "JIRAUSER10001" and cloud.user("5b10") == {"accountId": "5b10"}


def test_old_sites_whose_key_is_the_first_login_follow_a_rename_too(store):
    with store.session() as session:
        write_people(session, {"jdoe": person("jdoe", "jdoe")})
    with store.session() as session:
        write_people(session, {"john": person("john", "jdoe")})
    dc = target_of(SimpleNamespace(flavour="dc"), "wiki", store)
    assert dc.write_id("jdoe") == "john" and dc.write_id("john") == "john"


def test_cloud_people_have_no_key_or_login(store):
    with store.session() as session:
        write_people(session, {"5b10": {"account_id": "5b10", "display_name": "Ada", "active": True,
                                        "user_key": None, "login": None}})  # fmt: skip
        (row,) = session.query(Person).all()
        assert (row.user_key, row.login) == (None, None)
    assert target_of(SimpleNamespace(flavour="dc"), "wiki", store).logins == {}
