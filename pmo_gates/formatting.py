"""Values as people read them in terminals, comments and tickets: no ``5.37e+04``, no Python dicts."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any


def number(value: float | int) -> str:
    """``53,700``, ``12.5``, ``0.85``, ``0.0031``: grouped thousands, at most two decimals below 100
    (four below 0.01), never an exponent."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value) or math.isinf(value):
        return "unknown"
    size = abs(value)
    if size >= 100:
        text = f"{value:,.0f}"
    elif size >= 0.01 or size == 0:
        text = f"{value:,.2f}"
    else:
        text = f"{value:.4f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def plain(value: Any) -> str:
    """Any fact or evidence value as text: numbers by ``number``, ISO dates, lists and mappings spelled out."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {plain(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(plain(v) for v in value) or "(none)"
    return str(value)
