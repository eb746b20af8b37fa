"""Values as people read them in terminals, comments and tickets: no ``5.37e+04``, no Python dicts."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import orjson


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


def _stdlib_default(value: Any) -> str:
    return str(value)


def to_json(data: Any) -> bytes:
    """``data`` as indented JSON (UTF-8 bytes), as ``json.dumps(data, indent=2, default=str)`` would parse:
    what JSON cannot hold (dates, datetimes, sets, objects) becomes its ``str()``, non-string keys their
    text. orjson writes a large review plan in a tenth of the stdlib's time (1.7 s there for 2,000 projects).

    Two differences, both for the better: non-ASCII text is written as UTF-8 instead of ``\\u`` escapes,
    and a NaN or infinite float becomes ``null`` instead of the ``NaN`` that JSON parsers other than
    Python's reject."""
    try:
        return orjson.dumps(
            data,
            default=_stdlib_default,
            # str(), as the stdlib's default=str, not orjson's own RFC 3339/field-by-field forms.
            option=orjson.OPT_INDENT_2
            | orjson.OPT_NON_STR_KEYS
            | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS,
        )
    except orjson.JSONEncodeError:  # beyond orjson's range (an int over 64 bits, nesting over 254 levels)
        return json.dumps(data, indent=2, default=str, ensure_ascii=False).encode()
