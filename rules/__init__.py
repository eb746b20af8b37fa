"""pmo-gates rules: the fact catalog, the expression language, rule files, and their evaluation.

    >>> from pmo_gates.rules import evaluate, load_rule_set
    >>> rule_set = load_rule_set(["rules/packs"], catalog)          # raises RuleFileErrors
    >>> evaluation = evaluate(rule_set, facts, today=date(2026, 11, 20))

See docs/rules.md for the file format and the language.
"""

from pmo_gates.rules.catalog import FactCatalog, FactSpec, FactType
from pmo_gates.rules.errors import RuleFileError, RuleFileErrors
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.rules.loader import load_rule_set, shipped_packs
from pmo_gates.rules.models import Decision, LifecycleGate, Outcome, Pack, Rollout, Severity
from pmo_gates.rules.results import CriterionResult, Evaluation, Finding, GateResult
from pmo_gates.rules.ruleset import CompiledRule, RuleSet

__all__ = [
    "CompiledRule",
    "CriterionResult",
    "Decision",
    "Evaluation",
    "FactCatalog",
    "FactSpec",
    "FactType",
    "Finding",
    "GateResult",
    "LifecycleGate",
    "Outcome",
    "Pack",
    "Rollout",
    "RuleFileError",
    "RuleFileErrors",
    "RuleSet",
    "Severity",
    "evaluate",
    "load_rule_set",
    "shipped_packs",
]
