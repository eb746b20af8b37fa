"""Jira's wire formats for time: ``2026-11-02T10:15:30.000+0000`` for instants, ``2026-11-02`` for dates."""

from __future__ import annotations

from datetime import UTC, date, datetime


def format_datetime(value: datetime) -> str:
    """An aware (or UTC-naive) datetime in Jira's format, always in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    # isoformat is C code and much faster than strftime; only the offset's colon differs from Jira's.
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "+0000"


def parse_datetime(text: str) -> datetime:
    """Parse Jira's format (and plain ISO 8601); naive values are taken as UTC. Raises ValueError."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_date(value: date) -> str:
    return value.isoformat()


def parse_date(text: str) -> date:
    """``yyyy-MM-dd`` (a datetime string is cut to its date). Raises ValueError."""
    return date.fromisoformat(text[:10])


def utc_now() -> datetime:
    return datetime.now(UTC)
