"""Bounds on the YAML we read (rule files, playbooks, config), enforced by :mod:`.yaml_events`.

A few hundred bytes of YAML can otherwise expand into gigabytes (aliases of aliases: "billion laughs"),
loop forever (an alias inside its own anchor), nest deeper than the interpreter's stack, or hand int()
5,000 digits. Aliases are refused outright; the rest is bounded here, so that reading any file takes
well under a second and a few tens of MB.
"""

from __future__ import annotations

import math
from typing import Any

MAX_FILE_BYTES = 1_000_000  # the shipped rule packs together are under 100 kB
MAX_DEPTH = 50  # the deepest shipped structure is under 10 levels
MAX_NODES = 20_000  # keys, values and items in one file: the shipped packs hold ~2,000 together
MAX_NUMBER_CHARS = 32  # a YAML number written with more characters is a mistake or an attack


def number_problem(tag: str, text: str, value: Any) -> str | None:
    """What is wrong with a resolved YAML number, or None: too many digits, or not finite."""
    if tag.endswith((":int", ":float")) and len(text) > MAX_NUMBER_CHARS:
        return f"number is written with more than {MAX_NUMBER_CHARS} characters"
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number (.nan, .inf and overflowing numbers are not accepted)"
    return None
