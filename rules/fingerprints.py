"""Stable identities of findings: how later runs find the ticket an earlier run opened."""

from __future__ import annotations

import datetime as dt
import hashlib

from pmo_gates.rules.models import Recurrence


def period_of(recurrence: Recurrence, today: dt.date) -> str | None:
    """The period a recurring obligation falls in: '2026-11' monthly, '2026-W47' weekly (ISO weeks)."""
    if recurrence is Recurrence.MONTHLY:
        return f"{today.year:04d}-{today.month:02d}"
    if recurrence is Recurrence.WEEKLY:
        year, week, _ = today.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return None


def fingerprint(rule_id: str, project_key: str, period: str | None = None) -> str:
    """32 hex characters of sha256 over rule id, project key and period (unit-separator joined)."""
    text = "\x1f".join((rule_id, project_key, period or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
