"""Plain Python data built straight from the YAML parser's event stream, in one bounded pass.

Going from events (not from a composed node graph) means an alias is refused where it is written,
before anything is expanded; nesting, the number of values and every number are checked as they
arrive; nothing recurses, so depth cannot exhaust the stack; and scalar tags are resolved from a
table built once (ruamel's own resolver re-inspects the loader for every scalar: ~150 µs each).
Every key's and value's position is recorded on the way, 1-based.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    DocumentStartEvent,
    MappingStartEvent,
    ScalarEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import implicit_resolvers

from pmo_gates.rules.yaml_bounds import MAX_DEPTH, MAX_NODES, number_problem

Key = tuple[str | int, ...]
Position = tuple[int, int]

YAML_TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = {YAML_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
COLLECTION_TAGS = {None, "!", YAML_TAG + "map", YAML_TAG + "seq"}


def _implicit_table() -> dict[str | None, list[tuple[str, Any]]]:
    """ruamel's YAML 1.2 implicit resolvers by first character (what its loader uses by default)."""
    table: dict[str | None, list[tuple[str, Any]]] = {}
    for versions, tag, regexp, first in implicit_resolvers:
        if (1, 2) in versions:
            for ch in first or [None]:
                table.setdefault(ch, []).append((tag, regexp))
    return table


IMPLICIT = _implicit_table()


class YamlRefusal(ValueError):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.line, self.col = mark.line + 1, mark.column + 1
        self.message = message


@dataclass
class _Open:
    """A mapping or list being filled."""

    key: Key
    value: dict[str, Any] | list[Any]
    pending: tuple[str, Position] | None = None  # a mapping's key waiting for its value
    names: set[str] = field(default_factory=set)


def build(events: Iterable[Any], constructor: Any, values: dict[Key, Position], keys: dict[Key, Position]) -> Any:
    """The document's data; raises :class:`YamlRefusal` at the first thing refused."""
    stack: list[_Open] = []
    root: Any = None
    documents = nodes = 0
    for event in events:
        if isinstance(event, DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise YamlRefusal(event.start_mark, "expected a single YAML document, found another one")
            continue
        if isinstance(event, AliasEvent):
            raise YamlRefusal(event.start_mark, "YAML aliases (*name) are not accepted: write the value out in full")
        if isinstance(event, CollectionEndEvent):
            done = stack.pop()
            if not stack:
                root = done.value
            else:
                _attach(stack[-1], done.value)
            continue
        if not isinstance(event, ScalarEvent | CollectionStartEvent):
            continue  # stream and document boundaries
        nodes += 1
        if nodes > MAX_NODES:
            raise YamlRefusal(event.start_mark, f"more than {MAX_NODES:,} values in one file")
        position = (event.start_mark.line + 1, event.start_mark.column + 1)
        parent = stack[-1] if stack else None
        if parent is not None and isinstance(parent.value, dict) and parent.pending is None:
            if not isinstance(event, ScalarEvent):
                raise YamlRefusal(event.start_mark, "mapping keys must be plain names")
            name = str(event.value)
            if name in parent.names:
                raise YamlRefusal(event.start_mark, f"YAML syntax error: duplicate key {name!r}")
            parent.names.add(name)
            parent.pending = (name, position)
            continue
        key = _child_key(parent, keys)
        values[key] = position
        if isinstance(event, CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise YamlRefusal(event.start_mark, f"nested more than {MAX_DEPTH} levels deep")
            if event.tag not in COLLECTION_TAGS:
                raise YamlRefusal(event.start_mark, f"YAML tag {event.tag} is not supported")
            stack.append(_Open(key, {} if isinstance(event, MappingStartEvent) else []))
            continue
        value = _scalar(event, key, constructor)
        if parent is None:
            root = value
        else:
            _attach(parent, value)
    return root


def _child_key(parent: _Open | None, keys: dict[Key, Position]) -> Key:
    """The key of the value about to start inside ``parent`` (recording a mapping key's position)."""
    if parent is None:
        return ()
    if isinstance(parent.value, list):
        return (*parent.key, len(parent.value))
    assert parent.pending is not None
    name, position = parent.pending
    keys[(*parent.key, name)] = position
    return (*parent.key, name)


def _attach(parent: _Open, value: Any) -> None:
    if isinstance(parent.value, list):
        parent.value.append(value)
    else:
        assert parent.pending is not None
        parent.value[parent.pending[0]] = value
        parent.pending = None


def _scalar(event: Any, key: Key, constructor: Any) -> Any:
    tag = event.tag
    if tag is None or tag == "!":
        tag = _resolve(event.value) if tag is None and event.implicit[0] else YAML_TAG + "str"
    where = ".".join(str(part) for part in key) + ": " if key else ""
    if tag not in SCALAR_TAGS:
        raise YamlRefusal(event.start_mark, f"YAML tag {tag} is not supported")
    if tag == YAML_TAG + "str":
        return event.value
    problem = number_problem(tag, event.value, None)  # before int() meets 5,000 digits
    if problem is not None:
        raise YamlRefusal(event.start_mark, where + problem)
    node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
    try:
        value = constructor.yaml_constructors[tag](constructor, node)
    except (ValueError, OverflowError, ArithmeticError, LookupError, TypeError):  # e.g. 2024-13-45
        raise YamlRefusal(event.start_mark, f"{where}not a valid {tag.removeprefix(YAML_TAG)}") from None
    except Exception as exc:  # ruamel's own construction errors
        raise YamlRefusal(event.start_mark, f"{where}not a valid {tag.removeprefix(YAML_TAG)}") from exc
    problem = number_problem(tag, event.value, value)
    if problem is not None:
        raise YamlRefusal(event.start_mark, where + problem)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _resolve(value: str) -> str:
    for tag, regexp in IMPLICIT.get(value[:1] if value else "", []) + IMPLICIT.get(None, []):
        if regexp.match(value):
            return str(tag)
    return YAML_TAG + "str"
