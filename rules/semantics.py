"""Phase 2 of loading: checks across files, expression compilation, and example facts.

Everything here works on models that passed the schema (phase 1) and reports positioned errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pmo_gates.rules.catalog import FactCatalog, FactType
from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.expr import CompiledExpression, ExprError, FunctionRegistry
from pmo_gates.rules.expr.compiler import CheckedExpression, check_expression, compile_expression, compile_outcome
from pmo_gates.rules.expr.types import BOOL
from pmo_gates.rules.file_reader import FileContent, ReadRule
from pmo_gates.rules.models import GateSpec, LifecycleGate, Outcome, Rule, Waiver
from pmo_gates.rules.registry import did_you_mean
from pmo_gates.rules.ruleset import PMO_LEAD, CompiledGate, CompiledRule
from pmo_gates.rules.templates import TemplateError, check_placeholders, facts_used, parse_template
from pmo_gates.rules.yaml_source import Key, YamlDocument

OUTCOMES = {o.value: o for o in (Outcome.PASS, Outcome.FAIL, Outcome.NOT_APPLICABLE, Outcome.UNKNOWN)}


@dataclass
class Compiler:
    catalog: FactCatalog
    functions: FunctionRegistry
    settings: dict[str, Any] = field(default_factory=dict)
    errors: list[RuleFileError] = field(default_factory=list)
    warnings: list[RuleFileError] = field(default_factory=list)

    def expression(self, document: YamlDocument, key: Key, source: str, what: str) -> CheckedExpression | None:
        try:
            return check_expression(source, self.catalog, functions=self.functions, settings=self.settings, expect=BOOL)
        except ExprError as exc:
            line, col = document.expression_position(key, exc.offset)
            self.errors.append(RuleFileError(path=document.path, line=line, col=col, message=f"{what}: {exc.message}"))
            return None

    def compiled(self, document: YamlDocument, key: Key, source: str, what: str) -> CompiledExpression | None:
        if self.expression(document, key, source, what) is None:
            return None
        return compile_expression(source, self.catalog, functions=self.functions, settings=self.settings, expect=BOOL)


def merge_settings(contents: Iterable[FileContent], compiler: Compiler) -> None:
    where: dict[str, str] = {}
    for content in contents:
        document = content.document
        for name, (value, key) in content.settings.items():
            if name in where:
                compiler.errors.append(
                    document.error(key, f"setting {name!r} is already set at {where[name]}", at_key=True)
                )
                continue
            line, _ = document.key_position(key)
            where[name] = f"{document.path}:{line}"
            compiler.settings[name] = value


def compile_rules(contents: Iterable[FileContent], compiler: Compiler) -> dict[str, CompiledRule]:
    """Compile every rule; duplicate ids are reported at each place and neither copy is kept."""
    places: dict[str, list[tuple[YamlDocument, Key]]] = {}
    for content in contents:
        for read in content.rules:
            places.setdefault(read.spec.id, []).append((content.document, read.key))
    for rule_id, found in places.items():
        if len(found) > 1:
            for document, key in found:
                others = [f"{d.path}:{d.position(k)[0]}" for d, k in found if (d, k) != (document, key)]
                compiler.errors.append(
                    document.error((*key, "id"), f"duplicate rule id {rule_id!r} (also defined at {', '.join(others)})")
                )
    compiled: dict[str, CompiledRule] = {}
    for content in contents:
        for read in content.rules:
            if len(places[read.spec.id]) == 1 and content.pack is not None:
                rule = _compile_rule(content, read, compiler)
                if rule is not None:
                    compiled[rule.id] = rule
    return compiled


def _compile_rule(content: FileContent, read: ReadRule, compiler: Compiler) -> CompiledRule | None:
    document, spec, key = content.document, read.spec, read.key
    before = len(compiler.errors)
    applies = None
    if spec.applies.strip() != "true":
        applies = compiler.expression(document, (*key, "applies"), spec.applies, "applies")
    check = compiler.expression(document, (*key, "check"), spec.check, "check")
    owner_fact = _owner_fact(document, key, spec.owner, compiler)
    template_facts = _check_templates(document, key, read, compiler)
    _check_example_facts(document, key, spec.examples, compiler)
    if check is None or len(compiler.errors) > before:
        return None
    uses_today = check.uses_today or (applies is not None and applies.uses_today)
    fn, python = compile_outcome(applies, check, OUTCOMES, functions=compiler.functions)
    evidence: list[str] = []
    for name in [
        *(applies.facts if applies else ()),
        *check.facts,
        *([owner_fact] if owner_fact else []),
        *template_facts,
    ]:
        if name not in evidence:
            evidence.append(name)
    assert content.pack is not None
    rule = Rule(
        **spec.model_dump(exclude={"actions", "examples"}),
        examples=spec.examples,
        pack=content.pack,
        actions=read.actions,
    )
    rule.located(*spec.location)
    return CompiledRule(rule, fn, tuple(evidence), owner_fact, uses_today, python)


def _owner_fact(document: YamlDocument, key: Key, owner: str, compiler: Compiler) -> str | None:
    catalog = compiler.catalog
    if owner in catalog:
        if catalog[owner].type is not FactType.STRING:
            compiler.errors.append(
                document.error(
                    (*key, "owner"),
                    f"owner fact {owner!r} is a {catalog[owner].type.value}; it must hold a person (string)",
                )
            )
        return owner
    hint = catalog.did_you_mean(owner)
    if owner != PMO_LEAD and hint and catalog[hint].type is FactType.STRING:
        compiler.errors.append(
            document.error(
                (*key, "owner"),
                f"owner {owner!r} is not a fact (did you mean {hint!r}?); a fixed owner must not look like a fact name",
            )
        )
    return None


def _check_templates(document: YamlDocument, key: Key, read: ReadRule, compiler: Compiler) -> list[str]:
    used: list[str] = []
    for index, action in enumerate(read.actions):
        for name in action.template_fields:
            field_key = (*key, "actions", index, name)
            text = getattr(action, name)
            try:
                parts = parse_template(text)
            except TemplateError as exc:
                line, col = _template_position(document, field_key, exc.offset)
                compiler.errors.append(RuleFileError(path=document.path, line=line, col=col, message=f"{name}: {exc}"))
                continue
            for message, offset in check_placeholders(parts, compiler.catalog, compiler.settings):
                line, col = _template_position(document, field_key, offset)
                compiler.errors.append(
                    RuleFileError(path=document.path, line=line, col=col, message=f"{name}: {message}")
                )
            used += facts_used(parts)
    return used


def _template_position(document: YamlDocument, key: Key, offset: int) -> tuple[int, int]:
    if key in document.values:
        return document.expression_position(key, offset)
    return document.position(key)  # a default template, not written in the file


def _check_example_facts(document: YamlDocument, key: Key, examples: Iterable[Any], compiler: Compiler) -> None:
    catalog = compiler.catalog
    for index, example in enumerate(examples):
        for name, value in example.facts.items():
            fact_key = (*key, "examples", index, "facts", name)
            if name not in catalog:
                compiler.errors.append(
                    document.error(fact_key, f"example {example.name!r}: {catalog.unknown_message(name)}", at_key=True)
                )
                continue
            try:
                catalog[name].coerce(value)
            except ValueError as exc:
                compiler.errors.append(document.error(fact_key, f"example {example.name!r}: {exc}"))


def compile_gates(
    contents: Iterable[FileContent], known_rules: set[str], compiler: Compiler
) -> dict[LifecycleGate, CompiledGate]:
    gates: dict[LifecycleGate, CompiledGate] = {}
    where: dict[LifecycleGate, str] = {}
    for content in contents:
        document = content.document
        for spec, key in content.gates:
            if spec.gate in where:
                compiler.errors.append(
                    document.error((*key, "gate"), f"gate {spec.gate.value!r} is already defined at {where[spec.gate]}")
                )
                continue
            where[spec.gate] = f"{document.path}:{document.position(key)[0]}"
            before = len(compiler.errors)
            _check_gate_references(document, key, spec, known_rules, compiler)
            kill = compiler.compiled(document, (*key, "kill"), spec.kill, "kill") if spec.kill is not None else None
            _check_example_facts(document, key, spec.examples, compiler)
            if len(compiler.errors) == before:
                gates[spec.gate] = CompiledGate(spec, kill)
    return gates


def _check_gate_references(
    document: YamlDocument, key: Key, spec: GateSpec, known_rules: set[str], compiler: Compiler
) -> None:
    seen: set[str] = set()
    references = [((*key, "must_meet", i), rule_id) for i, rule_id in enumerate(spec.must_meet)]
    references += [((*key, "should_meet", i, "rule"), c.rule) for i, c in enumerate(spec.should_meet)]
    for ref_key, rule_id in references:
        if rule_id not in known_rules:
            suffix = did_you_mean(rule_id, sorted(known_rules))
            compiler.errors.append(
                document.error(ref_key, f"gate {spec.gate.value!r} names unknown rule {rule_id!r}{suffix}")
            )
        elif rule_id in seen:
            compiler.errors.append(
                document.error(ref_key, f"rule {rule_id!r} is listed twice in gate {spec.gate.value!r}")
            )
        seen.add(rule_id)


def check_waivers(
    contents: Iterable[FileContent], known_rules: set[str], today: dt.date, compiler: Compiler
) -> list[Waiver]:
    waivers: list[Waiver] = []
    where: dict[tuple[str, str], str] = {}
    for content in contents:
        document = content.document
        for waiver, key in content.waivers:
            if waiver.rule not in known_rules:
                suffix = did_you_mean(waiver.rule, sorted(known_rules))
                compiler.errors.append(
                    document.error((*key, "rule"), f"waiver names unknown rule {waiver.rule!r}{suffix}")
                )
                continue
            pair = (waiver.rule, waiver.project)
            if pair in where:
                compiler.errors.append(
                    document.error(key, f"{waiver.project} already has a waiver for {waiver.rule!r} at {where[pair]}")
                )
                continue
            where[pair] = f"{document.path}:{document.position(key)[0]}"
            if not waiver.active(today):
                warning = document.error(
                    (*key, "expires"),
                    f"waiver of {waiver.rule!r} for {waiver.project} expired on {waiver.expires} and no longer applies",
                )
                compiler.warnings.append(warning.model_copy(update={"severity": "warning"}))
            waivers.append(waiver)
    return waivers
