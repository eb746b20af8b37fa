"""Runs the examples written in rule and gate files: the rule author's tests.

The loader turns failures into errors (``pmo-gates validate``); ``pmo-gates rules test`` reports them
one by one like pytest. Gate examples run with every pack enabled and no waivers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pmo_gates.rules.catalog import FactCatalog
from pmo_gates.rules.gates import decide_gate
from pmo_gates.rules.models import GateExample, Outcome, RuleExample
from pmo_gates.rules.ruleset import CompiledGate, CompiledRule, RuleSet

NO_DATE = dt.date(2000, 1, 1)  # for examples of rules that do not read today()
SAYS = {
    Outcome.PASS: "the check passes",
    Outcome.FAIL: "the check fails",
    Outcome.NOT_APPLICABLE: "the rule does not apply",
    Outcome.UNKNOWN: "the outcome is unknown",
}


class ExampleResult(BaseModel):
    """One example run: what it expected and what the rules gave."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["rule", "gate"]
    subject: str  # rule id or gate name
    name: str
    path: str
    line: int
    col: int
    facts: dict[str, Any]
    expected: str
    actual: str
    passed: bool
    message: str  # why it failed, in words ('' when it passed)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


def run_examples(rule_set: RuleSet) -> list[ExampleResult]:
    """Every rule example, then every gate example, in file order."""
    results = [
        run_rule_example(rule_set.catalog, compiled, example)
        for compiled in rule_set.rules.values()
        for example in compiled.rule.examples
    ]
    for gate in rule_set.gates.values():
        if all(rule_id in rule_set.rules for rule_id in gate.spec.criteria):
            results += [run_gate_example(rule_set, gate, example) for example in gate.spec.examples]
    return results


def run_rule_example(catalog: FactCatalog, compiled: CompiledRule, example: RuleExample) -> ExampleResult:
    expected = example.expect.outcome()
    if compiled.uses_today and example.today is None:
        message = f"example {example.name!r} needs 'today:' (the rule uses today())"
        return _result("rule", compiled.id, example, expected.value, "-", False, message)
    facts = catalog.coerce_facts(example.facts)
    actual = compiled.outcome(facts, example.today or NO_DATE)
    passed = actual is expected
    message = "" if passed else f"example {example.name!r} expects {example.expect.value} but {SAYS[actual]}"
    return _result("rule", compiled.id, example, expected.value, actual.value, passed, message)


def run_gate_example(rule_set: RuleSet, gate: CompiledGate, example: GateExample) -> ExampleResult:
    criteria = gate.spec.criteria
    needs_today = (gate.kill is not None and gate.kill.uses_today) or any(
        rule_set.rules[rule_id].uses_today for rule_id in criteria
    )
    if needs_today and example.today is None:
        message = f"gate example {example.name!r} needs 'today:' (a criterion uses today())"
        return _result("gate", gate.spec.gate.value, example, example.expect.value, "-", False, message)
    facts = rule_set.catalog.coerce_facts(example.facts)
    today = example.today or NO_DATE
    outcomes = {rule_id: rule_set.rules[rule_id].outcome(facts, today) for rule_id in criteria}
    result = decide_gate(rule_set, gate, "example", outcomes.get, facts, today, all_packs=True)
    passed = result.decision is example.expect and (example.score is None or abs(result.score - example.score) < 0.05)
    message = ""
    if result.decision is not example.expect:
        message = (
            f"gate example {example.name!r} expects {example.expect.value} but the decision is "
            f"{result.decision.value} ({'; '.join(result.reasons)})"
        )
    elif not passed:
        message = f"gate example {example.name!r} expects score {example.score:g} but the score is {result.score:g}"
    actual = f"{result.decision.value} (score {result.score:g})"
    return _result("gate", gate.spec.gate.value, example, example.expect.value, actual, passed, message)


def rules_without_examples(rule_set: RuleSet) -> list[CompiledRule]:
    return [compiled for compiled in rule_set.rules.values() if not compiled.rule.examples]


def _result(
    kind: Literal["rule", "gate"],
    subject: str,
    example: RuleExample | GateExample,
    expected: str,
    actual: str,
    passed: bool,
    message: str,
) -> ExampleResult:
    path, line, col = example.location
    return ExampleResult(
        kind=kind,
        subject=subject,
        name=example.name,
        path=path,
        line=line,
        col=col,
        facts=dict(example.facts),
        expected=expected,
        actual=actual,
        passed=passed,
        message=message,
    )
