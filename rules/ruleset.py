"""The loaded, compiled, ready-to-evaluate form of a set of rule files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pmo_gates.rules.actions import RenderedAction
from pmo_gates.rules.catalog import FactCatalog
from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.expr import CompiledExpression
from pmo_gates.rules.models import GateSpec, LifecycleGate, Outcome, Pack, Rule, Waiver
from pmo_gates.rules.results import Finding

PMO_LEAD = "pmo_lead"


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its applies/check compiled into one function of a project's facts."""

    rule: Rule
    outcome_fn: Callable[[Mapping[str, Any], dt.date | None], Outcome]
    evidence_facts: tuple[str, ...]  # applies, check, owner and template facts
    owner_fact: str | None  # set when the owner is a fact holding a person
    uses_today: bool
    python: str  # generated source, for debugging

    @property
    def id(self) -> str:
        return self.rule.id

    def outcome(self, facts: Mapping[str, Any], today: dt.date) -> Outcome:
        return self.outcome_fn(facts, today)

    def owner(self, facts: Mapping[str, Any]) -> str:
        if self.owner_fact is None:
            return self.rule.owner
        value = facts.get(self.owner_fact)
        return value if isinstance(value, str) and value else PMO_LEAD

    def render_actions(
        self, finding: Finding, *, today: dt.date | None = None, settings: Mapping[str, Any] | None = None
    ) -> list[RenderedAction]:
        """The rule's actions with templates filled from ``finding`` (its evidence holds every template fact)."""
        rule = self.rule
        context = {
            "project": finding.project_key,
            "owner": finding.owner,
            "due_date": finding.due_date,
            "today": today,
            "outcome": finding.outcome.value,
            "rule": {
                name: str(getattr(rule, name)) for name in ("id", "title", "description", "severity", "rollout", "pack")
            },
            "facts": finding.evidence,
            "settings": dict(settings or {}),
        }
        return [action.render(context) for action in rule.actions]


@dataclass(frozen=True)
class CompiledGate:
    spec: GateSpec
    kill: CompiledExpression | None


@dataclass(frozen=True)
class RuleSet:
    """Every rule, gate, waiver and setting from the loaded files; evaluate with :func:`evaluate`."""

    catalog: FactCatalog
    rules: dict[str, CompiledRule]  # all loaded rules by id, in file order, enabled packs or not
    gates: dict[LifecycleGate, CompiledGate]
    waivers: list[Waiver]
    settings: dict[str, Any]
    enabled_packs: frozenset[Pack]
    files: tuple[str, ...]
    digest: str  # sha256 over the files' paths and contents
    warnings: list[RuleFileError] = field(default_factory=list)

    def enabled_rules(self) -> list[CompiledRule]:
        return [r for r in self.rules.values() if r.rule.pack in self.enabled_packs]

    def is_enabled(self, rule_id: str) -> bool:
        compiled = self.rules.get(rule_id)
        return compiled is not None and compiled.rule.pack in self.enabled_packs

    def rule(self, rule_id: str) -> Rule:
        return self.rules[rule_id].rule

    def counts(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "rules": len(self.rules),
            "enabled_rules": len(self.enabled_rules()),
            "gates": len(self.gates),
            "waivers": len(self.waivers),
            "examples": sum(len(r.rule.examples) for r in self.rules.values())
            + sum(len(g.spec.examples) for g in self.gates.values()),
            "warnings": len(self.warnings),
        }
