"""Evaluation: a rule set over many projects' facts into findings and gate results.

Plain functions, no I/O: the same rules, facts, date and waivers always give the same result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from pmo_gates.bulk_gc import fewer_collections
from pmo_gates.rules.fingerprints import fingerprint, period_of
from pmo_gates.rules.gates import GATE_FACT, decide_gate
from pmo_gates.rules.models import LifecycleGate, Outcome, Waiver
from pmo_gates.rules.results import Evaluation, Finding, GateResult, WaiverRef
from pmo_gates.rules.ruleset import CompiledRule, RuleSet

WAIVABLE = (Outcome.FAIL, Outcome.UNKNOWN)


@fewer_collections()  # a finding per (project, rule): hundreds of thousands of small objects
def evaluate(
    rule_set: RuleSet,
    facts: Mapping[str, Mapping[str, Any]],
    *,
    today: dt.date,
    waivers: Iterable[Waiver] | None = None,
) -> Evaluation:
    """Evaluate the enabled rules for every project, then each project's current gate.

    ``facts`` maps project key -> fact name -> value (None or missing = unknown). ``waivers``
    defaults to the rule set's; a waiver applies through its ``expires`` date inclusive, and an
    expired one for a project in ``facts`` is reported in ``warnings``.
    """
    waiver_list = rule_set.waivers if waivers is None else list(waivers)
    active: dict[tuple[str, str], Waiver] = {}
    warnings: list[str] = []
    for waiver in waiver_list:
        if waiver.active(today):
            active[(waiver.rule, waiver.project)] = waiver
        elif waiver.project in facts:
            path, line, _ = waiver.location
            warnings.append(
                f"{path}:{line}: waiver of {waiver.rule!r} for {waiver.project} expired on {waiver.expires}"
            )
    rules = [_RuleConstants(compiled, today) for compiled in rule_set.enabled_rules()]
    findings: list[Finding] = []
    gate_results: list[GateResult] = []
    project_errors: dict[str, str] = {}
    for project_key in sorted(facts):
        project_facts = facts[project_key]
        outcomes: dict[str, Outcome] = {}
        try:
            found = []
            for constants in rules:
                finding = _finding(constants, project_key, project_facts, today, active)
                outcomes[constants.rule_id] = finding.outcome
                found.append(finding)
            gate_result = _gate_result(rule_set, project_key, project_facts, outcomes, today)
        except Exception as exc:  # one project's facts never stop the portfolio: it is left unjudged
            project_errors[project_key] = f"{type(exc).__name__}: {exc}"
            continue
        findings += found
        if gate_result is not None:
            gate_results.append(gate_result)
    return Evaluation(
        today=today,
        rule_set_digest=rule_set.digest,
        findings=findings,
        gate_results=gate_results,
        warnings=warnings,
        project_errors=project_errors,
    )


class _RuleConstants:
    """What every finding of one rule shares on one day, worked out once per evaluation rather than once
    per (project, rule): the period, the due date and the rule's own fields."""

    __slots__ = ("compiled", "due_date", "period", "rule_id")

    def __init__(self, compiled: CompiledRule, today: dt.date) -> None:
        rule = compiled.rule
        self.compiled = compiled
        self.rule_id = rule.id
        self.period = period_of(rule.recurrence, today)
        self.due_date = today + dt.timedelta(days=rule.due_days)


def _finding(
    constants: _RuleConstants,
    project_key: str,
    facts: Mapping[str, Any],
    today: dt.date,
    waivers: Mapping[tuple[str, str], Waiver],
) -> Finding:
    compiled = constants.compiled
    rule = compiled.rule
    error = None
    try:
        outcome = compiled.outcome_fn(facts, today)
    except Exception as exc:  # a fact of the wrong type: report, do not stop the portfolio run
        outcome, error = Outcome.UNKNOWN, f"{type(exc).__name__}: {exc}"
    if type(outcome) is not Outcome:  # compiled rules return an Outcome; anything else is converted (or raises)
        outcome = Outcome(outcome)
    waiver = waivers.get((rule.id, project_key)) if outcome in WAIVABLE else None
    waiver_ref = None
    waived_outcome = None
    if waiver is not None:
        path, line, _ = waiver.location
        waiver_ref = WaiverRef.trusted(
            approver=waiver.approver, reason=waiver.reason, expires=waiver.expires, location=f"{path}:{line}"
        )
        waived_outcome, outcome = outcome, Outcome.WAIVED
    period = constants.period
    # Every value below comes from the validated rule or from here: no per-finding validation (see trusted()).
    return Finding.trusted(
        rule_id=constants.rule_id,
        project_key=project_key,
        outcome=outcome,
        severity=rule.severity,
        rollout=rule.rollout,
        pack=rule.pack,
        title=rule.title,
        evidence={name: facts.get(name) for name in compiled.evidence_facts},
        fingerprint=fingerprint(constants.rule_id, project_key, period),
        period=period,
        owner=compiled.owner(facts),
        due_date=constants.due_date if outcome is Outcome.FAIL else None,
        waived_outcome=waived_outcome,
        waiver=waiver_ref,
        error=error,
    )


def _gate_result(
    rule_set: RuleSet,
    project_key: str,
    facts: Mapping[str, Any],
    outcomes: Mapping[str, Outcome],
    today: dt.date,
) -> GateResult | None:
    gate_name = facts.get(GATE_FACT)
    try:
        gate = rule_set.gates.get(LifecycleGate(gate_name)) if gate_name is not None else None
    except ValueError:
        return None
    if gate is None:
        return None
    return decide_gate(rule_set, gate, project_key, outcomes.get, facts, today)
