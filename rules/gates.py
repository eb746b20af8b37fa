"""Stage-Gate decisions: must-meet knock-outs, should-meet points, thresholds and a kill condition.

Decision order: kill condition true -> kill; else a must-meet that fails or is unknown ->
``on_must_meet_fail``; else score >= go -> go; >= conditional_go -> conditional_go; else
``on_low_score``. Waived criteria count as met. Not-applicable criteria, shadow rules and rules of
packs not enabled do not count (they are listed with ``counted: false``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from pmo_gates.rules.models import Decision, Outcome, Rollout
from pmo_gates.rules.results import CriterionResult, GateResult
from pmo_gates.rules.ruleset import CompiledGate, RuleSet

MET = (Outcome.PASS, Outcome.WAIVED)
GATE_FACT = "current_gate"  # the fact naming the gate a project is heading to


def decide_gate(
    rule_set: RuleSet,
    gate: CompiledGate,
    project_key: str,
    outcome_of: Callable[[str], Outcome | None],
    facts: Mapping[str, Any],
    today: dt.date,
    *,
    all_packs: bool = False,
) -> GateResult:
    """Decide ``gate`` for one project from its rules' outcomes (``outcome_of(rule_id)``, None = not run)."""
    spec = gate.spec
    reasons: list[str] = []

    def counted(rule_id: str, outcome: Outcome | None) -> tuple[bool, str]:
        compiled = rule_set.rules[rule_id]
        if outcome is None or not (all_packs or rule_set.is_enabled(rule_id)):
            return False, f"pack {compiled.rule.pack.value!r} is not enabled"
        if compiled.rule.rollout is Rollout.SHADOW:
            return False, "shadow rollout: reported, not counted"
        if outcome is Outcome.NOT_APPLICABLE:
            return False, "not applicable"
        return True, ""

    must: list[CriterionResult] = []
    blocking: list[str] = []
    for rule_id in spec.must_meet:
        outcome = outcome_of(rule_id)
        is_counted, note = counted(rule_id, outcome)
        must.append(
            CriterionResult.trusted(
                rule_id=rule_id, outcome=outcome, weight=None, points=0, counted=is_counted, note=note
            )
        )
        if is_counted and outcome not in MET:
            assert outcome is not None
            word = "failed" if outcome is Outcome.FAIL else "is unknown"
            blocking.append(f"must-meet {rule_id!r} {word}: {rule_set.rules[rule_id].rule.title}")

    should: list[CriterionResult] = []
    earned = possible = 0.0
    missed: list[str] = []
    for criterion in spec.should_meet:
        outcome = outcome_of(criterion.rule)
        is_counted, note = counted(criterion.rule, outcome)
        weight = float(criterion.weight)  # the file may say 1: the result always holds a float
        points = weight if is_counted and outcome in MET else 0.0
        if is_counted:
            possible += weight
            earned += points
            if outcome not in MET:
                missed.append(criterion.rule)
        should.append(
            CriterionResult.trusted(
                rule_id=criterion.rule,
                outcome=outcome,
                weight=weight,
                points=points,
                counted=is_counted,
                note=note,
            )
        )
    score = round(100.0 * earned / possible, 1) if possible else 100.0

    try:
        kill = gate.kill(facts, today) if gate.kill is not None else None
    except Exception:  # a fact of the wrong type: the kill condition is unknown, not a crash
        kill = None
    thresholds = spec.thresholds
    if kill is True:
        decision = Decision.KILL
        reasons.append(f"kill condition met: {spec.kill}")
    elif blocking:
        decision = spec.on_must_meet_fail
        reasons.extend(blocking)
    elif score >= thresholds.go:
        decision = Decision.GO
        reasons.append(f"all must-meet criteria met and score {score:g} >= {thresholds.go:g}")
    elif score >= thresholds.conditional_go:
        decision = Decision.CONDITIONAL_GO
        reasons.append(f"score {score:g} is below {thresholds.go:g}; conditions: {', '.join(missed)}")
    else:
        decision = spec.on_low_score
        reasons.append(f"score {score:g} is below {thresholds.conditional_go:g}; missed: {', '.join(missed)}")
    if gate.kill is not None and kill is None:
        reasons.append("kill condition could not be evaluated (unknown facts)")
    return GateResult(
        project_key=project_key,
        gate=spec.gate,
        decision=decision,
        score=score,
        must_meet=must,
        should_meet=should,
        kill=kill if isinstance(kill, bool) else None,
        reasons=reasons,
    )
