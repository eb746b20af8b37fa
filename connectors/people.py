"""Storing the people a sync batch names, and following Data Center renames.

On Data Center a person is stored by login name (what DC's writes take) together with the immutable user
key. A DC admin can rename a login: issues synced since then name the new login, issues not touched since
still name the old one, and DC refuses writes to the old login (``User 'jdoe' does not exist``). Both rows
share the user key, so when a batch brings a person's current login, every other row with that key gets it
as its ``login``: a write to anyone stored under the old name goes to the new one
(``pmo_gates.actions.run.target_of``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.orm import Session

from pmo_gates.store import upsert
from pmo_gates.store.models import Person


def write_people(session: Session, people: Mapping[str, Mapping[str, Any]]) -> None:
    """Upsert ``people`` (rows by ``account_id``) and point older logins of the same DC user key at the
    current login."""
    if not people:
        return
    upsert(session, Person.__table__, list(people.values()), key=["account_id"])
    current = [
        {"k": row["user_key"], "l": row["login"]}
        for row in people.values()
        if row.get("user_key") and row.get("login") and row["login"] == row["account_id"]
    ]
    if current:
        table = Person.__table__
        session.execute(
            table.update()
            .where(table.c.user_key == bindparam("k"), table.c.account_id != bindparam("l"))
            .values(login=bindparam("l")),
            current,
        )
