"""Report windows in UTC calendar days, matching how the facts count days (docs/facts.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta


def end_of_day(today: date) -> datetime:
    """The first instant after ``today`` (UTC): a replay pinned to ``today`` sees nothing later."""
    return datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)


def window_start(today: date, days: int) -> datetime:
    """The first instant of the ``days`` calendar days ending with ``today``, so a timestamp is inside the
    window exactly when it is fewer than ``days`` days old by the calendar."""
    return end_of_day(today) - timedelta(days=days)


def first_month(today: date, months: int) -> date:
    """The first day of the month ``months - 1`` months before ``today``'s (``months`` months in all)."""
    index = today.year * 12 + today.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)
