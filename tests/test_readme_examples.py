"""The README's examples are real: its expressions compile against the fact catalog, its rule example and
its config example load."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pmo_gates.config import parse_settings
from pmo_gates.rules.expr import compile_expression
from pmo_gates.rules.expr.types import BOOL
from pmo_gates.rules.facts.registry import default_catalog
from pmo_gates.rules.loader import load_rule_set

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize(
    "line", [line.split("  #")[0].strip() for line in blocks("text")[0].splitlines() if line.strip()]
)
def test_readme_expressions_compile(line: str) -> None:
    compiled = compile_expression(line, default_catalog(), expect=BOOL)
    assert compiled is not None


def test_readme_config_example_loads() -> None:
    (config,) = [b for b in blocks("yaml") if b.startswith("jira:")]
    settings = parse_settings(config, "README.md")
    assert settings.schedules.timezone == "Europe/Berlin" and settings.facts.default_hourly_rate == 95


def test_readme_rule_example_validates(tmp_path: Path) -> None:
    (rule,) = [b for b in blocks("yaml") if "rules:\n  - id: project-on-schedule" in b]
    path = tmp_path / "schedule.yaml"
    path.write_text(rule, encoding="utf-8")
    rule_set = load_rule_set([path], default_catalog())
    assert "project-on-schedule" in rule_set.rules
