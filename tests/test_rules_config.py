"""``validate``, ``rules test`` and ``schema`` check the rule set a config runs (as ``review`` loads it), and
``validate`` checks the playbooks that run would use."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pmo_gates.actions.run import load_rules
from pmo_gates.config import load_settings
from pmo_gates.rca.playbook import PLAYBOOKS_DIR
from tests.fixtures_rules import RULE, write
from tests.user_errors import assert_user_error

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("in_tmp")
LOCAL = RULE.replace("charter-approved", "local-charter")


def config(tmp_path: Path, rules: str = "", name: str = "team.yaml") -> Path:
    text = (
        "jira: {url: 'https://jira.example.com', auth: {email: a@example.com}}\n"
        "portfolio: {projects: [ALPHA]}\n" + rules
    )
    return write(tmp_path, name, text)


def test_validate_checks_the_configured_rule_set(rules_app: typer.Typer, tmp_path: Path) -> None:
    write(tmp_path, "team-rules/local.yaml", LOCAL)
    write(tmp_path, "rules/ignored.yaml", "this: [is not read")  # ./rules is not what the config runs
    cfg = config(tmp_path, "rules: {paths: [team-rules], enabled_packs: [establishment]}\n")
    result = runner.invoke(rules_app, ["validate", "--config", str(cfg), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)["counts"]
    rule_set = load_rules(load_settings(cfg), dt.date.today())
    assert (counts["files"], counts["rules"]) == (len(rule_set.files), len(rule_set.rules)) == (1, 1)
    # Without --config the same folder's ./rules would be read (and fail): the config decides.
    assert runner.invoke(rules_app, ["validate"]).exit_code == 1


def test_the_default_config_is_used_when_present(rules_app: typer.Typer, tmp_path: Path) -> None:
    write(tmp_path, "team-rules/local.yaml", LOCAL)
    config(tmp_path, "rules: {paths: [team-rules]}\n", name="pmo-gates.yaml")
    result = runner.invoke(rules_app, ["validate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 1 files, 1 rules")


def test_a_broken_playbook_fails_validate(rules_app: typer.Typer, tmp_path: Path) -> None:
    write(tmp_path, "team-rules/local.yaml", LOCAL)
    broken = (PLAYBOOKS_DIR / "rca.yaml").read_text(encoding="utf-8").replace("slip_days: 14", "slip_days: soon")
    assert "soon" in broken
    write(tmp_path, "team-rules/playbooks/rca.yaml", broken)
    cfg = config(tmp_path, "rules: {paths: [team-rules]}\n")
    result = runner.invoke(rules_app, ["validate", "--config", str(cfg)])
    assert result.exit_code == 1
    assert "team-rules/playbooks/rca.yaml:" in result.output and "slip_days" in result.output
    assert result.output.splitlines()[-1] == "1 error"
    data = json.loads(runner.invoke(rules_app, ["validate", "--config", str(cfg), "--json"]).output)
    assert data["ok"] is False and any("rca.yaml" in e for e in data["playbook_errors"])


def test_validate_reports_the_shipped_playbooks_when_none_is_configured(rules_app: typer.Typer, tmp_path: Path) -> None:
    cfg = config(tmp_path)
    result = runner.invoke(rules_app, ["validate", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "OK: playbooks (shipped) rca.yaml, (shipped) priority.yaml"


def test_rules_test_runs_the_configured_rules(rules_app: typer.Typer, tmp_path: Path) -> None:
    write(tmp_path, "team-rules/local.yaml", LOCAL)
    cfg = config(tmp_path, "rules: {paths: [team-rules]}\n")
    result = runner.invoke(rules_app, ["rules", "test", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [str(Path("team-rules/local.yaml")) + " ..", "2 passed, 0 failed"]


def test_schema_offers_the_configured_rule_ids(rules_app: typer.Typer, tmp_path: Path) -> None:
    write(tmp_path, "team-rules/local.yaml", LOCAL)
    cfg = config(tmp_path, "rules: {paths: [team-rules]}\n")
    schema = json.loads(runner.invoke(rules_app, ["schema", "--config", str(cfg)]).output)
    assert schema["definitions"]["Waiver"]["properties"]["rule"]["examples"] == ["local-charter"]
    assert schema["definitions"]["GateSpec"]["properties"]["must_meet"]["items"]["examples"] == ["local-charter"]


def test_a_missing_config_is_one_line(rules_app: typer.Typer, tmp_path: Path) -> None:
    for command in (["validate"], ["rules", "test"], ["schema"]):
        result = runner.invoke(rules_app, [*command, "--config", str(tmp_path / "nope.yaml")])
        assert_user_error(result, "nope.yaml", code=2)
