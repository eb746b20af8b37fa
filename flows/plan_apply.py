"""Plan, (optionally) approve, apply: the part of a flow run that writes to Jira.

Without approval one task plans and applies under the portfolio lock. With approval the plan is computed
first without writing (a dry run), published, and the run waits (suspended in deployment runs, paused
in-process, see approval.py); the portfolio lock is *not* held while a person thinks, so the other flows
keep running. Once approved, the plan is recomputed under the lock and only items whose content is exactly
as shown to the reviewer (same digest) are applied: an item that changed meanwhile, or that is no longer
needed, is left for the next run, and the result says so. A suspended run restarts from the top after
**Resume**; the plan shown is read back from the Prefect server, so what is applied does not depend on
the worker that planned it still being there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.run import ActionsRun, Approver
from pmo_gates.config import Settings
from pmo_gates.flows.approval import (
    ApprovalDecision,
    ShownPlan,
    current_deployment_run,
    expire_stale_approvals,
    item_digest,
    load_shown_plan,
    not_required,
    request_approval,
    request_suspended_approval,
    save_shown_plan,
)
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


@task(name="plan", cache_policy=NO_CACHE, persist_result=False)
def plan_step(run_pass: RunPass[R]) -> R:
    return run_pass(True, None, None)


@task(name="apply", cache_policy=NO_CACHE, persist_result=False)
def apply_step(run_pass: RunPass[R], approve: Approver | None, approver: str | None) -> R:
    return run_pass(False, approve, approver)


def exactly_as_approved(approved: Mapping[str, str | PlanItem], not_applied: list[str]) -> Approver:
    """An approver for the recomputed plan: ids of items identical to what the reviewer saw (``approved``
    maps each approved id to the item shown, or its ``item_digest``)."""
    wanted = {i: d if isinstance(d, str) else item_digest(d) for i, d in approved.items()}

    def approve(plan: Plan) -> list[str]:
        fresh = {item.id: item_digest(item) for item in plan.items}
        ok = [item_id for item_id, digest in wanted.items() if fresh.get(item_id) == digest]
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

    if current_deployment_run():
        return _suspended(run_pass, actions_of, settings, publisher, flow_name)
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
        approved = {item.id: item_digest(item) for item in plan.items if decision.allows(item.id)}
        result = apply_task(run_pass, exactly_as_approved(approved, not_applied), decision.approver)
        if not_applied:
            logger.warning("%d approved item(s) changed before applying; left for the next run", len(not_applied))
    else:
        result = planned
        logger.info("%s: nothing applied (%s)", flow_name, decision.status)
    return _record(
        publisher, flow_name, actions_of, PlanApplyOutcome(result=result, approval=decision, not_applied=not_applied)
    )


def _record(
    publisher: ArtifactPublisher, flow_name: str, actions_of: Callable[[Any], ActionsRun], outcome: PlanApplyOutcome
) -> PlanApplyOutcome:
    publisher.markdown(
        artifact_key(flow_name, "approval"),
        approval_markdown(outcome.approval, actions_of(outcome.result), outcome.not_applied),
    )
    return outcome


def _suspended(
    run_pass: RunPass[R],
    actions_of: Callable[[R], ActionsRun],
    settings: Settings,
    publisher: ArtifactPublisher,
    flow_name: str,
) -> PlanApplyOutcome:
    """Approval in a deployment run: plan, keep what was shown on the server, suspend (the process exits);
    after **Resume** the run starts again, finds the shown plan and the answer, and applies."""
    logger = get_run_logger()
    plan_task = plan_step.with_options(name=f"{flow_name}-plan")
    apply_task = apply_step.with_options(name=f"{flow_name}-apply")
    expire_stale_approvals()
    planned: R | None = None
    shown = load_shown_plan()
    markdown = ""
    if shown is None:
        planned = plan_task(run_pass)
        plan = actions_of(planned).plan
        publish_plan(publisher, flow_name, plan, approval=True)
        shown = ShownPlan.of(plan.items, settings.actions.approval_timeout_seconds)
        if plan.items:
            save_shown_plan(shown)
        markdown = plan_markdown(plan, flow_name, approval=True)
    else:
        logger.info("Resumed: applying the approved items of the plan shown (%d item(s))", len(shown.items))
    decision = request_suspended_approval(markdown, shown)  # the first time, the process exits here
    not_applied: list[str] = []
    if decision.approved_ids:
        approved = {item_id: shown.items[item_id] for item_id in decision.approved_ids}
        result = apply_task(run_pass, exactly_as_approved(approved, not_applied), decision.approver)
        if not_applied:
            logger.warning("%d approved item(s) changed before applying; left for the next run", len(not_applied))
    else:
        result = planned if planned is not None else plan_task(run_pass)
        logger.info("%s: nothing applied (%s)", flow_name, decision.status)
    return _record(
        publisher, flow_name, actions_of, PlanApplyOutcome(result=result, approval=decision, not_applied=not_applied)
    )
