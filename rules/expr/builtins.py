"""The built-in functions of the rule language, registered on the default function registry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sized
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any

from pmo_gates.rules.expr.functions import FunctionSpec
from pmo_gates.rules.expr.functions import function_registry as registry

_ROUNDING = Context(prec=60, rounding=ROUND_HALF_UP)


def _literal_date(args: list[Any]) -> str | None:
    text = args[0] if args else None
    if isinstance(text, str):
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return f"date({text!r}) is not a date: write date('YYYY-MM-DD')"
    return None


def _literal_digits(args: list[Any]) -> str | None:
    if len(args) > 1 and isinstance(args[1], int | float) and not (0 <= args[1] <= 10 and args[1] == int(args[1])):
        return "round() keeps 0 to 10 decimal digits"
    return None


def _coalesce(args: list[str], temp: Callable[[], str]) -> str:
    code = args[-1]
    for arg in reversed(args[:-1]):
        name = temp()
        code = f"({name} if ({name} := {arg}) is not None else {code})"
    return code


def _spec(name: str, args: tuple[str, ...], returns: str, doc: str, **options: Any) -> None:
    registry.add_function(FunctionSpec(name=name, arg_types=args, return_type=returns, doc=doc, **options))


_spec("today", (), "date", "The evaluation date (given by the run, never the wall clock).",
      inline=lambda a, t: "today_")  # fmt: skip
_spec("has", ("any",), "bool", "True when the value is known (not null).", nulls="handled",
      inline=lambda a, t: f"({a[0]} is not None)")  # fmt: skip
_spec("is_null", ("any",), "bool", "True when the value is unknown (null).", nulls="handled",
      inline=lambda a, t: f"({a[0]} is None)")  # fmt: skip
_spec("coalesce", ("T", "T"), "T", "The first argument that is not null: coalesce(spi, 1).",
      variadic=True, nulls="handled", nullable_if_all_null=True, inline=_coalesce)  # fmt: skip
_spec("days", ("number",), "number", "A duration of n days, for readability: today() - days(14).",
      inline=lambda a, t: a[0])  # fmt: skip


@registry.register("date", ["string"], "date", returns_null=True, check_literals=_literal_date)
def date(text: str) -> dt.date | None:
    """The date written 'YYYY-MM-DD'; null when the text is not a date."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


@registry.register("days_between", ["date", "date"], "number")
def days_between(start: dt.date, end: dt.date) -> int:
    """Days from start to end (negative when end is earlier)."""
    return (end - start).days


@registry.register("min", ["number", "number"], "number", variadic=True)
def minimum(*values: float) -> float:
    """The smallest of two or more numbers."""
    return min(values)


@registry.register("max", ["number", "number"], "number", variadic=True)
def maximum(*values: float) -> float:
    """The largest of two or more numbers."""
    return max(values)


@registry.register("abs", ["number"], "number")
def absolute(value: float) -> float:
    """The absolute value."""
    return abs(value)


@registry.register("round", ["number", "number"], "number", min_args=1, check_literals=_literal_digits)
def round_half_up(value: float, digits: float = 0) -> float:
    """Round half away from zero to `digits` decimals (0 to 10, default 0): round(2.5) == 3."""
    places = int(max(0, min(10, digits)))
    if isinstance(value, int) or value != value or value in (float("inf"), float("-inf")):
        return value
    try:
        rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), context=_ROUNDING)
    except InvalidOperation:
        return value
    return int(rounded) if places == 0 else float(rounded)


@registry.register("size", ["list|string"], "number", method=True)
def size(value: Sized) -> int:
    """The number of items of a list, or characters of a string."""
    return len(value)


@registry.register("lower", ["string"], "string", method=True)
def lower(text: str) -> str:
    """The text in lower case."""
    return text.lower()


@registry.register("upper", ["string"], "string", method=True)
def upper(text: str) -> str:
    """The text in upper case."""
    return text.upper()


@registry.register("startsWith", ["string", "string"], "bool", method=True)
def starts_with(text: str, prefix: str) -> bool:
    """True when text starts with prefix: key.startsWith('OPS')."""
    return text.startswith(prefix)


@registry.register("endsWith", ["string", "string"], "bool", method=True)
def ends_with(text: str, suffix: str) -> bool:
    """True when text ends with suffix."""
    return text.endswith(suffix)


@registry.register("contains", ["string", "string"], "bool", method=True)
def contains(text: str, part: str) -> bool:
    """True when part occurs in text (for lists, use `x in list`)."""
    return part in text
