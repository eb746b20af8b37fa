"""Load a playbook YAML file into a pydantic model, reporting every error as ``path:line:col: key: message``.

The PMO's playbook files are edited by hand, so an error must say where it is. The rule files' YAML
reader (:mod:`pmo_gates.rules.yaml_source`) keeps the position of every key and value; pydantic's error
locations are mapped back to them. Two phases, as for rule files: the schema, then ``semantic`` checks
(references between sections, templates, expressions) on the validated model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.registry import closest
from pmo_gates.rules.yaml_source import YamlDocument, load_yaml, read_bounded

M = TypeVar("M", bound=BaseModel)
SemanticCheck = Callable[[Any, YamlDocument], list[RuleFileError]]


class PlaybookError(ValueError):
    """A playbook file is unreadable or invalid; the message lists every problem with its position."""


def parse_model(text: str, model: type[M], source: str, semantic: SemanticCheck | None = None) -> M:
    """Parse YAML ``text`` (named ``source`` in errors) into ``model``, then run ``semantic`` on it.

    Raises :class:`PlaybookError` listing every error of the failing phase, in file order."""
    document = load_yaml(source, text, name=source)
    if isinstance(document, RuleFileError):
        raise PlaybookError(str(document))
    if not isinstance(document.data, dict):
        raise PlaybookError(f"{source}:1:1: the file must be a mapping of keys")
    sections = list(model.model_fields)
    if document.data and not any(key in sections or closest(key, sections) for key in document.data):
        # Maybe not a playbook at all (a secrets file passed by mistake): quote none of its keys.
        raise PlaybookError(f"{source}:1:1: not a playbook: none of its top-level keys is one of {', '.join(sections)}")
    try:
        value = model.model_validate(document.data)
    except ValidationError as exc:
        raise PlaybookError(_report([_located(document, err) for err in exc.errors()])) from None
    problems = semantic(value, document) if semantic else []
    if problems:
        raise PlaybookError(_report(problems))
    return value


def _located(document: YamlDocument, err: Any) -> RuleFileError:
    # pydantic adds validator labels such as 'function-after[...]' to locations: they are not keys.
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    key = ".".join(str(p) for p in loc) or "(top level)"
    if err["type"] == "extra_forbidden":
        return document.error(loc, f"{key}: unknown key", at_key=True)
    return document.error(loc, f"{key}: {err['msg'].removeprefix('Value error, ')}")


def located(document: YamlDocument, loc: tuple[Any, ...], message: str) -> RuleFileError:
    """An error at the value of ``loc``, prefixed with its key path like the schema errors."""
    return document.error(loc, f"{'.'.join(str(p) for p in loc)}: {message}")


def _report(problems: list[RuleFileError]) -> str:
    return "\n".join(str(p) for p in sorted(problems, key=RuleFileError.sort_key))


def read_text(path: Path | str) -> str:
    """The file's text, bounded in size; an unreadable, binary or huge file is a :class:`PlaybookError`."""
    try:
        Path(path).stat()
    except OSError as exc:
        raise PlaybookError(f"{path}: cannot read: {exc.strerror or exc}") from None
    text = read_bounded(path, str(path))
    if isinstance(text, RuleFileError):
        raise PlaybookError(str(text))
    return text
