"""Plan, (optionally) approve, apply: the part of a flow run that writes to Jira.

Without approval one task plans and applies under the portfolio lock. With approval the plan is computed
first without writing (a dry run), published, and the run pauses; the portfolio lock is *not* held while a
person thinks, so the other flows keep running. Once approved, the plan is recomputed under the lock and
only items that are exactly as approved are applied: an item whose content changed meanwhile, or that is
no longer needed, is left for the next run, and the result says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.run import ActionsRun, Approver
from pmo_gates.config import Settings
from pmo_gates.flows.approval import ApprovalDecision, not_required, request_approval
from pmo_gates.flows.artifacts import ArtifactPublisher, artifact_key
from pmo_gates.flows.views import approval_markdown, plan_markdown, plan_rows

R = TypeVar("R")
# run_pass(dry_run, approve, approver) -> the domain run's result (ReviewRun, ActionsRun, ...)
RunPass = Callable[[bool, Approver | None, str | None], R]


class PlanApplyOutcome(BaseModel):
    """The final pass's result, how it was approved, and approved items that were not applied."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    result: Any
    approval: ApprovalDecision
    not_applied: list[str] = Field(
        default_factory=list, description="Approved ids changed or gone when the plan was recomputed."
    )


@task(name="plan", cache_policy=NO_CACHE)
def plan_step(run_pass: RunPass[R]) -> R:
    return run_pass(True, None, None)


@task(name="apply", cache_policy=NO_CACHE)
def apply_step(run_pass: RunPass[R], approve: Approver | None, approver: str | None) -> R:
    return run_pass(False, approve, approver)


def exactly_as_approved(approved: dict[str, PlanItem], not_applied: list[str]) -> Approver:
    """An approver for the recomputed plan: ids of items identical to what the reviewer saw."""

    def approve(plan: Plan) -> list[str]:
        fresh = {item.id: item for item in plan.items}
        ok = [item_id for item_id, item in approved.items() if fresh.get(item_id) == item]
        not_applied.extend(sorted(set(approved) - set(ok)))
        return ok

    return approve


def publish_plan(
    publisher: ArtifactPublisher, flow_name: str, plan: Plan, *, approval: bool, dry_run: bool = False
) -> None:
    what = "dry run: not applied" if dry_run else "awaiting approval" if approval else "to apply"
    publisher.table(artifact_key(flow_name, "plan"), plan_rows(plan), f"{flow_name}: planned Jira changes ({what})")
    publisher.markdown(artifact_key(flow_name, "plan", "summary"), plan_markdown(plan, flow_name, approval=approval))


def plan_approve_apply(
    run_pass: RunPass[R],
    actions_of: Callable[[R], ActionsRun],
    settings: Settings,
    publisher: ArtifactPublisher,
    flow_name: str,
    *,
    dry_run: bool = False,
) -> PlanApplyOutcome:
    """Plan, then (unless ``dry_run``) wait for approval when the config asks for it, and apply."""
    logger = get_run_logger()
    plan_task = plan_step.with_options(name=f"{flow_name}-plan")
    apply_task = apply_step.with_options(name=f"{flow_name}-apply")
    if dry_run:
        planned = plan_task(run_pass)
        publish_plan(publisher, flow_name, actions_of(planned).plan, approval=False, dry_run=True)
        return PlanApplyOutcome(result=planned, approval=ApprovalDecision(status="dry-run"))
    if not settings.actions.approval:
        result = apply_task(run_pass, None, None)
        plan = actions_of(result).plan
        publish_plan(publisher, flow_name, plan, approval=False)
        return PlanApplyOutcome(result=result, approval=not_required(i.id for i in plan.items))

    planned = plan_task(run_pass)
    plan = actions_of(planned).plan
    publish_plan(publisher, flow_name, plan, approval=True)
    decision = request_approval(
        plan_markdown(plan, flow_name, approval=True),
        [i.id for i in plan.items],
        settings.actions.approval_timeout_seconds,
    )
    not_applied: list[str] = []
    if decision.approved_ids:
        approved = {item.id: item for item in plan.items if decision.allows(item.id)}
        result = apply_task(run_pass, exactly_as_approved(approved, not_applied), decision.approver)
        if not_applied:
            logger.warning("%d approved item(s) changed before applying; left for the next run", len(not_applied))
    else:
        result = planned
        logger.info("%s: nothing applied (%s)", flow_name, decision.status)
    outcome = PlanApplyOutcome(result=result, approval=decision, not_applied=not_applied)
    publisher.markdown(
        artifact_key(flow_name, "approval"), approval_markdown(outcome.approval, actions_of(result), not_applied)
    )
    return outcome
