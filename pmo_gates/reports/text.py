"""Small formatting helpers the sections share, so numbers read the same in every summary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def number(value: float | None, digits: int = 0) -> str:
    """``3000.0`` -> ``3,000``; None -> ``n/a``."""
    return "n/a" if value is None else f"{value:,.{digits}f}"


def pct(value: float | None) -> str:
    """A percentage without needless decimals: 60.0 -> ``60%``, 66.7 -> ``66.7%``."""
    return "n/a" if value is None else f"{value:g}%"


def listing(items: Sequence[str], limit: int = 10) -> str:
    """``A, B, C`` or ``A, B, ... (12 more)`` for long lists."""
    if len(items) <= limit:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} ... ({len(items) - limit:,} more)"


def iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def rounded(value: float | None, digits: int) -> float | None:
    return round(float(value), digits) if value is not None else None


def share_pct(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent with one decimal, None when there is nothing to measure."""
    return round(100.0 * part / whole, 1) if whole else None
