"""The ``corrective-actions`` flow: facts, evaluation, the itemised plan of ticket changes, optional approval
in the Prefect UI, and apply.

Artifacts: ``corrective-actions-plan`` (table) and ``corrective-actions-plan-summary`` (markdown), the
approval outcome when approval is on, and ``corrective-actions-applied`` (what each item did in Jira).

Example::

    corrective_actions(config_path="pmo-gates.yaml", credentials_block="jira")
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import flow, get_run_logger
from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.actions.requests import ActionRequest
from pmo_gates.actions.run import ActionsRun, Inputs, run_actions
from pmo_gates.config import Settings
from pmo_gates.flows.approval import ApprovalDecision
from pmo_gates.flows.artifacts import artifact_key
from pmo_gates.flows.context import FlowRuntime, open_runtime, resolve_settings
from pmo_gates.flows.plan_apply import Approver, plan_approve_apply
from pmo_gates.flows.steps import gather_inputs
from pmo_gates.flows.views import applied_rows

FLOW_NAME = "corrective-actions"


class ActionsOutcome(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    run: ActionsRun
    approval: ApprovalDecision
    not_applied: list[str] = Field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            **self.run.summary(),
            "approval": self.approval.status,
            "approver": self.approval.approver,
            "not_applied": self.not_applied,
        }


def plan_and_apply_actions(
    runtime: FlowRuntime,
    inputs: Inputs,
    flow_name: str,
    extra_requests: Sequence[ActionRequest] = (),
) -> ActionsOutcome:
    """Plan (and approve, and apply) the corrective actions; shared with the root-cause flow."""

    def run_pass(dry_run: bool, approve: Approver | None, approver: str | None) -> ActionsRun:
        return run_actions(
            runtime.settings, store=runtime.store, client=runtime.client, today=inputs.today, dry_run=dry_run,
            inputs=inputs, approve=approve, extra_requests=extra_requests,
        )  # fmt: skip

    outcome = plan_approve_apply(run_pass, lambda r: r, runtime.settings, runtime.publisher, flow_name)
    run: ActionsRun = outcome.result
    if run.applied is not None:
        runtime.publisher.table(artifact_key(flow_name, "applied"), applied_rows(run), "What each item did in Jira")
    return ActionsOutcome(run=run, approval=outcome.approval, not_applied=outcome.not_applied)


@flow(name=FLOW_NAME)
def corrective_actions(
    config_path: str | None = None,
    credentials_block: str | None = None,
    settings: Settings | None = None,
) -> ActionsOutcome:
    """Open, update, escalate, resolve and reopen the corrective-action tickets of failing mandatory rules."""
    settings = resolve_settings(config_path, settings)
    with open_runtime(settings, credentials_block) as runtime:
        inputs = gather_inputs(runtime)
        outcome = plan_and_apply_actions(runtime, inputs, FLOW_NAME)
    summary = outcome.summary()
    get_run_logger().info("planned %s; applied %s", summary["planned"], summary["applied"] or "nothing")
    return outcome
