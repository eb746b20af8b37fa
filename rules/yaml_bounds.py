"""Bounds on the YAML we read (rule files, playbooks, config), checked before anything is built from it.

A few hundred bytes of YAML can otherwise expand into gigabytes (aliases of aliases: "billion laughs"),
loop forever (an alias inside its own anchor), or nest deeper than the interpreter's stack. The checks
run on the parser's event stream, which is flat and cheap, so the file is refused before a single value
exists; every refusal names its ``line:col``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

MAX_FILE_BYTES = 1_000_000  # the shipped rule packs together are under 100 kB
MAX_DEPTH = 50  # the deepest shipped structure is under 10 levels
MAX_NODES = 200_000  # keys, values and items in one file
MAX_NUMBER_CHARS = 32  # a YAML number written with more characters is a mistake or an attack


@dataclass(frozen=True)
class Refusal:
    """Why the file is refused, and where (0-based, as the parser's marks)."""

    line: int
    column: int
    message: str


def check_events(events: Any) -> Refusal | None:
    """The first bound the event stream breaks, or None; stops reading at the first refusal."""
    depth = nodes = 0
    for event in events:
        if isinstance(event, AliasEvent):
            return _at(event, "YAML aliases (*name) are not accepted: write the value out in full")
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return _at(event, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        if isinstance(event, CollectionStartEvent | ScalarEvent):
            nodes += 1
            if nodes > MAX_NODES:
                return _at(event, f"more than {MAX_NODES:,} values in one file")
    return None


def number_problem(tag: str, text: str, value: Any) -> str | None:
    """What is wrong with a resolved YAML number, or None: too many digits, or not finite."""
    if tag.endswith((":int", ":float")) and len(text) > MAX_NUMBER_CHARS:
        return f"number is written with more than {MAX_NUMBER_CHARS} characters"
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number (.nan, .inf and overflowing numbers are not accepted)"
    return None


def _at(event: Any, message: str) -> Refusal:
    mark = event.start_mark
    return Refusal(mark.line, mark.column, message)
