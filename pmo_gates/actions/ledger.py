"""The corrective-action ledger: one row per fingerprint in ``action_tickets``, mirrored on the ticket.

The ticket carries its own identity, so the database is a cache of Jira, not the only memory:

- a label ``pmo-fp-<fingerprint>`` (plus ``actions.label``, default ``pmo-gates``) set **in the create
  payload itself**, so no ticket ever exists without it and ``labels = "pmo-fp-..."`` finds it;
- an entity property ``pmo-gates`` holding the ledger row (content hash, due date, escalation level...),
  readable through the search ``properties`` parameter (JQL cannot query it without an app; labels can).

``adopt_remote`` writes what Jira holds into an empty or stale ledger, which is how a lost database or a
crash between Jira's create and our commit ends in zero duplicates (once search shows the ticket: until
then the create intent of :mod:`pmo_gates.actions.intents` holds the fingerprint back).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmo_gates.actions import intents
from pmo_gates.actions.plan import CommentRecord, LedgerRecord
from pmo_gates.store.models import ActionTicket, PostedComment

FP_LABEL_PREFIX = "pmo-fp-"
PROPERTY_KEY = "pmo-gates"
PROPERTY_VERSION = 1


def fingerprint_label(fingerprint: str) -> str:
    """The Jira label that identifies the ticket of ``fingerprint`` (fingerprints are label-safe)."""
    return f"{FP_LABEL_PREFIX}{fingerprint}"


def fingerprint_of_labels(labels: Iterable[str]) -> list[str]:
    return [label[len(FP_LABEL_PREFIX) :] for label in labels if label.startswith(FP_LABEL_PREFIX)]


def content_hash(value: Any) -> str:
    """sha256 of canonical JSON: equal content, equal hash, whatever the key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_tickets(session: Session, fingerprints: Iterable[str] | None = None) -> dict[str, ActionTicket]:
    query = select(ActionTicket)
    if fingerprints is not None:
        wanted = list(set(fingerprints))
        rows: dict[str, ActionTicket] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows.update({r.fingerprint: r for r in session.scalars(query.where(ActionTicket.fingerprint.in_(chunk)))})
        return rows
    return {row.fingerprint: row for row in session.scalars(query)}


def load_comments(session: Session) -> dict[tuple[str, str], PostedComment]:
    return {(row.issue_key, row.purpose): row for row in session.scalars(select(PostedComment))}


def property_value(row: ActionTicket) -> dict[str, Any]:
    """The entity property mirroring a ledger row (never anything secret: ids, hashes, dates)."""
    return {
        "v": PROPERTY_VERSION,
        "fingerprint": row.fingerprint,
        "kind": row.kind,
        "rule_id": row.rule_id,
        "project_key": row.project_key,
        "period": row.period,
        "state": row.state,
        "content_hash": row.content_hash,
        "due_date": row.due_date.isoformat() if row.due_date else None,
        "escalation_level": row.escalation_level,
        "reopen_count": row.reopen_count,
    }


def property_for_record(record: LedgerRecord) -> dict[str, Any]:
    """The property value of a ticket about to be created (before any row exists)."""
    return {
        "v": PROPERTY_VERSION,
        "fingerprint": record.fingerprint,
        "kind": record.kind,
        "rule_id": record.rule_id,
        "project_key": record.project_key,
        "period": record.period,
        "state": record.state,
        "content_hash": record.content_hash,
        "due_date": record.due_date.isoformat() if record.due_date else None,
        "escalation_level": record.escalation_level or 0,
        "reopen_count": record.reopen_count or 0,
    }


def apply_record(
    session: Session,
    record: LedgerRecord,
    now: datetime,
    *,
    ticket_key: str | None = None,
    ticket_id: str | None = None,
) -> ActionTicket:
    """Insert or update the row of ``record.fingerprint`` with the fields the record sets."""
    row = session.get(ActionTicket, record.fingerprint, with_for_update=session.bind.dialect.name == "postgresql")
    if row is None:
        row = ActionTicket(
            fingerprint=record.fingerprint,
            kind=record.kind,
            rule_id=record.rule_id,
            project_key=record.project_key,
            period=record.period,
            state=record.state or "open",
            summary=record.summary or "",
            escalation_level=0,
            reopen_count=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    if ticket_key:
        row.ticket_key = ticket_key
    if ticket_id:
        row.ticket_id = ticket_id
    for name in ("state", "summary", "content_hash", "due_date", "escalation_level", "reopen_count"):
        value = getattr(record, name)
        if value is not None:
            setattr(row, name, value)
    if record.state == "resolved":
        row.resolved_at = now
    elif record.state == "open":
        row.resolved_at = None
    row.updated_at = now
    session.flush()
    return row


def apply_comment_record(session: Session, record: CommentRecord, comment_id: str, now: datetime) -> None:
    row = session.get(PostedComment, (record.issue_key, record.purpose))
    if row is None:
        session.add(
            PostedComment(
                issue_key=record.issue_key,
                purpose=record.purpose,
                comment_id=comment_id,
                content_hash=record.content_hash,
                updated_at=now,
            )
        )
    else:
        row.comment_id = comment_id
        row.content_hash = record.content_hash
        row.updated_at = now
    session.flush()


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def adopt_remote(session: Session, state: Any, now: datetime) -> dict[str, int]:
    """Bring the ledger in line with what Jira holds (``state`` is a ``JiraState``).

    - a ticket Jira has but the ledger lacks (fresh database, crash after create) becomes a row, its
      content hash and escalation level read from the entity property;
    - a row whose ticket key differs from Jira's (ticket moved to another project) takes Jira's key;
    - a kept-in-place comment Jira has but ``posted_comments`` lacks becomes a row.
    Returns counts of adopted tickets and comments.
    """
    rows = load_tickets(session, state.tickets.keys())
    adopted = 0
    for fingerprint, remote in state.tickets.items():
        meta = remote.metadata or {}
        row = rows.get(fingerprint)
        if row is not None and row.ticket_key == remote.key:
            continue
        if row is None:
            done = remote.status_category == "done"
            row = ActionTicket(
                fingerprint=fingerprint,
                kind=str(meta.get("kind") or "finding"),
                rule_id=str(meta.get("rule_id") or "unknown"),
                project_key=str(meta.get("project_key") or remote.project_key),
                period=meta.get("period"),
                state="resolved" if done else str(meta.get("state") or "open"),
                summary=remote.summary,
                content_hash=meta.get("content_hash"),
                due_date=_date(meta.get("due_date")) or remote.due_date,
                escalation_level=int(meta.get("escalation_level") or 0),
                reopen_count=int(meta.get("reopen_count") or 0),
                created_at=now,
                updated_at=now,
                resolved_at=now if done else None,
            )
            session.add(row)
        row.ticket_key = remote.key
        row.ticket_id = remote.id
        adopted += 1
    comments = load_comments(session)
    adopted_comments = 0
    for remote_comment in state.comments:
        if (remote_comment.issue_key, remote_comment.purpose) in comments:
            continue
        session.add(
            PostedComment(
                issue_key=remote_comment.issue_key,
                purpose=remote_comment.purpose,
                comment_id=remote_comment.comment_id,
                content_hash=remote_comment.content_hash,
                updated_at=now,
            )
        )
        adopted_comments += 1
    # Found by search, so recorded: an intent left by an unrecorded create of these is settled.
    intents.clear(session, state.tickets.keys())
    session.flush()
    return {"tickets": adopted, "comments": adopted_comments}
