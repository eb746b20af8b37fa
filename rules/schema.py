"""The JSON Schema (draft-07) of rule files, generated from the models and the registries.

Editors use it through yaml-language-server (``# yaml-language-server: $schema=./rule-schema.json``);
every registered action type becomes a ``oneOf`` branch and every registered function is listed in
the expression fields' descriptions, so plugins show up without editing this module.
"""

from __future__ import annotations

from typing import Any

from pmo_gates.rules.actions import ActionRegistry, action_registry
from pmo_gates.rules.expr import FunctionRegistry, function_registry
from pmo_gates.rules.models import RuleFile

REF = "#/definitions/{model}"
EXPRESSION_FIELDS = {"RuleSpec": ("applies", "check"), "GateSpec": ("kill",)}


def rule_file_schema(
    actions: ActionRegistry | None = None, functions: FunctionRegistry | None = None
) -> dict[str, Any]:
    actions = actions or action_registry
    functions = functions or function_registry
    schema = RuleFile.model_json_schema(ref_template=REF)
    definitions: dict[str, Any] = schema.pop("$defs", {})
    branches = []
    for name, cls in actions.items():
        fragment = cls.model_json_schema(ref_template=REF)
        definitions.update(fragment.pop("$defs", {}))
        fragment["required"] = sorted({*fragment.get("required", []), "type"})
        fragment["description"] = " ".join((cls.__doc__ or "").split())
        key = f"action-{name}"
        definitions[key] = fragment
        branches.append({"$ref": f"#/definitions/{key}"})
    definitions["RuleSpec"]["properties"]["actions"]["items"] = {"oneOf": branches}
    definitions["RuleSpec"]["properties"]["actions"]["x-action-types"] = actions.names()

    listing = "; ".join(spec.signature() for _, spec in functions.items())
    for model, fields in EXPRESSION_FIELDS.items():
        for field in fields:
            prop = definitions[model]["properties"][field]
            prop["description"] = f"{prop.get('description', '')} Functions: {listing}.".strip()
            prop["x-functions"] = functions.names()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        **schema,
        "title": "pmo-gates rule file",
        "description": "Rules, gates, waivers and settings for pmo-gates (see docs/rules.md).",
        "definitions": definitions,
    }
