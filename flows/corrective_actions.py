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
from prefect.states import State
from pydantic.json_schema import SkipJsonSchema

from pmo_gates.actions.requests import ActionRequest
from pmo_gates.actions.run import ActionsRun, Inputs, run_actions
from pmo_gates.config import Settings
from pmo_gates.connectors.credentials import JiraCredentials
from pmo_gates.flows.artifacts import artifact_key
from pmo_gates.flows.context import FlowRuntime, open_runtime, resolve_settings
from pmo_gates.flows.plan_apply import Approver, plan_approve_apply
from pmo_gates.flows.results import CorrectiveActionsResult, actions_summary
from pmo_gates.flows.states import final_state, time_limit
from pmo_gates.flows.steps import gather_inputs
from pmo_gates.flows.views import applied_rows

FLOW_NAME = "corrective-actions"


def plan_and_apply_actions(
    runtime: FlowRuntime,
    inputs: Inputs,
    flow_name: str,
    extra_requests: Sequence[ActionRequest] = (),
    *,
    dry_run: bool = False,
) -> CorrectiveActionsResult:
    """Plan (and approve, and apply) the corrective actions."""

    def run_pass(dry_run: bool, approve: Approver | None, approver: str | None) -> ActionsRun:
        return run_actions(
            runtime.settings, store=runtime.store, client=runtime.client, today=inputs.today, dry_run=dry_run,
            inputs=inputs, approve=approve, extra_requests=extra_requests,
        )  # fmt: skip

    outcome = plan_approve_apply(run_pass, lambda r: r, runtime.settings, runtime.publisher, flow_name, dry_run=dry_run)
    run: ActionsRun = outcome.result
    if run.applied is not None:
        runtime.publisher.table(artifact_key(flow_name, "applied"), applied_rows(run), "What each item did in Jira")
    return CorrectiveActionsResult(
        actions=actions_summary(run), approval=outcome.approval, not_applied=outcome.not_applied
    )


@flow(name=FLOW_NAME, persist_result=True)
def corrective_actions(
    config_path: str | None = None,
    credentials_block: str | None = None,
    dry_run: bool = False,
    credentials: JiraCredentials | None = None,
    settings: SkipJsonSchema[Settings | None] = None,
) -> CorrectiveActionsResult | State[CorrectiveActionsResult]:
    """Open, update, escalate, resolve and reopen the corrective-action tickets of failing mandatory rules.

    Args:
        config_path: The pmo-gates config file; relative paths are read in PMO_GATES_WORKDIR on the worker.
        credentials_block: Name of a saved Jira Credentials block; empty: the token env var the config names.
        dry_run: Plan and publish the plan as artifacts, write nothing to Jira.
        credentials: A Jira Credentials block to use instead of `credentials_block`.
    """
    settings = resolve_settings(config_path, settings)
    with (
        time_limit(settings, "corrective_actions"),
        open_runtime(settings, credentials or credentials_block) as runtime,
    ):
        inputs = gather_inputs(runtime)
        outcome = plan_and_apply_actions(runtime, inputs, FLOW_NAME, dry_run=dry_run)
    summary = outcome.actions
    get_run_logger().info("planned %s; applied %s", summary["planned"], summary["applied_ops"] or "nothing")
    return final_state(outcome, outcome.approval)
