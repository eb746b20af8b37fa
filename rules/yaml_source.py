"""Reads a YAML file into plain Python data while remembering where every key and value was written.

Positions are 1-based ``(line, col)`` keyed by the path of the value inside the document, e.g.
``("rules", 2, "check")``; ``expression_position`` maps an offset inside a string value (a rule
expression) to its place in the file, for plain, quoted and block scalars.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.yaml_bounds import MAX_FILE_BYTES, check_events, number_problem

Key = tuple[str | int, ...]
Position = tuple[int, int]


@dataclass
class YamlDocument:
    path: str
    text: str
    data: Any
    values: dict[Key, Position] = field(default_factory=dict)  # where each value starts
    keys: dict[Key, Position] = field(default_factory=dict)  # where each mapping key is written

    def position(self, key: Key) -> Position:
        """Where ``key``'s value is, or its closest enclosing value when it is not written (missing)."""
        while key:
            if key in self.values:
                return self.values[key]
            key = key[:-1]
        return self.values.get((), (1, 1))

    def key_position(self, key: Key) -> Position:
        return self.keys.get(key) or self.position(key)

    def error(self, key: Key, message: str, *, at_key: bool = False) -> RuleFileError:
        line, col = self.key_position(key) if at_key else self.position(key)
        return RuleFileError(path=self.path, line=line, col=col, message=message)

    def expression_position(self, key: Key, offset: int) -> Position:
        """The file position of character ``offset`` of the string value at ``key``."""
        line, col = self.position(key)
        lines = self.text.splitlines()
        if not 0 < line <= len(lines) or col - 1 >= len(lines[line - 1]):
            return line, col
        indicator = lines[line - 1][col - 1]
        if indicator in "|>":
            return _block_position(lines, line, offset)
        return _flow_position(lines, line, col, offset, indicator if indicator in "'\"" else "")


def load_yaml(path: Path | str, text: str | None = None, *, name: str | None = None) -> YamlDocument | RuleFileError:
    """Parse ``path`` (or ``text``), shown as ``name``; a syntax error comes back as a positioned error.

    The input is bounded (:mod:`pmo_gates.rules.yaml_bounds`): size, nesting, number of values, no
    aliases, finite numbers of sane length. Messages never quote the file's content, which may not be
    ours (a secret file passed by mistake).
    """
    name = name or str(path)
    if text is None:
        text_or_error = read_bounded(path, name)
        if isinstance(text_or_error, RuleFileError):
            return text_or_error
        text = text_or_error
    elif len(text) > MAX_FILE_BYTES:
        return RuleFileError(path=name, line=1, col=1, message=_TOO_BIG)
    # Composing (not loading) keeps every node's position; the safe C parser is ~6x faster than the
    # round-trip one, and we build plain values ourselves.
    yaml = YAML(typ="safe", pure=False)
    try:
        refusal = check_events(yaml.parse(text))
        if refusal is not None:
            return RuleFileError(path=name, line=refusal.line + 1, col=refusal.column + 1, message=refusal.message)
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        return RuleFileError(path=name, line=line, col=col, message=f"YAML syntax error: {problem}")
    except YAMLError:  # e.g. a control character: the reader's message would quote the text
        return RuleFileError(path=name, line=1, col=1, message="not a YAML text file (control characters)")
    document = YamlDocument(path=name, text=text, data=None)
    document.values[()] = (1, 1)
    if root is None:
        return document
    document.values[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
    try:
        document.data = _plain(root, (), document, yaml.constructor)
    except _NodeError as exc:
        line, col = exc.node.start_mark.line + 1, exc.node.start_mark.column + 1
        return RuleFileError(path=name, line=line, col=col, message=str(exc))
    return document


_TOO_BIG = f"file is larger than {MAX_FILE_BYTES:,} bytes"


def read_bounded(path: Path | str, name: str) -> str | RuleFileError:
    """The file's UTF-8 text, reading at most one byte past the size bound."""
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return RuleFileError(
            path=name, line=1, col=1, message=f"cannot read file: {exc.strerror or type(exc).__name__}"
        )
    if len(raw) > MAX_FILE_BYTES:
        return RuleFileError(path=name, line=1, col=1, message=_TOO_BIG)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return RuleFileError(path=name, line=line, col=col, message="not a UTF-8 text file")


class _NodeError(ValueError):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node


SCALAR_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}


def _plain(node: Node, key: Key, document: YamlDocument, constructor: Any) -> Any:
    """Composed nodes to plain Python, recording every key's and value's position on the way."""
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _NodeError(key_node, "mapping keys must be plain names")
            name = str(key_node.value)
            if name in out:
                raise _NodeError(key_node, f"YAML syntax error: duplicate key {name!r}")
            child = (*key, name)
            document.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            document.values[child] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
            out[name] = _plain(value_node, child, document, constructor)
        return out
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            document.values[(*key, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(_plain(item, (*key, index), document, constructor))
        return items
    if node.tag not in SCALAR_TAGS:
        raise _NodeError(node, f"YAML tag {node.tag} is not supported")
    where = ".".join(str(part) for part in key) + ": " if key else ""
    problem = number_problem(node.tag, str(node.value), None)  # before int() meets 5,000 digits
    if problem is not None:
        raise _NodeError(node, where + problem)
    try:
        value = constructor.construct_object(node, deep=True)
    except (ValueError, OverflowError, ArithmeticError, YAMLError) as exc:  # e.g. 2024-13-45, a 5,000-digit int
        raise _NodeError(node, where + _invalid(node.tag, exc)) from None
    problem = number_problem(node.tag, str(node.value), value)
    if problem is not None:
        raise _NodeError(node, where + problem)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _invalid(tag: str, exc: Exception) -> str:
    kind = tag.rsplit(":", 1)[-1]
    return (
        f"not a valid {kind}"
        if kind in ("int", "float", "timestamp", "bool")
        else f"invalid value ({type(exc).__name__})"
    )


def _flow_position(lines: list[str], line: int, col: int, offset: int, quote: str) -> Position:
    """Plain or quoted scalar: may continue on following lines, folded into single spaces."""
    row, index = line - 1, col - 1 + (1 if quote else 0)
    remaining = offset
    while True:
        raw = lines[row]
        while index < len(raw) and remaining > 0:
            step = 2 if (quote == "'" and raw.startswith("''", index)) or (quote == '"' and raw[index] == "\\") else 1
            index += step
            remaining -= 1
        if remaining == 0 or row + 1 >= len(lines):
            return row + 1, index + 1
        remaining -= 1  # the line break, folded into a space
        row += 1
        index = len(lines[row]) - len(lines[row].lstrip())


def _block_position(lines: list[str], line: int, offset: int) -> Position:
    """Literal ``|`` or folded ``>`` scalar: content starts on the next line at the block's indent."""
    rows = [r for r in range(line, len(lines)) if lines[r].strip()]
    if not rows:
        return line, 1
    indent = len(lines[rows[0]]) - len(lines[rows[0]].lstrip())
    remaining = offset
    row = line
    while row < len(lines):
        content = lines[row][indent:] if lines[row].strip() else ""
        if remaining <= len(content) or row + 1 >= len(lines):
            return row + 1, indent + min(remaining, len(content)) + 1
        remaining -= len(content) + 1
        row += 1
    return line, 1
