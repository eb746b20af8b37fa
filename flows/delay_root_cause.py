"""The monthly ``delay-root-cause`` flow: root-cause analysis of every project, then this month's corrective
action per delayed project through the ledger, and a comment on its anchor issue with the causes, evidence
and remedies (one per month, edited in place) (one ticket per project per month, updated in place,
resolved when the project is back on schedule), planned, approved and applied like every Jira write.

Only root-cause requests and comments are planned here: rule findings are the corrective-actions flow's, and a plan
leaves every ticket it has no request for as it is.

Artifacts: ``delay-root-cause-summary`` (markdown: causes, evidence, remedies per delayed project),
``delay-root-cause-projects`` (table), and the plan.

Example::

    delay_root_cause(config_path="pmo-gates.yaml", credentials_block="jira")
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State
from pydantic.json_schema import SkipJsonSchema

from pmo_gates.actions.run import ActionsRun, Approver
from pmo_gates.config import Settings
from pmo_gates.connectors.credentials import JiraCredentials
from pmo_gates.flows.artifacts import artifact_key
from pmo_gates.flows.context import open_runtime, resolve_settings
from pmo_gates.flows.plan_apply import plan_approve_apply
from pmo_gates.flows.results import RootCauseResult, actions_summary
from pmo_gates.flows.states import final_state, time_limit
from pmo_gates.flows.views import rca_markdown, rca_rows
from pmo_gates.rca.actions import rca_action_requests, rca_comments
from pmo_gates.rca.analyse import RcaReport
from pmo_gates.rca.post import run_rca_actions
from pmo_gates.rca.run import run_rca
from pmo_gates.store import Store

FLOW_NAME = "delay-root-cause"


@task(name="analyse-delays", cache_policy=NO_CACHE, persist_result=False)
def analyse_task(settings: Settings, store: Store, today: date) -> RcaReport:
    return run_rca(settings, store=store, today=today)


@flow(name=FLOW_NAME, persist_result=True)
def delay_root_cause(
    config_path: str | None = None,
    credentials_block: str | None = None,
    dry_run: bool = False,
    credentials: JiraCredentials | None = None,
    settings: SkipJsonSchema[Settings | None] = None,
) -> RootCauseResult | State[RootCauseResult]:
    """Find delayed projects, rank their root causes, and keep one corrective action per project and month.

    Args:
        config_path: The pmo-gates config file; relative paths are read in PMO_GATES_WORKDIR on the worker.
        credentials_block: Name of a saved Jira Credentials block; empty: the token env var the config names.
        dry_run: Plan and publish the plan as artifacts, write nothing to Jira.
        credentials: A Jira Credentials block to use instead of `credentials_block`.
    """
    settings = resolve_settings(config_path, settings)
    with time_limit(settings, "delay_root_cause"), open_runtime(settings, credentials or credentials_block) as runtime:
        report = analyse_task(settings, runtime.store, runtime.today)
        runtime.publisher.markdown(artifact_key(FLOW_NAME, "summary"), rca_markdown(report), "Delayed projects")
        runtime.publisher.table(artifact_key(FLOW_NAME, "projects"), rca_rows(report), "Delayed projects and causes")
        requests = rca_action_requests(report)
        comments = rca_comments(report)

        def run_pass(dry_run: bool, approve: Approver | None, approver: str | None) -> ActionsRun:
            return run_rca_actions(
                settings, store=runtime.store, client=runtime.client, requests=requests, comments=comments,
                today=report.today,
                dry_run=dry_run, approve=approve,
            )  # fmt: skip

        outcome = plan_approve_apply(run_pass, lambda r: r, settings, runtime.publisher, FLOW_NAME, dry_run=dry_run)
    get_run_logger().info("%d of %d project(s) delayed", len(report.delayed), len(report.projects))
    summary = RootCauseResult(
        actions=actions_summary(outcome.result),
        approval=outcome.approval,
        not_applied=outcome.not_applied,
        period=report.period,
        delayed=len(report.delayed),
        projects=report.summary()["projects"],
    )
    return final_state(summary, outcome.approval)
