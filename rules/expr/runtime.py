"""Helpers the generated code calls for operations that are clearer as functions than inline code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


def add_days(day: dt.date, count: float) -> dt.date | None:
    """``day`` plus ``count`` whole days (a fraction is truncated toward zero)."""
    try:
        return day + dt.timedelta(days=int(count))
    except (OverflowError, ValueError):
        return None  # beyond year 1..9999 (or NaN days): unknown rather than a crash


def day_diff(end: dt.date, start: dt.date) -> int:
    return (end - start).days


def list_eq(left: Sequence[object], right: Sequence[object]) -> bool:
    return len(left) == len(right) and all(a == b for a, b in zip(left, right, strict=True))


HELPERS = {"h_add_days": add_days, "h_day_diff": day_diff, "h_list_eq": list_eq}
