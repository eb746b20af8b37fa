"""Gate reviews of a whole portfolio: evaluate each project's current gate, explain it, keep the record."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from pmo_gates.review.models import CriterionView, ProjectReview, ReviewResult
from pmo_gates.review.records import facts_hash, last_sync_time, latest_records, portfolio_hash, save_record
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.rules.results import Evaluation, Finding, GateResult
from pmo_gates.rules.ruleset import RuleSet
from pmo_gates.store import Store
from pmo_gates.store.data_errors import DataProblem, ProjectDataErrors, Source, by_project, stored_problems
from pmo_gates.store.models import Project

log = logging.getLogger(__name__)

NEXT_GATE = {"initiation": "planning", "planning": "execution", "execution": "closure", "closure": "close-out"}


def _criteria(
    result: GateResult, findings: Mapping[tuple[str, str], Finding], rule_set: RuleSet
) -> list[CriterionView]:
    views = []
    for kind, criteria in (("must_meet", result.must_meet), ("should_meet", result.should_meet)):
        for criterion in criteria:
            finding = findings.get((criterion.rule_id, result.project_key))
            compiled = rule_set.rules.get(criterion.rule_id)
            views.append(
                CriterionView(
                    rule_id=criterion.rule_id,
                    title=compiled.rule.title if compiled else criterion.rule_id,
                    kind=kind,  # type: ignore[arg-type]
                    outcome=criterion.outcome.value if criterion.outcome is not None else None,
                    rollout=finding.rollout.value if finding else None,
                    weight=criterion.weight,
                    points=criterion.points,
                    counted=criterion.counted,
                    note=criterion.note,
                    evidence=finding.evidence if finding else {},
                )
            )
    return views


def next_steps(review_gate: str, decision: str, criteria: list[CriterionView]) -> list[str]:
    """What the project team does next, in a PMO's words."""
    failed_must = [c for c in criteria if c.kind == "must_meet" and c.counted and c.outcome in ("fail", "unknown")]
    failed_should = [c for c in criteria if c.kind == "should_meet" and c.counted and c.outcome in ("fail", "unknown")]
    steps = [
        f"Fix the knock-out: {c.title}" + (" (no data: record it in Jira)" if c.outcome == "unknown" else "")
        for c in failed_must
    ]
    steps += [f"Improve: {c.title}" for c in failed_should]
    headline = {
        "go": f"Proceed to the {NEXT_GATE.get(review_gate, 'next')} phase.",
        "conditional_go": f"Proceed to the {NEXT_GATE.get(review_gate, 'next')} phase; close the open points "
        "below before the next review.",
        "hold": "Hold: no new work until the points below are fixed; the next review re-decides.",
        "recycle": f"Recycle: rework the {review_gate} deliverables and come back to this gate.",
        "kill": "Kill: stop the project and run the closure procedure (lessons learned, release the team).",
    }.get(decision, "Review the points below.")
    return [headline, *steps]


def not_judged_reason(facts: Mapping[str, Any]) -> str:
    """Why a project has no gate to review, and what makes it reviewable."""
    phase = facts.get("phase")
    if phase is None:
        return (
            "no lifecycle phase: its anchor issue is missing or its phase field (fields.phase) is empty or not a "
            "known phase"
        )
    if phase == "closed":
        return "closed: no gate left to review"
    return f"no gate with criteria for its phase {phase!r} in the enabled rule packs"


def review_portfolio(
    store: Store,
    rule_set: RuleSet,
    facts: Mapping[str, Mapping[str, Any]],
    *,
    today: date,
    rules_hash: str,
    rules_commit: str | None = None,
    approved_by: str | None = None,
    evaluation: Evaluation | None = None,
    now: datetime | None = None,
    run_id: str | None = None,
    problems: Sequence[DataProblem] = (),
) -> ReviewResult:
    """Review every project at its current gate and keep a decision record per project.

    ``evaluation`` may be passed when the caller already evaluated ``facts`` (the corrective-actions run
    evaluates once for both). Projects whose facts name no gate with criteria are listed in
    ``without_gate``. ``now`` defaults to ``today`` at the current time of day (UTC).

    Each project's data errors (``problems`` met computing facts, rules that could not be evaluated, the
    sync's findings kept in the store) are attached to its review and listed in ``data_errors``. A
    project whose review itself fails is left out of ``reviews`` with that failure as a data error; the
    others are reviewed as usual.
    """
    evaluation = evaluation or evaluate(rule_set, facts, today=today)
    now = now or datetime.combine(today, datetime.now(UTC).timetz())
    findings = {(f.rule_id, f.project_key): f for f in evaluation.findings}
    gates = {g.project_key: g for g in evaluation.gate_results}
    found = [*problems, *rule_problems(evaluation)]
    reviews: list[ProjectReview] = []
    recorded = 0
    with store.session() as session:
        projects = {p.key: p for p in session.scalars(select(Project).where(Project.key.in_(list(facts))))}
        synced_at = last_sync_time(session)
        latest = latest_records(session, gates)
        found += stored_problems(session, list(facts))
        rows = []
        for key in sorted(gates):
            result = gates[key]
            try:
                criteria = _criteria(result, findings, rule_set)
                data_hash = facts_hash(facts[key])
                steps = next_steps(result.gate.value, result.decision.value, criteria)
            except Exception as exc:  # this project's data, not the portfolio's: flag it, review the rest
                log.warning("gate review of %s failed: %s: %s", key, type(exc).__name__, exc)
                found.append(_failure(key, "review", f"{type(exc).__name__}: {exc}"))
                continue
            gate, decision = result.gate.value, result.decision.value
            values = {
                "project_key": key,
                "gate": gate,
                "decision": decision,
                "score": float(result.score),
                "rules_hash": rules_hash,
                "rules_commit": rules_commit,
                "data_hash": data_hash,
                "data_synced_at": synced_at,
                "evaluated_at": now,
                "approved_by": approved_by,
                "criteria": [c.model_dump(mode="json") for c in criteria],
                "run_id": run_id,
            }
            row, added = save_record(session, latest.get(key), values, today)
            recorded += added
            rows.append((row, added))
            project = projects.get(key)
            reviews.append(
                ProjectReview(
                    project_key=key,
                    project_name=project.name if project else None,
                    anchor_issue_key=project.anchor_issue_key if project else None,
                    gate=gate,
                    decision=decision,
                    score=float(result.score),
                    kill=result.kill,
                    reasons=list(result.reasons),
                    criteria=criteria,
                    failed_must_meet=[c.rule_id for c in criteria if c.kind == "must_meet" and c.outcome == "fail"],
                    next_steps=steps,
                    data_hash=data_hash,
                    recorded=added,
                )
            )
        session.flush()
        flagged = by_project(found)
        reviews = [
            r.model_copy(update={"record_id": row.id, "data_errors": flagged.get(r.project_key, ProjectDataErrors())})
            for r, (row, _) in zip(reviews, rows, strict=True)
        ]
    return ReviewResult(
        reviewed_on=today,
        evaluated_at=now,
        rules_hash=rules_hash,
        rules_commit=rules_commit,
        data_hash=portfolio_hash(facts),
        data_synced_at=synced_at,
        approved_by=approved_by,
        reviews=reviews,
        without_gate=sorted(set(facts) - set(gates)),
        not_judged={key: not_judged_reason(facts[key]) for key in sorted(set(facts) - set(gates))},
        recorded=recorded,
        data_errors=dict(sorted(flagged.items())),
    )


def _failure(project_key: str, source: Source, message: str) -> DataProblem:
    return DataProblem(project_key=project_key, source=source, key=project_key, field=source, message=message[:500])


def rule_problems(evaluation: Evaluation) -> list[DataProblem]:
    """Rules that could not be evaluated on a project's facts (their outcome is unknown), and projects
    whose evaluation failed as a whole (they have no findings)."""
    found = [_failure(key, "rules", message) for key, message in sorted(evaluation.project_errors.items())]
    return found + [
        DataProblem(
            project_key=f.project_key, source="rules", key=f.project_key, field=f.rule_id, message=f.error[:500]
        )
        for f in evaluation.findings
        if f.error
    ]
