"""Evaluate two rule sets on the same facts (computed once from the store) and compare them.

The head rule set is the config's (``rules.paths``, else the shipped packs, plus ``rules.waivers``); the
base is the same paths at a git ref, or other folders. Both use the config's enabled packs and date.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from pmo_gates.config import Settings
from pmo_gates.impact.compare import ImpactReport, compare
from pmo_gates.impact.git_rules import ImpactError, paths_at_ref
from pmo_gates.rules.errors import RuleFileErrors
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.rules.loader import load_rule_set, shipped_packs
from pmo_gates.rules.ruleset import RuleSet
from pmo_gates.store import Store


def configured_paths(settings: Settings) -> list[Path]:
    return [*(settings.rules.paths or shipped_packs()), *settings.rules.waivers]


def load_rules(paths: list[Path], settings: Settings, today: date, what: str) -> RuleSet:
    from pmo_gates.rules.facts.registry import default_catalog

    if not paths:
        raise ImpactError(f"{what}: no rule files found")
    try:
        return load_rule_set(
            paths, default_catalog(), enabled_packs=settings.rules.enabled_packs, today=today, check_examples=False
        )
    except RuleFileErrors as exc:
        first = "\n".join(str(e) for e in exc.errors[:5])
        raise ImpactError(f"{what} rules do not load:\n{first}") from None


def rules_impact(
    settings: Settings,
    store: Store,
    *,
    base_ref: str | None = None,
    base_dirs: list[Path] | None = None,
    head_dirs: list[Path] | None = None,
    today: date | None = None,
) -> ImpactReport:
    """What changes between the base rules (``base_ref`` or ``base_dirs``) and the head rules (``head_dirs``,
    default the config's) for every project in the store."""
    from pmo_gates.rules.facts import compute_facts

    if (base_ref is None) == (base_dirs is None):
        raise ImpactError("give the base rules as a git ref (--base) or as folders (--base-dir), one of the two")
    today = today or settings.today or date.today()
    head_paths = head_dirs or configured_paths(settings)
    head = load_rules(head_paths, settings, today, "head")
    with tempfile.TemporaryDirectory(prefix="pmo-gates-impact-") as tmp:
        if base_ref is not None:
            base_paths = paths_at_ref(
                configured_paths(settings) if head_dirs is None else head_dirs, base_ref, Path(tmp)
            )
            base_name = base_ref
        else:
            base_paths = list(base_dirs or [])
            base_name = ", ".join(str(p) for p in base_paths)
        base = load_rules(base_paths, settings, today, f"base ({base_name})")
    facts = compute_facts(store, today=today, params=settings.fact_params())
    return compare(
        evaluate(base, facts, today=today),
        evaluate(head, facts, today=today),
        base,
        head,
        base_name=base_name,
        head_name=", ".join(str(p) for p in head_paths) if head_dirs else "working tree",
    )
