"""Phase 1 of loading: one YAML file into validated models, every schema error with its position.

Each rule, gate and waiver is validated on its own, so one bad item does not hide the errors of the
others, and the good ones still reach phase 2 (semantic checks) for their own errors.
"""

from __future__ import annotations

import datetime as dt
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from pmo_gates.rules.actions import Action, ActionRegistry
from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.expr.limits import MAX_NUMBER, MAX_STRING_CHARS
from pmo_gates.rules.models import GateSpec, Pack, RuleFile, RuleSpec, SettingValue, Waiver
from pmo_gates.rules.registry import closest, did_you_mean
from pmo_gates.rules.yaml_source import Key, YamlDocument

SECTIONS = ("kind", "pack", "settings", "rules", "gates", "waivers")
_PACK = TypeAdapter(Pack)
_SETTING = TypeAdapter(SettingValue)


@dataclass
class ReadRule:
    spec: RuleSpec
    key: Key
    actions: list[Action]


@dataclass
class FileContent:
    document: YamlDocument
    pack: Pack | None = None
    settings: dict[str, tuple[Any, Key]] = field(default_factory=dict)
    rules: list[ReadRule] = field(default_factory=list)
    gates: list[tuple[GateSpec, Key]] = field(default_factory=list)
    waivers: list[tuple[Waiver, Key]] = field(default_factory=list)


def read_file(document: YamlDocument, actions: ActionRegistry) -> tuple[FileContent, list[RuleFileError]]:
    content = FileContent(document)
    errors: list[RuleFileError] = []
    data = document.data
    if data is None:
        return content, [document.error((), "the file is empty: expected 'pack' and 'rules', 'gates' or 'waivers'")]
    if not isinstance(data, dict):
        return content, [document.error((), f"expected a mapping at the top, got {_kind(data)}")]
    if data.get("kind", "rules") != "rules":
        return content, [document.error(("kind",), f"not a rule file (kind: {data['kind']}); expected kind: rules")]
    if not any(name in SECTIONS or closest(str(name), SECTIONS) for name in data):  # not ours: quote nothing
        return content, [
            document.error((), f"not a rule file: none of its top-level keys is one of {', '.join(SECTIONS)}")
        ]
    for name in data:
        if name not in SECTIONS:
            errors.append(document.error((name,), _unknown_key(name, SECTIONS), at_key=True))
    if "pack" in data:
        try:
            content.pack = _PACK.validate_python(data["pack"])
        except ValidationError as exc:
            errors += convert_errors(document, ("pack",), exc, None)
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        errors.append(document.error(("settings",), f"'settings' must be a mapping, got {_kind(settings)}"))
        settings = {}
    for name, value in settings.items():
        key: Key = ("settings", name)
        if not (isinstance(name, str) and name.isidentifier() and name.islower() and not name.startswith("_")):
            errors.append(document.error(key, f"setting name {name!r} must be snake_case", at_key=True))
        elif not isinstance(value, bool | int | float | str | dt.date) or isinstance(value, dt.datetime):
            errors.append(document.error(key, f"setting {name!r} must be a number, string, bool or date"))
        else:
            if (problem := setting_problem(value)) is not None:  # still known: no 'unknown setting' echo
                errors.append(document.error(key, f"setting {name!r} {problem}"))
            content.settings[name] = (_SETTING.validate_python(value), key)
    for section, model in (("rules", RuleSpec), ("gates", GateSpec), ("waivers", Waiver)):
        items = data.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            errors.append(document.error((section,), f"{section!r} must be a list, got {_kind(items)}"))
            continue
        for index, item in enumerate(items):
            key = (section, index)
            if not isinstance(item, dict):
                errors.append(document.error(key, f"each of {section!r} must be a mapping, got {_kind(item)}"))
                continue
            try:
                parsed = model.model_validate(item)
            except ValidationError as exc:
                errors += convert_errors(document, key, exc, model)
                continue
            _locate(parsed, document, key)
            if isinstance(parsed, RuleSpec):
                rule_actions, action_errors = _read_actions(document, key, parsed, actions)
                errors += action_errors
                content.rules.append(ReadRule(parsed, key, rule_actions))
            elif isinstance(parsed, GateSpec):
                content.gates.append((parsed, key))
            else:
                content.waivers.append((parsed, key))  # type: ignore[arg-type]
    if content.rules and content.pack is None and "pack" not in data:
        errors.append(
            document.error(
                ("rules",), "a file with rules needs 'pack: establishment|standardization|maturity'", at_key=True
            )
        )
    return content, errors


def setting_problem(value: Any) -> str | None:
    """A setting is a named literal: the bounds of literals in expressions apply (finite, not huge)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number (.nan and .inf are not numbers a rule can compare with)"
    if isinstance(value, int | float) and abs(value) > MAX_NUMBER:
        return f"is larger than {MAX_NUMBER:g}"
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        return f"is longer than {MAX_STRING_CHARS} characters"
    return None


def _locate(parsed: BaseModel, document: YamlDocument, key: Key) -> None:
    """Record where the item and its examples were written (for reports and example failures)."""
    line, col = document.position(key)
    parsed.located(document.path, line, col)  # type: ignore[attr-defined]
    for index, example in enumerate(getattr(parsed, "examples", [])):
        line, col = document.position((*key, "examples", index))
        example.located(document.path, line, col)


def _read_actions(
    document: YamlDocument, rule_key: Key, spec: RuleSpec, registry: ActionRegistry
) -> tuple[list[Action], list[RuleFileError]]:
    out: list[Action] = []
    errors: list[RuleFileError] = []
    for index, raw in enumerate(spec.actions):
        key = (*rule_key, "actions", index)
        kind = raw.get("type")
        if kind is None:
            errors.append(document.error(key, f"action needs a 'type': one of {registry.names()}"))
            continue
        cls = registry.get(kind) if isinstance(kind, str) else None
        if cls is None:
            errors.append(document.error((*key, "type"), registry.unknown_message(str(kind))))
            continue
        try:
            action = cls.model_validate(raw)
        except ValidationError as exc:
            errors += convert_errors(document, key, exc, cls)
            continue
        for field_name, message in action.validate_semantics():
            errors.append(document.error((*key, field_name), message))
        out.append(action)
    return out, errors


def convert_errors(
    document: YamlDocument, base: Key, exc: ValidationError, model: type[BaseModel] | None
) -> list[RuleFileError]:
    """pydantic's errors as positioned messages; one message per position (unions report many)."""
    seen: set[Key] = set()
    errors: list[RuleFileError] = []
    for error in exc.errors():
        loc = _data_path(document, base, tuple(error["loc"]))
        if loc in seen:
            continue
        seen.add(loc)
        kind = error["type"]
        name = loc[-1] if len(loc) > len(base) else (base[-1] if base else "value")
        if kind == "extra_forbidden":
            allowed = _fields_at(model, loc[len(base) : -1]) if model is not None else []
            errors.append(document.error(loc, _unknown_key(str(name), allowed), at_key=True))
        elif kind == "missing":
            errors.append(document.error(loc[:-1], f"missing required key {name!r}"))
        else:
            message = error["msg"][0].lower() + error["msg"][1:]
            if kind in ("value_error", "assertion_error"):
                message = message.removeprefix("value error, ")
            errors.append(document.error(loc, f"{name}: {message}"))
    return errors


def _data_path(document: YamlDocument, base: Key, loc: tuple[Any, ...]) -> Key:
    """The longest prefix of ``loc`` that names data in the file (drops pydantic's union tags)."""
    key: Key = base
    for part in loc:
        candidate = (*key, part)
        if candidate not in document.values and not (isinstance(part, str) and part.isidentifier()):
            break
        key = candidate
    return key


def _fields_at(model: type[BaseModel], path: Key) -> list[str]:
    """Field names of the model found at ``path`` inside ``model`` (for did-you-mean)."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(part, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field_info = annotation.model_fields.get(part)
            if field_info is None:
                return []
            annotation = field_info.annotation
        elif isinstance(part, int) and typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        else:
            return []
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation


def _unknown_key(name: str, allowed: Any) -> str:
    allowed = list(allowed)
    if closest(name, allowed):
        return f"unknown key {name!r}{did_you_mean(name, allowed)}"
    return f"unknown key {name!r}; allowed: {', '.join(allowed)}" if allowed else f"unknown key {name!r}"


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "nothing"}.get(
        type(value), f"a {type(value).__name__}"
    )


assert set(SECTIONS) == set(RuleFile.model_fields)  # the schema root and this reader agree
