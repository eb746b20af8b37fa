"""Loading rule files: every kind of mistake is reported at its exact ``path:line:col``, all at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pmo_gates.rules.actions import Action, action_registry
from pmo_gates.rules.models import Outcome, Pack
from tests.fixtures_rules import CATALOG, RULE, TODAY, load, load_errors, write


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # error paths are shown relative to the working directory


def test_valid_file_loads(tmp_path: Path) -> None:
    rule_set = load([write(tmp_path, "rules.yaml", RULE)])
    compiled = rule_set.rules["charter-approved"]
    assert compiled.rule.pack is Pack.ESTABLISHMENT
    assert compiled.rule.location == ("rules.yaml", 3, 5)
    assert compiled.evidence_facts == ("phase", "has_charter", "project_manager")
    assert compiled.outcome({"phase": "planning", "has_charter": False}, TODAY) is Outcome.FAIL


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "pack: establishment\nrules:\n  - id: x\n    title: [unclosed\n")
    assert load_errors([path]) == [
        "broken.yaml:5:1: YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'"
    ]


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "pack: establishment\npack: maturity\n")
    assert load_errors([path]) == ["dup.yaml:2:1: YAML syntax error: duplicate key 'pack'"]


def test_unknown_key_with_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace("    severity: high", "    severty: high"))
    assert load_errors([path]) == [
        "rules.yaml:3:5: missing required key 'severity'",
        "rules.yaml:8:5: unknown key 'severty' (did you mean 'severity'?)",
    ]


def test_unknown_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", "pak: establishment\nrule: []\n")
    assert load_errors([path]) == [
        "rules.yaml:1:1: unknown key 'pak' (did you mean 'pack'?)",
        "rules.yaml:2:1: unknown key 'rule' (did you mean 'rules'?)",
    ]


def test_unknown_key_in_example(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace("        expect: pass", "        expected: pass"))
    assert load_errors([path]) == [
        "rules.yaml:12:9: missing required key 'expect'",
        "rules.yaml:14:9: unknown key 'expected' (did you mean 'expect'?)",
    ]


def test_wrong_types(tmp_path: Path) -> None:
    text = RULE.replace("    severity: high", "    severity: urgent\n    due_days: soon")
    path = write(tmp_path, "rules.yaml", text)
    assert load_errors([path]) == [
        "rules.yaml:8:15: severity: input should be 'info', 'low', 'medium', 'high' or 'critical'",
        "rules.yaml:9:15: due_days: input should be a valid integer",
    ]


def test_missing_pack(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace("pack: establishment\n", ""))
    assert load_errors([path]) == [
        "rules.yaml:1:1: a file with rules needs 'pack: establishment|standardization|maturity'"
    ]


def test_unknown_fact_in_quoted_expression(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace('check: "has_charter"', 'check: "has_chartr && true"'))
    assert load_errors([path]) == ["rules.yaml:7:13: check: unknown fact 'has_chartr' (did you mean 'has_charter'?)"]


def test_unknown_fact_in_plain_and_single_quoted_expressions(tmp_path: Path) -> None:
    text = RULE.replace("applies: \"phase != 'closed'\"", "applies: phase != 'closed' && spii > 1").replace(
        'check: "has_charter"', "check: 'has_charter == ''x'' || cpii > 1'"
    )
    path = write(tmp_path, "rules.yaml", text)
    assert load_errors([path]) == [
        "rules.yaml:6:35: applies: unknown fact 'spii' (did you mean 'spi'?)",
        "rules.yaml:7:25: check: cannot compare bool with string using '=='",
    ]


def test_error_inside_a_block_scalar(tmp_path: Path) -> None:
    block = "check: |\n      has_charter &&\n        cpii > 0.9"
    path = write(tmp_path, "rules.yaml", RULE.replace('check: "has_charter"', block))
    assert load_errors([path]) == ["rules.yaml:9:9: check: unknown fact 'cpii' (did you mean 'cpi'?)"]


def test_error_inside_a_folded_multiline_plain_scalar(tmp_path: Path) -> None:
    text = RULE.replace('check: "has_charter"', "check: has_charter &&\n      spi >\n      nope")
    path = write(tmp_path, "rules.yaml", text)
    assert load_errors([path]) == ["rules.yaml:9:7: check: unknown fact 'nope'"]


def test_type_error_in_expression(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace('check: "has_charter"', "check: \"planned_end > 'soon'\""))
    assert load_errors([path]) == ["rules.yaml:7:25: check: cannot order date and string with '>'"]


def test_check_must_be_a_condition(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace('check: "has_charter"', 'check: "spi * 2"'))
    assert load_errors([path]) == ["rules.yaml:7:13: check: expression must give a bool, but gives a number"]


def test_duplicate_rule_id_reported_at_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", RULE)
    second = write(tmp_path, "b.yaml", RULE)
    assert load_errors([first, second]) == [
        "a.yaml:3:9: duplicate rule id 'charter-approved' (also defined at b.yaml:3)",
        "b.yaml:3:9: duplicate rule id 'charter-approved' (also defined at a.yaml:3)",
    ]


GATES = """\
gates:
  - gate: planning
    must_meet: [charter-approved, charter-aproved]
    should_meet:
      - {rule: spi-on-track, weight: 2}
"""


def test_gate_naming_unknown_rules(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULE)
    gates = write(tmp_path, "gates.yaml", GATES)
    assert load_errors([rules, gates]) == [
        "gates.yaml:3:35: gate 'planning' names unknown rule 'charter-aproved' (did you mean 'charter-approved'?)",
        "gates.yaml:5:16: gate 'planning' names unknown rule 'spi-on-track'",
    ]


def test_waiver_for_unknown_rule_is_an_error(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULE)
    waivers = write(
        tmp_path,
        "waivers.yaml",
        "waivers:\n  - rule: charter-aproved\n    project: OPS\n    approver: pmo\n"
        "    reason: r\n    expires: 2027-01-01\n",
    )
    assert load_errors([rules, waivers]) == [
        "waivers.yaml:2:11: waiver names unknown rule 'charter-aproved' (did you mean 'charter-approved'?)"
    ]


def test_expired_waiver_is_a_warning_not_an_error(tmp_path: Path) -> None:
    rules = write(tmp_path, "rules.yaml", RULE)
    waivers = write(
        tmp_path,
        "waivers.yaml",
        "waivers:\n  - rule: charter-approved\n    project: OPS\n    approver: pmo\n    reason: r\n"
        "    expires: 2026-11-19\n",
    )
    rule_set = load([rules, waivers], today=TODAY)
    assert [str(w) for w in rule_set.warnings] == [
        "waivers.yaml:6:14: warning: waiver of 'charter-approved' for OPS expired on 2026-11-19 and no longer applies"
    ]
    assert load([rules, waivers], today=dt.date(2026, 11, 19)).warnings == []  # the last day still counts


def test_example_contradicting_the_check(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace("        expect: fail", "        expect: pass"))
    assert load_errors([path]) == ["rules.yaml:15:9: example 'without charter' expects pass but the check fails"]


def test_example_with_unknown_fact_and_bad_value(tmp_path: Path) -> None:
    text = RULE.replace("facts: {phase: planning, has_charter: false}", "facts: {phase: planing, has_chartr: false}")
    path = write(tmp_path, "rules.yaml", text)
    assert load_errors([path]) == [
        "rules.yaml:16:24: example 'without charter': fact 'phase' must be one of "
        "['initiation', 'planning', 'execution', 'closure', 'closed'], got 'planing'",
        "rules.yaml:16:33: example 'without charter': unknown fact 'has_chartr' (did you mean 'has_charter'?)",
    ]


def test_example_of_a_rule_using_today_needs_a_date(tmp_path: Path) -> None:
    text = RULE.replace('check: "has_charter"', 'check: "planned_end > today()"')
    path = write(tmp_path, "rules.yaml", text)
    assert load_errors([path]) == [
        "rules.yaml:12:9: example 'with charter' needs 'today:' (the rule uses today())",
        "rules.yaml:15:9: example 'without charter' needs 'today:' (the rule uses today())",
    ]


def test_invalid_template_placeholders(tmp_path: Path) -> None:
    actions = (
        '    actions:\n      - type: ticket\n        summary: "{project}: {facts.__class__}"\n'
        '        description: "SPI {facts.sip} for {rule.owner}"\n'
    )
    path = write(tmp_path, "rules.yaml", RULE.replace("    examples:\n", actions + "    examples:\n", 1))
    errors = load_errors([path])
    assert errors[0] == (
        "rules.yaml:13:30: summary: invalid placeholder {facts.__class__}: use names like {project} or {facts.spi}"
    )
    assert errors[1] == "rules.yaml:14:27: description: template placeholder {facts.sip}: unknown fact 'sip'"
    assert errors[2].startswith("rules.yaml:14:43: description: unknown template placeholder {rule.owner}")


def test_unknown_action_type_and_bad_action_fields(tmp_path: Path) -> None:
    actions = "    actions:\n      - type: tickt\n      - type: ticket\n        labels: [needs review]\n"
    path = write(tmp_path, "rules.yaml", RULE.replace("    examples:\n", actions + "    examples:\n", 1))
    assert load_errors([path]) == [
        "rules.yaml:12:15: unknown action type 'tickt' (did you mean 'ticket'?)",
        "rules.yaml:14:17: Jira labels cannot contain spaces: 'needs review'",
    ]


def test_owner_that_looks_like_a_misspelt_fact(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE.replace("owner: project_manager", "owner: project_manger"))
    assert load_errors([path]) == [
        "rules.yaml:10:12: owner 'project_manger' is not a fact (did you mean 'project_manager'?); "
        "a fixed owner must not look like a fact name"
    ]


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    bad_rule = RULE.replace('check: "has_charter"', 'check: "nope"').replace("severity: high", "severity: huge")
    first = write(tmp_path, "a.yaml", bad_rule)
    second = write(tmp_path, "b.yaml", "pack: establishment\nrules: {}\n")
    third = write(tmp_path, "c.yaml", "gates:\n  - gate: nowhere\n")
    errors = load_errors([first, second, third])
    assert [e.split(": ")[0] for e in errors] == ["a.yaml:8:15", "b.yaml:2:8", "c.yaml:2:11"]


def test_missing_path(tmp_path: Path) -> None:
    assert load_errors([tmp_path / "nowhere"]) == ["nowhere:1:1: no such file or folder"]


def test_settings_are_used_by_expressions_and_must_not_clash(tmp_path: Path) -> None:
    text = RULE.replace("rules:\n", "settings:\n  spi_floor: 0.9\nrules:\n").replace(
        'check: "has_charter"', 'check: "spi >= settings.spi_floor"'
    )
    text = text.replace("{phase: planning, has_charter: true}", "{phase: planning, spi: 1}")
    text = text.replace("{phase: planning, has_charter: false}", "{phase: planning, spi: 0.5}")
    path = write(tmp_path, "rules.yaml", text)
    assert load([path]).settings == {"spi_floor": 0.9}
    other = write(tmp_path, "other.yaml", "settings:\n  spi_floor: 0.8\n")
    assert load_errors([path, other]) == ["other.yaml:2:3: setting 'spi_floor' is already set at rules.yaml:3"]


def test_folders_skip_yaml_of_another_kind(tmp_path: Path) -> None:
    write(tmp_path, "rules/a.yaml", RULE)
    write(tmp_path, "rules/playbooks/rca.yaml", "kind: rca-playbook\ndetection: {}\n")
    assert load([tmp_path / "rules"]).files == ("rules/a.yaml",)
    assert load_errors([tmp_path / "rules/playbooks/rca.yaml"]) == [
        "rules/playbooks/rca.yaml:1:7: not a rule file (kind: rca-playbook); expected kind: rules"
    ]


def test_enabled_packs_select_rules_but_all_are_validated(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULE)
    rule_set = load([path], enabled_packs=["maturity"])
    assert rule_set.enabled_rules() == [] and "charter-approved" in rule_set.rules
    with pytest.raises(ValueError):
        load([path], enabled_packs=["excellence"])


def test_custom_action_type(tmp_path: Path) -> None:
    from typing import ClassVar, Literal

    registry = action_registry.copy()

    @registry.register("email")
    class EmailAction(Action):
        type: Literal["email"] = "email"
        to: str
        body: str
        template_fields: ClassVar[tuple[str, ...]] = ("body",)

    actions = '    actions:\n      - {type: email, to: pmo@example.com, body: "{project} lacks a charter"}\n'
    path = write(tmp_path, "rules.yaml", RULE.replace("    examples:\n", actions + "    examples:\n", 1))
    rule_set = load([path], actions=registry)
    assert isinstance(rule_set.rules["charter-approved"].rule.actions[0], EmailAction)
    assert "unknown action type 'email'" in load_errors([path])[0]  # the default registry lacks it


def test_catalog_fixture_matches_contract() -> None:
    assert CATALOG.did_you_mean("schedule_slip") == "schedule_slip_days"


def test_gates_need_the_current_gate_fact(tmp_path: Path) -> None:
    from pmo_gates.rules.catalog import FactCatalog

    catalog = FactCatalog(spec for name, spec in CATALOG.items() if name != "current_gate")
    rules = write(tmp_path, "rules.yaml", RULE)
    gates = write(tmp_path, "gates.yaml", "gates:\n  - gate: planning\n    must_meet: [charter-approved]\n")
    assert load_errors([rules, gates], catalog=catalog) == [
        "gates.yaml:1:1: gates need the fact 'current_gate' in the catalog"
    ]
