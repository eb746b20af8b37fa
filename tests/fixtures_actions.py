"""Helpers for the review and corrective-action tests: a small rule set written as a PMO would, and
settings pointing at a sandbox."""

from __future__ import annotations

from pathlib import Path

from pmo_gates.config import Settings
from pmo_gates.rules.facts.registry import default_catalog
from pmo_gates.rules.loader import load_rule_set
from pmo_gates.rules.ruleset import RuleSet

RULES = """\
pack: establishment
rules:
  - id: charter-approved
    title: Project has an approved charter
    description: Every project needs a charter.
    check: "has_charter"
    severity: high
    rollout: mandatory
    owner: project_manager_id
    due_days: 14
    actions:
      - type: ticket
        summary: "[PMO] {project}: link the approved project charter"
        description: "{project} has no approved charter (phase {facts.phase}). Link it by {due_date}."
  - id: manager-named
    title: A project manager is named
    check: "has_project_manager"
    severity: critical
    rollout: advisory
    actions:
      - type: comment
        body: "{project}: please name a project manager."
  - id: budget-approved
    title: Budget approved
    check: "has_approved_budget"
    severity: low
    rollout: shadow
gates:
  - gate: planning
    must_meet: [charter-approved]
    should_meet:
      - {rule: manager-named, weight: 2}
    thresholds: {go: 80, conditional_go: 50}
"""


def rule_set(tmp_path: Path, text: str = RULES) -> RuleSet:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return load_rule_set([path], default_catalog(), check_examples=False)


def facts(**projects: dict) -> dict[str, dict]:
    base = {"phase": "planning", "current_gate": "planning", "has_charter": True, "has_project_manager": True,
            "has_approved_budget": True, "project_manager_id": None}  # fmt: skip
    return {key: {**base, **values} for key, values in projects.items()}


def settings(url: str = "http://jira.invalid", **actions) -> Settings:
    return Settings.model_validate(
        {
            "jira": {"url": url, "auth": {"token_env": "PMO_GATES_TEST_TOKEN"}},
            "portfolio": {"projects": ["ALPHA"]},
            "actions": actions,
        }
    )
