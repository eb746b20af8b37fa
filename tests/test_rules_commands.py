"""`pmo-gates validate`, `rules test` and `schema` through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tests.fixtures_rules import RULE, write

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("in_tmp")


# The real catalog (the facts engineer's) backs the commands; RULE only uses facts it has.
GOOD = RULE
BAD = RULE.replace('check: "has_charter"', 'check: "has_chartr"').replace("severity: high", "severity: huge")
FAILING_EXAMPLE = RULE.replace("        expect: fail", "        expect: pass")


def test_validate_ok(rules_app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", GOOD)
    result = runner.invoke(rules_app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "OK: 1 files, 1 rules (1 enabled), 0 gates, 0 waivers, 2 examples, 0 warnings",
        "OK: playbooks (shipped) rca.yaml, (shipped) priority.yaml",
    ]


def test_validate_reports_every_error(rules_app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", BAD)
    other = write(tmp_path, "other.yaml", FAILING_EXAMPLE.replace("charter-approved", "charter-linked"))
    result = runner.invoke(rules_app, ["validate", str(path), str(other)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "other.yaml:15:9: example 'without charter' expects pass but the check fails",
        "rules.yaml:8:15: severity: input should be 'info', 'low', 'medium', 'high' or 'critical'",
        "2 errors",
    ]


def test_validate_json(rules_app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", BAD)
    result = runner.invoke(rules_app, ["validate", "--json", str(path)])
    payload = json.loads(result.output)
    assert result.exit_code == 1 and payload["ok"] is False
    assert payload["errors"][0] == {
        "path": "rules.yaml",
        "line": 8,
        "col": 15,
        "message": "severity: input should be 'info', 'low', 'medium', 'high' or 'critical'",
        "severity": "error",
    }
    ok = json.loads(runner.invoke(rules_app, ["validate", "--json", str(write(tmp_path, "g.yaml", GOOD))]).output)
    assert ok["ok"] is True and ok["counts"]["rules"] == 1


def test_validate_defaults_to_shipped_packs_and_local_rules(rules_app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(rules_app, ["validate"])
    assert result.exit_code == 0, result.output
    shipped = result.output
    write(tmp_path, "rules/extra.yaml", GOOD.replace("charter-approved", "local-charter"))
    result = runner.invoke(rules_app, ["validate"])
    assert result.exit_code == 0, result.output
    assert shipped.startswith("OK: 4 files") and result.output.startswith("OK: 5 files")


def test_validate_warns_about_expired_waivers(rules_app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", GOOD)
    waivers = write(
        tmp_path,
        "waivers.yaml",
        "waivers:\n  - {rule: charter-approved, project: OPS, approver: a, reason: r, expires: 2026-01-31}\n",
    )
    result = runner.invoke(rules_app, ["validate", str(path), str(waivers), "--today", "2026-02-01"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "waivers.yaml:2:77: warning: waiver of 'charter-approved' for OPS expired on 2026-01-31 and no longer applies"
    )


def test_rules_test_reports_like_pytest(rules_app: typer.Typer, tmp_path: Path) -> None:
    good = write(tmp_path, "a.yaml", GOOD)
    failing = write(tmp_path, "b.yaml", FAILING_EXAMPLE.replace("charter-approved", "charter-linked"))
    bare = write(tmp_path, "c.yaml", "pack: maturity\nrules:\n  - {id: bare, title: B, check: 'true', severity: low}\n")
    result = runner.invoke(rules_app, ["rules", "test", str(good), str(failing), str(bare)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "a.yaml ..",
        "b.yaml .F",
        "c.yaml (no examples)",
        "",
        "==== FAILURES ====",
        "b.yaml:15:9: rule 'charter-linked' example 'without charter'",
        '  facts:    {"has_charter": false, "phase": "planning"}',
        "  expected: pass",
        "  actual:   fail",
        "  example 'without charter' expects pass but the check fails",
        "c.yaml:3:5: rule 'bare' has no examples",
        "3 passed, 1 failed",
    ]


def test_rules_test_json_and_success(rules_app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", GOOD)
    result = runner.invoke(rules_app, ["rules", "test", "--json", str(path)])
    payload = json.loads(result.output)
    assert result.exit_code == 0
    assert (payload["passed"], payload["failed"], payload["rules_without_examples"]) == (2, 0, [])
    assert (payload["results"][0]["path"], payload["results"][0]["line"]) == ("a.yaml", 12)


def test_rules_test_stops_on_load_errors(rules_app: typer.Typer, tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", BAD)
    result = runner.invoke(rules_app, ["rules", "test", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "a.yaml:8:15: severity: input should be 'info', 'low', 'medium', 'high' or 'critical'",
        "1 error",
    ]


def test_shipped_rules_test_passes(rules_app: typer.Typer) -> None:
    result = runner.invoke(rules_app, ["rules", "test"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(" passed, 0 failed")


def test_schema_command(rules_app: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(rules_app, ["schema"])
    schema = json.loads(result.output)
    assert result.exit_code == 0 and schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    runner.invoke(rules_app, ["schema", "--output", "rule-schema.json"])
    assert json.loads((tmp_path / "rule-schema.json").read_text()) == schema
