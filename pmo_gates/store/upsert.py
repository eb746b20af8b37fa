"""Bulk upserts that work on SQLite and PostgreSQL alike (INSERT ... ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# SQLite caps bound parameters per statement (32766 in modern builds); stay well below for wide tables.
_MAX_PARAMS = 30000


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    key: Iterable[str],
    update: Iterable[str] | None = None,
) -> int:
    """Insert ``rows`` or update the existing ones that collide on ``key``; returns rows sent.

    ``update`` names the columns to overwrite on conflict (default: every column but the key).
    """
    if not rows:
        return 0
    key = list(key)
    columns = list(rows[0].keys())
    update = [c for c in (update if update is not None else columns) if c not in key]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    chunk = max(1, _MAX_PARAMS // max(1, len(columns)))
    for start in range(0, len(rows), chunk):
        stmt = insert(table).values(list(rows[start : start + chunk]))
        if update:
            stmt = stmt.on_conflict_do_update(index_elements=key, set_={c: getattr(stmt.excluded, c) for c in update})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=key)
        session.execute(stmt)
    return len(rows)
