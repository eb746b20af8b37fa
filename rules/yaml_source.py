"""Reads a YAML file into plain Python data while remembering where every key and value was written.

Positions are 1-based ``(line, col)`` keyed by the path of the value inside the document, e.g.
``("rules", 2, "check")``; ``expression_position`` maps an offset inside a string value (a rule
expression) to its place in the file, for plain, quoted and block scalars.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.yaml_bounds import MAX_FILE_BYTES
from pmo_gates.rules.yaml_events import Key, Position, YamlRefusal, build


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
    yaml = YAML(typ="safe", pure=False)  # the C parser: events are cheap
    document = YamlDocument(path=name, text=text, data=None)
    document.values[()] = (1, 1)
    try:
        document.data = build(yaml.parse(text), yaml.constructor, document.values, document.keys)
    except YamlRefusal as exc:
        return RuleFileError(path=name, line=exc.line, col=exc.col, message=exc.message)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        return RuleFileError(path=name, line=line, col=col, message=f"YAML syntax error: {problem}")
    except YAMLError:  # e.g. a control character: the reader's message would quote the text
        return RuleFileError(path=name, line=1, col=1, message="not a YAML text file (control characters)")
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
