"""Two evaluations of the same facts (base rules, head rules) -> what changed per project, and why."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pmo_gates.rules.results import Evaluation, Finding, GateResult
from pmo_gates.rules.ruleset import RuleSet

_RULE_ATTRS = ("applies", "check", "severity", "rollout", "owner", "due_days", "recurrence", "pack")
_GATE_ATTRS = ("must_meet", "should_meet", "thresholds", "on_must_meet_fail", "on_low_score", "kill")


class FindingChange(BaseModel):
    rule_id: str
    before: str | None = Field(description="Outcome (rollout) with the base rules; None: no such rule then.")
    after: str | None = Field(description="Outcome (rollout) with the changed rules; None: rule removed.")
    why: str


class DecisionChange(BaseModel):
    gate_before: str | None
    gate_after: str | None
    decision_before: str | None
    decision_after: str | None
    score_before: float | None
    score_after: float | None
    why: str


class ProjectImpact(BaseModel):
    project_key: str
    findings: list[FindingChange] = Field(default_factory=list)
    decision: DecisionChange | None = None


class ImpactReport(BaseModel):
    base: str = Field(description="What the base rules are: a git ref or a folder.")
    head: str
    base_digest: str
    head_digest: str
    projects_compared: int
    rule_changes: dict[str, list[str]] = Field(
        default_factory=dict, description="Rule or gate id -> what changed in its definition."
    )
    projects: list[ProjectImpact] = Field(default_factory=list, description="Only projects where something changed.")

    @property
    def decisions_changed(self) -> int:
        return sum(1 for p in self.projects if p.decision is not None)


def _label(finding: Finding | None) -> str | None:
    return None if finding is None else f"{finding.outcome.value} ({finding.rollout.value})"


def _dump(model: Any, attrs: tuple[str, ...]) -> dict[str, Any]:
    data = model.model_dump(mode="json")
    return {a: data.get(a) for a in attrs}


def definition_changes(base: RuleSet, head: RuleSet) -> dict[str, list[str]]:
    """Per rule id and ``gate:<name>``: which parts of its definition differ (added / removed included)."""
    changes: dict[str, list[str]] = {}
    changed_settings = sorted(
        k for k in {*base.settings, *head.settings} if base.settings.get(k) != head.settings.get(k)
    )
    for rule_id in sorted({*base.rules, *head.rules}):
        if rule_id not in base.rules:
            changes[rule_id] = ["added"]
            continue
        if rule_id not in head.rules:
            changes[rule_id] = ["removed"]
            continue
        old, new = base.rules[rule_id].rule, head.rules[rule_id].rule
        before, after = _dump(old, _RULE_ATTRS), _dump(new, _RULE_ATTRS)
        parts = [
            f"{a}: {before[a]} -> {after[a]}" if a in ("severity", "rollout", "pack", "due_days") else a
            for a in _RULE_ATTRS
            if before[a] != after[a]
        ]
        text = f"{new.applies} {new.check}"
        parts += [f"setting {s}" for s in changed_settings if s.rsplit(".", 1)[-1] in text]
        if base.is_enabled(rule_id) != head.is_enabled(rule_id):
            parts.append("enabled" if head.is_enabled(rule_id) else "disabled")
        if parts:
            changes[rule_id] = parts
    for gate in sorted({*base.gates, *head.gates}, key=str):
        key = f"gate:{gate}"
        if gate not in base.gates or gate not in head.gates:
            changes[key] = ["added" if gate in head.gates else "removed"]
            continue
        before, after = _dump(base.gates[gate].spec, _GATE_ATTRS), _dump(head.gates[gate].spec, _GATE_ATTRS)
        parts = [a for a in _GATE_ATTRS if before[a] != after[a]]
        if parts:
            changes[key] = parts
    return changes


def _waivers(rule_set: RuleSet) -> dict[tuple[str, str], str]:
    return {(w.rule, w.project): f"{w.approver} until {w.expires}" for w in rule_set.waivers}


def compare(
    base: Evaluation, head: Evaluation, base_rules: RuleSet, head_rules: RuleSet, *, base_name: str, head_name: str
) -> ImpactReport:
    changes = definition_changes(base_rules, head_rules)
    base_waivers, head_waivers = _waivers(base_rules), _waivers(head_rules)
    old = {(f.project_key, f.rule_id): f for f in base.findings}
    new = {(f.project_key, f.rule_id): f for f in head.findings}
    old_gates = {g.project_key: g for g in base.gate_results}
    new_gates = {g.project_key: g for g in head.gate_results}
    projects = sorted({k[0] for k in (*old, *new)} | set(old_gates) | set(new_gates))
    report = ImpactReport(
        base=base_name,
        head=head_name,
        base_digest=base.rule_set_digest,
        head_digest=head.rule_set_digest,
        projects_compared=len(projects),
        rule_changes=changes,
    )
    for project in projects:
        impact = ProjectImpact(project_key=project)
        for rule_id in sorted({r for p, r in (*old, *new) if p == project}):
            before, after = old.get((project, rule_id)), new.get((project, rule_id))
            if _label(before) == _label(after):
                continue
            why = [f"rule changed: {', '.join(changes[rule_id])}"] if rule_id in changes else []
            if base_waivers.get((rule_id, project)) != head_waivers.get((rule_id, project)):
                why.append(
                    f"waiver: {base_waivers.get((rule_id, project)) or 'none'} -> "
                    f"{head_waivers.get((rule_id, project)) or 'none'}"
                )
            impact.findings.append(
                FindingChange(rule_id=rule_id, before=_label(before), after=_label(after), why="; ".join(why) or "-")
            )
        impact.decision = _decision_change(old_gates.get(project), new_gates.get(project), impact, changes)
        if impact.findings or impact.decision:
            report.projects.append(impact)
    return report


def _decision_change(
    before: GateResult | None, after: GateResult | None, impact: ProjectImpact, changes: dict[str, list[str]]
) -> DecisionChange | None:
    def parts(g: GateResult | None) -> tuple[Any, Any, Any]:
        return (None, None, None) if g is None else (g.gate.value, g.decision.value, round(g.score, 1))

    (gate_b, dec_b, score_b), (gate_a, dec_a, score_a) = parts(before), parts(after)
    if (gate_b, dec_b, score_b) == (gate_a, dec_a, score_a):
        return None
    why = []
    gate = gate_a or gate_b
    if gate and f"gate:{gate}" in changes:
        why.append(f"gate {gate} changed: {', '.join(changes[f'gate:{gate}'])}")
    criteria = {c.rule_id for g in (before, after) if g for c in (*g.must_meet, *g.should_meet)}
    moved = [f.rule_id for f in impact.findings if f.rule_id in criteria]
    if moved:
        why.append(f"criteria changed outcome: {', '.join(moved)}")
    if after is not None and after.reasons:
        why.append(after.reasons[0])
    return DecisionChange(
        gate_before=gate_b,
        gate_after=gate_a,
        decision_before=dec_b,
        decision_after=dec_a,
        score_before=score_b,
        score_after=score_a,
        why="; ".join(why) or "-",
    )
