"""Load a YAML file into a pydantic model, reporting every error as ``path:line:col: key: message``.

The PMO's playbook files are edited by hand, so an error must say where it is. ruamel.yaml keeps the
position of every key; pydantic's error locations are mapped back to them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

M = TypeVar("M", bound=BaseModel)
# A second validation phase: (location as a key path, message) for what pydantic cannot check.
SemanticCheck = Callable[[Any], list[tuple[tuple[Any, ...], str]]]


class PlaybookError(ValueError):
    """A playbook file is unreadable or invalid; the message lists every problem with its position."""


def yaml_position(data: Any, loc: tuple[Any, ...]) -> tuple[int, int] | None:
    """(line, column), 1-based, of the deepest part of ``loc`` that ruamel kept a position for."""
    where = None
    node = data
    for part in loc:
        lc = getattr(node, "lc", None)
        try:
            if isinstance(node, dict) and part in node and lc is not None:
                line, col = lc.key(part)
                where = (line + 1, col + 1)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node) and lc is not None:
                line, col = lc.item(part)
                where = (line + 1, col + 1)
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    return where


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    return node


def parse_model(text: str, model: type[M], source: str, semantic: SemanticCheck | None = None) -> M:
    """Parse YAML ``text`` (named ``source`` in errors) into ``model``, then run ``semantic`` on it.

    Raises :class:`PlaybookError` listing every error of the failing phase."""
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise PlaybookError(f"{where}: YAML syntax error: {exc.problem}") from None
    if not isinstance(data, dict):
        raise PlaybookError(f"{source}:1:1: the file must be a mapping of keys")
    try:
        value = model.model_validate(_plain(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # pydantic adds validator labels such as 'function-after[...]' to locations: they are not keys.
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append((loc, message.removeprefix("Value error, ")))
        raise PlaybookError(_report(data, source, problems)) from None
    problems = semantic(value) if semantic else []
    if problems:
        raise PlaybookError(_report(data, source, problems))
    return value


def _report(data: Any, source: str, problems: list[tuple[tuple[Any, ...], str]]) -> str:
    lines = []
    for loc, message in problems:
        line, col = yaml_position(data, loc) or (1, 1)
        key = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{source}:{line}:{col}: {key}: {message}")
    return "\n".join(lines)


def read_text(path: Path | str) -> str:
    """The file's text; an unreadable file is a :class:`PlaybookError` naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read: {exc.strerror or exc}") from None
