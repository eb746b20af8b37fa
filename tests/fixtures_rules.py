"""Helpers for the rule-language tests: a hand-built fact catalog and rule-file writers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pmo_gates.rules.catalog import FactCatalog, FactSpec, FactType
from pmo_gates.rules.errors import RuleFileErrors
from pmo_gates.rules.loader import load_rule_set
from pmo_gates.rules.ruleset import RuleSet

PHASES = ("initiation", "planning", "execution", "closure", "closed")
GATES = ("initiation", "planning", "execution", "closure")
TODAY = dt.date(2026, 11, 20)


def spec(name: str, kind: FactType, **extra: Any) -> FactSpec:
    return FactSpec(name=name, type=kind, description=f"test fact {name}", **extra)


CATALOG = FactCatalog(
    [
        spec("phase", FactType.STRING, choices=PHASES),
        spec("current_gate", FactType.STRING, choices=GATES),
        spec("project_manager", FactType.STRING),
        spec("has_charter", FactType.BOOL, nullable=False),
        spec("has_project_manager", FactType.BOOL, nullable=False),
        spec("spi", FactType.NUMBER),
        spec("cpi", FactType.NUMBER),
        spec("budget", FactType.NUMBER),
        spec("eac", FactType.NUMBER),
        spec("open_blockers", FactType.INTEGER, nullable=False),
        spec("schedule_slip_days", FactType.INTEGER),
        spec("strategic_value", FactType.NUMBER),
        spec("planned_start", FactType.DATE),
        spec("planned_end", FactType.DATE),
        spec("blocked_issue_keys", FactType.STRING_LIST),
    ]
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(paths: list[Path | str], **options: Any) -> RuleSet:
    options.setdefault("today", TODAY)
    return load_rule_set(paths, options.pop("catalog", CATALOG), **options)


def load_errors(paths: list[Path | str], **options: Any) -> list[str]:
    """The error lines ``path:line:col: message`` loading ``paths`` raises (fails if it loads)."""
    try:
        load(paths, **options)
    except RuleFileErrors as exc:
        return [str(error) for error in exc.errors]
    raise AssertionError("expected the rule files to be rejected")


RULE = """\
pack: establishment
rules:
  - id: charter-approved
    title: Project has a charter
    seed: "000: Handle project initiation"
    applies: "phase != 'closed'"
    check: "has_charter"
    severity: high
    rollout: mandatory
    owner: project_manager
    examples:
      - name: with charter
        facts: {phase: planning, has_charter: true}
        expect: pass
      - name: without charter
        facts: {phase: planning, has_charter: false}
        expect: fail
"""
