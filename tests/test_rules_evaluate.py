"""Evaluation: findings, waivers, fingerprints, evidence, owners and gate decisions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pmo_gates.rules.evaluate import evaluate
from pmo_gates.rules.fingerprints import fingerprint, period_of
from pmo_gates.rules.models import Decision, Outcome, Recurrence, Waiver
from pmo_gates.rules.results import Evaluation
from pmo_gates.rules.ruleset import RuleSet
from tests.fixtures_rules import TODAY, load, write

RULES = """\
pack: establishment
settings:
  spi_floor: 0.9
rules:
  - id: charter-approved
    title: Project has a charter
    description: Charter on the PMO template.
    applies: "phase != 'closed'"
    check: "has_charter"
    severity: high
    rollout: mandatory
    owner: project_manager
    due_days: 7
    actions:
      - type: ticket
        summary: "[PMO] {project}: charter missing ({facts.phase}, due {due_date})"
        description: "Owner {owner}; budget {facts.budget}; floor {settings.spi_floor}; {rule.title}"
  - id: spi-on-track
    title: SPI at or above the floor
    applies: "phase == 'execution'"
    check: "spi >= settings.spi_floor"
    severity: medium
    rollout: advisory
    recurrence: monthly
  - id: shadow-trial
    title: Trial rule in shadow mode
    check: "open_blockers == 0"
    severity: low
    rollout: shadow
    owner: pmo.lead@example.com
gates:
  - gate: execution
    must_meet: [charter-approved]
    should_meet:
      - {rule: spi-on-track, weight: 3}
      - {rule: shadow-trial, weight: 5}
    thresholds: {go: 80, conditional_go: 50}
    on_must_meet_fail: hold
    on_low_score: recycle
    kill: "cpi < 0.5 && strategic_value < 3"
waivers:
  - rule: charter-approved
    project: WAIVED
    approver: cfo@example.com
    reason: Charter replaced by the programme charter.
    expires: 2026-12-31
  - rule: charter-approved
    project: EXPIRED
    approver: cfo@example.com
    reason: Old exception.
    expires: 2026-10-01
"""

GOOD = {"phase": "execution", "current_gate": "execution", "has_charter": True, "spi": 0.95,
        "open_blockers": 0, "project_manager": "Ada", "cpi": 1.0, "strategic_value": 5}  # fmt: skip


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def rule_set(tmp_path: Path) -> RuleSet:
    return load([write(tmp_path, "rules.yaml", RULES)])


def by_key(evaluation, rule_id: str, project: str):  # type: ignore[no-untyped-def]
    return next(f for f in evaluation.findings if f.rule_id == rule_id and f.project_key == project)


def test_findings_per_rule_and_project(rule_set: RuleSet) -> None:
    facts = {"GOOD": GOOD, "BAD": {**GOOD, "has_charter": False, "spi": 0.5, "budget": 1200.5}}
    evaluation = evaluate(rule_set, facts, today=TODAY)
    assert [(f.project_key, f.rule_id, f.outcome) for f in evaluation.findings] == [
        ("BAD", "charter-approved", Outcome.FAIL),
        ("BAD", "spi-on-track", Outcome.FAIL),
        ("BAD", "shadow-trial", Outcome.PASS),
        ("GOOD", "charter-approved", Outcome.PASS),
        ("GOOD", "spi-on-track", Outcome.PASS),
        ("GOOD", "shadow-trial", Outcome.PASS),
    ]
    bad = by_key(evaluation, "charter-approved", "BAD")
    assert bad.evidence == {"phase": "execution", "has_charter": False, "project_manager": "Ada", "budget": 1200.5}
    assert bad.owner == "Ada" and bad.due_date == TODAY + dt.timedelta(days=7)
    assert bad.fingerprint == fingerprint("charter-approved", "BAD") and bad.period is None
    assert by_key(evaluation, "charter-approved", "GOOD").due_date is None
    assert evaluation.rule_set_digest == rule_set.digest


def test_unknown_and_not_applicable(rule_set: RuleSet) -> None:
    facts = {"NEW": {"phase": "planning", "has_charter": True}, "BLANK": {}}
    evaluation = evaluate(rule_set, facts, today=TODAY)
    assert by_key(evaluation, "spi-on-track", "NEW").outcome is Outcome.NOT_APPLICABLE
    assert by_key(evaluation, "spi-on-track", "BLANK").outcome is Outcome.UNKNOWN  # phase unknown
    assert by_key(evaluation, "charter-approved", "BLANK").outcome is Outcome.UNKNOWN
    assert by_key(evaluation, "charter-approved", "BLANK").owner == "pmo_lead"  # no manager known
    assert by_key(evaluation, "shadow-trial", "BLANK").owner == "pmo.lead@example.com"


def test_wrong_fact_types_give_unknown_with_the_error(rule_set: RuleSet) -> None:
    evaluation = evaluate(rule_set, {"ODD": {**GOOD, "spi": "high"}}, today=TODAY)
    finding = by_key(evaluation, "spi-on-track", "ODD")
    assert finding.outcome is Outcome.UNKNOWN and finding.error is not None and "TypeError" in finding.error


def test_recurring_rules_fingerprint_per_period(rule_set: RuleSet) -> None:
    november = by_key(evaluate(rule_set, {"P": GOOD}, today=TODAY), "spi-on-track", "P")
    december = by_key(evaluate(rule_set, {"P": GOOD}, today=dt.date(2026, 12, 1)), "spi-on-track", "P")
    assert (november.period, december.period) == ("2026-11", "2026-12")
    assert november.fingerprint != december.fingerprint
    assert period_of(Recurrence.WEEKLY, dt.date(2026, 1, 1)) == "2026-W01"
    assert period_of(Recurrence.WEEKLY, dt.date(2027, 1, 1)) == "2026-W53"
    assert fingerprint("a", "P") == fingerprint("a", "P") != fingerprint("a", "Q")


def test_waivers_cover_failures_until_they_expire(rule_set: RuleSet) -> None:
    failing = {**GOOD, "has_charter": False}
    facts = {"WAIVED": failing, "EXPIRED": failing, "OTHER": failing}
    evaluation = evaluate(rule_set, facts, today=TODAY)
    waived = by_key(evaluation, "charter-approved", "WAIVED")
    assert waived.outcome is Outcome.WAIVED and waived.waived_outcome is Outcome.FAIL
    assert waived.waiver is not None and waived.waiver.approver == "cfo@example.com"
    assert waived.waiver.location == "rules.yaml:42"
    assert by_key(evaluation, "charter-approved", "EXPIRED").outcome is Outcome.FAIL
    assert evaluation.warnings == ["rules.yaml:47: waiver of 'charter-approved' for EXPIRED expired on 2026-10-01"]
    after = evaluate(rule_set, {"WAIVED": failing}, today=dt.date(2027, 1, 1))
    assert by_key(after, "charter-approved", "WAIVED").outcome is Outcome.FAIL
    passing = evaluate(rule_set, {"WAIVED": GOOD}, today=TODAY)
    assert by_key(passing, "charter-approved", "WAIVED").outcome is Outcome.PASS  # nothing to waive


def test_explicit_waivers_replace_the_files(rule_set: RuleSet) -> None:
    extra = Waiver(rule="spi-on-track", project="P", approver="x", reason="y", expires=dt.date(2027, 1, 1))
    evaluation = evaluate(rule_set, {"P": {**GOOD, "spi": 0.1}}, today=TODAY, waivers=[extra])
    assert by_key(evaluation, "spi-on-track", "P").outcome is Outcome.WAIVED


def test_gate_decisions(rule_set: RuleSet) -> None:
    facts = {
        "GO": GOOD,
        "SLOW": {**GOOD, "spi": 0.5},
        "NOCHARTER": {**GOOD, "has_charter": False},
        "DOOMED": {**GOOD, "cpi": 0.3, "strategic_value": 1},
        "PLANNING": {**GOOD, "current_gate": "planning"},  # no planning gate defined
    }
    results = {r.project_key: r for r in evaluate(rule_set, facts, today=TODAY).gate_results}
    assert set(results) == {"GO", "SLOW", "NOCHARTER", "DOOMED"}
    assert (results["GO"].decision, results["GO"].score) == (Decision.GO, 100.0)
    assert (results["SLOW"].decision, results["SLOW"].score) == (Decision.RECYCLE, 0.0)
    assert results["SLOW"].reasons == ["score 0 is below 50; missed: spi-on-track"]
    assert results["NOCHARTER"].decision is Decision.HOLD
    assert results["NOCHARTER"].reasons == ["must-meet 'charter-approved' failed: Project has a charter"]
    assert results["DOOMED"].decision is Decision.KILL and results["DOOMED"].kill is True
    shadow = results["GO"].should_meet[1]
    assert (shadow.rule_id, shadow.counted, shadow.note) == (
        "shadow-trial",
        False,
        "shadow rollout: reported, not counted",
    )


def test_gate_counts_waived_criteria_as_met_and_ignores_disabled_packs(tmp_path: Path) -> None:
    path = write(tmp_path, "rules.yaml", RULES)
    waived = {"WAIVED": {**GOOD, "has_charter": False}}
    [result] = evaluate(load([path]), waived, today=TODAY).gate_results
    assert result.decision is Decision.GO and result.must_meet[0].outcome is Outcome.WAIVED
    disabled = load([path], enabled_packs=["maturity"])
    [result] = evaluate(disabled, {"P": {**GOOD, "has_charter": False}}, today=TODAY).gate_results
    assert result.decision is Decision.GO and result.score == 100.0
    assert result.must_meet[0].note == "pack 'establishment' is not enabled"


def test_unknown_must_meet_blocks_the_gate(rule_set: RuleSet) -> None:
    [result] = evaluate(rule_set, {"P": {"current_gate": "execution"}}, today=TODAY).gate_results
    assert result.decision is Decision.HOLD
    assert result.reasons[0] == "must-meet 'charter-approved' is unknown: Project has a charter"
    assert result.reasons[-1] == "kill condition could not be evaluated (unknown facts)"


def test_evaluation_is_deterministic(rule_set: RuleSet) -> None:
    facts = {key: {**GOOD, "spi": i / 10} for i, key in enumerate(["C", "A", "B"])}
    first = evaluate(rule_set, facts, today=TODAY)
    second = evaluate(rule_set, dict(reversed(list(facts.items()))), today=TODAY)
    assert first.model_dump() == second.model_dump()
    assert [f.project_key for f in first.findings[::3]] == ["A", "B", "C"]


def test_render_actions_fills_templates_from_the_finding(rule_set: RuleSet) -> None:
    compiled = rule_set.rules["charter-approved"]
    facts = {"OPS": {**GOOD, "has_charter": False, "budget": 12000.0}}
    finding = by_key(evaluate(rule_set, facts, today=TODAY), "charter-approved", "OPS")
    [action] = compiled.render_actions(finding, today=TODAY, settings=rule_set.settings)
    assert action.type == "ticket"
    assert action.fields["summary"] == "[PMO] OPS: charter missing (execution, due 2026-11-27)"
    assert action.fields["description"] == "Owner Ada; budget 12000; floor 0.9; Project has a charter"
    assert action.fields["labels"] == ["pmo-gates"]


def _validated_twin(model):  # type: ignore[no-untyped-def]
    """The same result built through pydantic's validation, nested results included."""
    return type(model).model_validate(model.model_dump())


def test_results_built_without_validation_equal_their_validated_twins(rule_set: RuleSet) -> None:
    """Findings and criteria skip per-item validation (``trusted``): each must be exactly what validation
    would have built, for every kind of outcome (waived, expired waiver, unknown with an error, n/a)."""
    failing = {**GOOD, "has_charter": False, "spi": 0.5, "cpi": 0.1, "strategic_value": 1}
    facts = {"GOOD": GOOD, "WAIVED": failing, "EXPIRED": failing, "ODD": {**GOOD, "spi": "high"},
             "NEW": {"phase": "planning", "current_gate": "execution"}, "BLANK": {}}  # fmt: skip
    evaluation = evaluate(rule_set, facts, today=TODAY)
    results = [*evaluation.findings, *evaluation.gate_results]
    results += [c for g in evaluation.gate_results for c in (*g.must_meet, *g.should_meet)]
    assert {f.outcome for f in evaluation.findings} >= {Outcome.PASS, Outcome.FAIL, Outcome.WAIVED, Outcome.UNKNOWN}
    for result in results:
        twin = _validated_twin(result)
        assert twin == result
        assert twin.model_dump_json() == result.model_dump_json()  # same types: 1.0 stays 1.0, enums stay enums
        assert twin.model_fields_set == result.model_fields_set
    assert Evaluation.model_validate(evaluation.model_dump()) == evaluation
