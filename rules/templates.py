"""Safe text templates for action fields: ``{project}``, ``{rule.title}``, ``{facts.spi}``.

Placeholders are looked up in a fixed set of names, never evaluated: no attribute access, indexing,
format specs or conversions (``{facts.__class__}``, ``{0}``, ``{x!r}``, ``{x:>10}`` are all errors).
Write ``{{`` and ``}}`` for literal braces.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = re.compile(r"^([a-z][a-z_]*)(?:\.([a-z][a-z0-9_]*))?$")
RULE_FIELDS = ("id", "title", "description", "severity", "rollout", "pack")
SCALARS = ("project", "owner", "due_date", "today", "outcome")
MAX_TEMPLATE_CHARS = 10_000


class TemplateError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Placeholder:
    root: str
    attr: str | None
    offset: int


def parse_template(text: str) -> list[str | Placeholder]:
    """Split ``text`` into literal parts and placeholders; syntax errors raise :class:`TemplateError`."""
    if len(text) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"template is longer than {MAX_TEMPLATE_CHARS} characters", 0)
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "{}" and text.startswith(ch * 2, i):
            literal.append(ch)
            i += 2
        elif ch == "}":
            raise TemplateError("single '}' in template: write '}}' for a brace", i)
        elif ch == "{":
            end = text.find("}", i)
            if end < 0:
                raise TemplateError("unclosed '{' in template: write '{{' for a brace", i)
            inner = text[i + 1 : end].strip()
            match = PLACEHOLDER.match(inner)
            if not match:
                raise TemplateError(f"invalid placeholder {{{inner}}}: use names like {{project}} or {{facts.spi}}", i)
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Placeholder(match.group(1), match.group(2), i))
            i = end + 1
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return parts


def check_placeholders(
    parts: Iterable[str | Placeholder], facts: Iterable[str], settings: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """Problems (message, offset) with placeholders that name nothing known."""
    known_facts, known_settings = set(facts), set(settings)
    problems: list[tuple[str, int]] = []
    for part in parts:
        if isinstance(part, str):
            continue
        root, attr = part.root, part.attr
        if root in SCALARS and attr is None:
            continue
        if root == "rule" and attr in RULE_FIELDS:
            continue
        if root == "facts" and attr is not None:
            if attr not in known_facts:
                problems.append((f"template placeholder {{facts.{attr}}}: unknown fact {attr!r}", part.offset))
            continue
        if root == "settings" and attr is not None:
            if attr not in known_settings:
                problems.append((f"template placeholder {{settings.{attr}}}: unknown setting", part.offset))
            continue
        shown = root + (f".{attr}" if attr else "")
        problems.append(
            (
                f"unknown template placeholder {{{shown}}}; known: {{project}}, {{owner}}, {{due_date}}, "
                f"{{today}}, {{outcome}}, {{rule.<{'|'.join(RULE_FIELDS)}>}}, {{facts.<name>}}, {{settings.<name>}}",
                part.offset,
            )
        )
    return problems


def facts_used(parts: Iterable[str | Placeholder]) -> list[str]:
    return [p.attr for p in parts if isinstance(p, Placeholder) and p.root == "facts" and p.attr]


def render(parts: Iterable[str | Placeholder], context: Mapping[str, Any]) -> str:
    """Fill placeholders from ``context`` (``project``, ``rule``, ``facts``, ... as plain mappings)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        value = context.get(part.root)
        if part.attr is not None:
            value = value.get(part.attr) if isinstance(value, Mapping) else None
        out.append(format_value(value))
    return "".join(out)


def format_value(value: Any) -> str:
    """How a value reads in a ticket: unknown for null, two decimals at most, ISO dates."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value == value else "unknown"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value)
    return str(value)
