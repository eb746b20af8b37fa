"""The ``gate-review`` flow: (sync,) facts, evaluation, gate decisions with their records, and the
gate-review comment on each project's anchor issue, planned and applied like every Jira write.

Artifacts: ``gate-review-summary`` (markdown) and ``gate-review-portfolio`` (table) for the portfolio,
``scorecard-<project>`` per project (attention first, at most ``scorecard_limit``: on 2,000 projects one
artifact each would cost more than the review), and the plan (``gate-review-plan``).

Example::

    gate_review(config_path="pmo-gates.yaml", credentials_block="jira")
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.states import State
from pydantic.json_schema import SkipJsonSchema

from pmo_gates.config import Settings
from pmo_gates.connectors.credentials import JiraCredentials
from pmo_gates.flows.artifacts import ArtifactPublisher, artifact_key
from pmo_gates.flows.context import open_runtime, resolve_settings
from pmo_gates.flows.plan_apply import Approver, PlanApplyOutcome, plan_approve_apply
from pmo_gates.flows.results import GateReviewResult, actions_summary
from pmo_gates.flows.states import final_state, time_limit
from pmo_gates.flows.steps import gather_inputs
from pmo_gates.flows.views import attention_first, portfolio_markdown, portfolio_rows, scorecard_rows
from pmo_gates.review.models import ReviewResult
from pmo_gates.review.run import ReviewRun, run_review

FLOW_NAME = "gate-review"


def publish_reviews(publisher: ArtifactPublisher, review: ReviewResult, scorecard_limit: int) -> int:
    publisher.markdown(artifact_key(FLOW_NAME, "summary"), portfolio_markdown(review), "Gate reviews: portfolio")
    publisher.table(artifact_key(FLOW_NAME, "portfolio"), portfolio_rows(review), "Gate decision per project")
    chosen = attention_first(review.reviews)[: max(0, scorecard_limit)]
    for r in chosen:
        description = f"{r.project_key} at the {r.gate} gate: {r.decision.replace('_', ' ')}, score {r.score:.0f}"
        publisher.table(artifact_key("scorecard", r.project_key), scorecard_rows(r), description)
    return len(chosen)


@flow(name=FLOW_NAME, persist_result=True)
def gate_review(
    config_path: str | None = None,
    credentials_block: str | None = None,
    dry_run: bool = False,
    sync: bool = False,
    scorecard_limit: int = 100,
    credentials: JiraCredentials | None = None,
    settings: SkipJsonSchema[Settings | None] = None,
) -> GateReviewResult | State[GateReviewResult]:
    """Review every project at its current gate and post (or update) the decision in Jira.

    Args:
        config_path: The pmo-gates config file; relative paths are read in PMO_GATES_WORKDIR on the worker.
        credentials_block: Name of a saved Jira Credentials block; empty: the token env var the config names.
        dry_run: Plan and publish the plan as artifacts, write nothing to Jira.
        sync: Sync from Jira first (the hourly sync-jira flow usually has).
        scorecard_limit: Most per-project scorecard artifacts to publish (projects needing attention first).
        credentials: A Jira Credentials block to use instead of `credentials_block`.
    """
    settings = resolve_settings(config_path, settings)
    with time_limit(settings, "gate_review"):
        result, outcome, scorecards = _review(
            settings, credentials or credentials_block, dry_run, sync, scorecard_limit
        )
    review = result.review
    get_run_logger().info("reviewed %d project(s): %s", len(review.reviews), review.decisions())
    summary = GateReviewResult(
        actions=actions_summary(result.comments),
        approval=outcome.approval,
        not_applied=outcome.not_applied,
        reviewed_on=review.reviewed_on.isoformat(),
        rules_hash=review.rules_hash,
        decisions=review.decisions(),
        reviews=review.summary(),
        records_added=review.recorded,
        scorecards=scorecards,
    )
    return final_state(summary, outcome.approval)


def _review(
    settings: Settings,
    credentials: str | JiraCredentials | None,
    dry_run: bool,
    sync: bool,
    scorecard_limit: int,
) -> tuple[ReviewRun, PlanApplyOutcome, int]:
    if sync:
        from pmo_gates.flows.sync import sync_jira

        sync_jira(credentials_block=credentials if isinstance(credentials, str) else None,
                  credentials=credentials if isinstance(credentials, JiraCredentials) else None,
                  settings=settings)  # fmt: skip
    run_id = flow_run.get_id()
    with open_runtime(settings, credentials) as runtime:
        inputs = gather_inputs(runtime)

        def run_pass(dry_run: bool, approve: Approver | None, approver: str | None) -> ReviewRun:
            return run_review(
                settings, store=runtime.store, client=runtime.client, today=inputs.today, dry_run=dry_run,
                approved_by=approver, inputs=inputs, approve=approve, run_id=run_id,
            )  # fmt: skip

        outcome = plan_approve_apply(
            run_pass, lambda r: r.comments, settings, runtime.publisher, FLOW_NAME, dry_run=dry_run
        )
        result: ReviewRun = outcome.result
        scorecards = publish_reviews(runtime.publisher, result.review, scorecard_limit)
    return result, outcome, scorecards
