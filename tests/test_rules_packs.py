"""The shipped packs: they validate against the real fact catalog, every example passes, every rule is
traceable to a seed and has passing and failing examples, and the JSON Schema covers the files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from pmo_gates.rules.actions import action_registry
from pmo_gates.rules.examples import run_examples
from pmo_gates.rules.expr import function_registry
from pmo_gates.rules.facts.registry import default_catalog
from pmo_gates.rules.loader import PACKS_DIR, load_rule_set
from pmo_gates.rules.models import ExampleExpect, LifecycleGate, Pack
from pmo_gates.rules.ruleset import RuleSet
from pmo_gates.rules.schema import rule_file_schema

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted(PACKS_DIR.rglob("*.yaml"))
EXAMPLE_WAIVERS = REPO / "rules" / "waivers.yaml"


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_rule_set([PACKS_DIR, EXAMPLE_WAIVERS], default_catalog(), today=dt.date(2026, 11, 20))


def test_shipped_files_validate_and_every_example_passes(shipped: RuleSet) -> None:
    results = run_examples(shipped)  # the same code as `pmo-gates rules test`
    failures = [f"{r.where}: {r.message}" for r in results if not r.passed]
    assert failures == []
    assert len(results) >= 70
    assert shipped.warnings == []


def test_every_pack_and_gate_ships(shipped: RuleSet) -> None:
    assert {c.rule.pack for c in shipped.rules.values()} == set(Pack)
    assert set(shipped.gates) == set(LifecycleGate)
    assert "delay_threshold_days" in shipped.settings  # read by root-cause analysis


@pytest.mark.parametrize("rule_id", sorted(load_rule_set([PACKS_DIR], default_catalog()).rules))
def test_rule_is_traceable_and_tested_both_ways(shipped: RuleSet, rule_id: str) -> None:
    rule = shipped.rules[rule_id].rule
    assert rule.seed and rule.seed[:3] in {"000", "001", "002", "003"}, "each rule names the seed it serves"
    expectations = {e.expect for e in rule.examples}
    assert ExampleExpect.PASS in expectations and ExampleExpect.FAIL in expectations
    assert rule.description and rule.actions


def test_gates_have_examples_for_several_decisions(shipped: RuleSet) -> None:
    for gate in shipped.gates.values():
        assert len({e.expect for e in gate.spec.examples}) >= 2, gate.spec.gate


def test_packs_can_be_enabled_one_by_one() -> None:
    rule_set = load_rule_set([PACKS_DIR], default_catalog(), enabled_packs=[Pack.ESTABLISHMENT])
    assert {c.rule.pack for c in rule_set.enabled_rules()} == {Pack.ESTABLISHMENT}


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize("path", [*SHIPPED, EXAMPLE_WAIVERS], ids=lambda p: p.name)
def test_shipped_files_match_the_json_schema(path: Path) -> None:
    data = _json_ready(YAML(typ="safe").load(path.read_text()))
    jsonschema.Draft7Validator(rule_file_schema()).validate(data)


def test_json_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft7Validator(rule_file_schema())
    bad = {"pack": "establishment", "rules": [{"id": "x", "title": "t", "check": "true", "severity": "huge"}]}
    assert not validator.is_valid(bad)
    bad_action = {"pack": "maturity", "rules": [{"id": "x", "title": "t", "check": "true", "severity": "low",
                                                 "actions": [{"type": "tickt"}]}]}  # fmt: skip
    assert not validator.is_valid(bad_action)


def test_every_registered_action_and_function_is_in_the_schema() -> None:
    schema = rule_file_schema()
    rule_props = schema["definitions"]["RuleSpec"]["properties"]
    refs = {branch["$ref"].rsplit("/", 1)[1] for branch in rule_props["actions"]["items"]["oneOf"]}
    assert refs == {f"action-{name}" for name in action_registry.names()}
    for name in action_registry.names():
        assert schema["definitions"][f"action-{name}"]["properties"]["type"]["const"] == name
    for name in function_registry.names():
        assert name in rule_props["check"]["x-functions"]
        assert f"{name}(" in rule_props["check"]["description"]


def test_every_registered_action_and_function_is_documented() -> None:
    docs = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for name in function_registry.names():
        assert f"`{name}(" in docs, f"function {name} is missing from docs/rules.md"
    for name in action_registry.names():
        assert f"`{name}`" in docs, f"action type {name} is missing from docs/rules.md"


def test_committed_schema_is_up_to_date() -> None:
    """rule-schema.json (what the packs' yaml-language-server header points at) is `pmo-gates schema`."""
    committed = json.loads((REPO / "rule-schema.json").read_text(encoding="utf-8"))
    assert committed == rule_file_schema(), "regenerate it: pmo-gates schema -o rule-schema.json"
