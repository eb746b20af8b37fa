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

from pmo_gates.rules.errors import RuleFileError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError

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
    """Parse ``path`` (or ``text``), shown as ``name``; a syntax error comes back as a positioned error."""
    name = name or str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return RuleFileError(path=name, line=1, col=1, message=f"cannot read file: {exc}")
    yaml = YAML(typ="rt")
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        return RuleFileError(path=name, line=line, col=col, message=f"YAML syntax error: {problem}")
    except YAMLError as exc:
        return RuleFileError(path=name, line=1, col=1, message=f"YAML syntax error: {exc}")
    document = YamlDocument(path=name, text=text, data=None)
    document.values[()] = (1, 1)
    try:
        document.data = _plain(raw, (), document)
    except _TagError as exc:
        return document.error(exc.key, str(exc))
    return document


class _TagError(ValueError):
    def __init__(self, key: Key, message: str) -> None:
        super().__init__(message)
        self.key = key


def _plain(node: Any, key: Key, document: YamlDocument) -> Any:
    """ruamel's round-trip objects to plain Python, recording child positions on the way."""
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for name, value in node.items():
            child = (*key, str(name))
            kline, kcol = node.lc.key(name)
            vline, vcol = node.lc.value(name)
            document.keys[child] = (kline + 1, kcol + 1)
            document.values[child] = (vline + 1, vcol + 1)
            out[str(name) if not isinstance(name, str) else name] = _plain(value, child, document)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            iline, icol = node.lc.item(index)
            document.values[(*key, index)] = (iline + 1, icol + 1)
            items.append(_plain(value, (*key, index), document))
        return items
    if isinstance(node, TaggedScalar):
        if str(node.tag) == "tag:yaml.org,2002:str":
            return str(node.value)
        raise _TagError(key, f"YAML tag {node.tag!s} is not supported")
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, dt.datetime):
        return dt.datetime(*node.timetuple()[:6])
    if isinstance(node, dt.date):
        return dt.date(node.year, node.month, node.day)
    raise _TagError(key, f"unsupported YAML value of type {type(node).__name__}")


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
