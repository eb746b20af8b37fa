"""Create intents: the store's memory of ticket creates that Jira may have carried out unseen.

Jira Cloud's JQL search trails its writes (seconds, sometimes minutes), so "search by fingerprint label,
create what is missing" is only safe once every earlier create of those fingerprints is old enough to be
searchable. Before each ``POST /issue/bulk`` its fingerprints are written here and *committed*; the
transaction that records a created (or adopted) key deletes the row. A row that survives means a crash or
a lost answer: Jira may hold a ticket search cannot show yet. Until ``jira.search_lag_seconds`` have
passed since the send (or since the client stopped waiting for the answer, whichever is later), that
fingerprint is *deferred*: no search is trusted and nothing is written. After that it is searched for,
adopted if found and created only if still absent.

The rows live in the shared store, so every worker sees them; the portfolio lock (``locking.py``) keeps two
workers from sending creates at the same time, and a worker killed mid-send leaves its rows for the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pmo_gates.store.models import CreateIntent


def aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def load(session: Session, fingerprints: Iterable[str]) -> dict[str, CreateIntent]:
    wanted = sorted(set(fingerprints))
    rows: dict[str, CreateIntent] = {}
    for start in range(0, len(wanted), 500):
        query = select(CreateIntent).where(CreateIntent.fingerprint.in_(wanted[start : start + 500]))
        rows.update({row.fingerprint: row for row in session.scalars(query)})
    for row in rows.values():
        session.expunge(row)
    return rows


def searchable_after(intent: CreateIntent, lag_seconds: float) -> datetime:
    """When an empty search for this fingerprint starts to mean that Jira has no ticket for it."""
    last = aware(intent.sent_at)
    if intent.gave_up_at is not None:
        last = max(last, aware(intent.gave_up_at))
    return last + timedelta(seconds=lag_seconds)


def record_sent(session: Session, pairs: Iterable[tuple[str, str]], now: datetime) -> None:
    """Mark ``(fingerprint, project_key)`` pairs as being sent now (a resend restarts the allowance)."""
    for fingerprint, project_key in pairs:
        row = session.get(CreateIntent, fingerprint)
        if row is None:
            session.add(CreateIntent(fingerprint=fingerprint, project_key=project_key, sent_at=now, attempts=1))
        else:
            row.project_key, row.sent_at, row.gave_up_at = project_key, now, None
            row.attempts = (row.attempts or 0) + 1
    session.flush()


def record_gave_up(session: Session, fingerprints: Iterable[str], now: datetime) -> None:
    """The client stopped waiting for the answer at ``now``: Jira may still act after it."""
    for fingerprint in fingerprints:
        row = session.get(CreateIntent, fingerprint)
        if row is not None:
            row.gave_up_at = now
    session.flush()


def clear(session: Session, fingerprints: Iterable[str]) -> None:
    """Nothing is in doubt for these any more: the ledger holds their key, or Jira refused the create."""
    wanted = sorted(set(fingerprints))
    for start in range(0, len(wanted), 500):
        session.execute(delete(CreateIntent).where(CreateIntent.fingerprint.in_(wanted[start : start + 500])))
