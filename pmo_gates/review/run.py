"""The gate-review run end to end: rules + facts -> decision records -> gate-review comments in Jira."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from pmo_gates.actions.plan import Plan
from pmo_gates.actions.planner import plan_actions
from pmo_gates.actions.reconcile import JiraState
from pmo_gates.actions.run import (
    JIRA_WRITES_LOCK,
    ActionsRun,
    Approver,
    Inputs,
    execute,
    gate_anchors,
    load_inputs,
    target_of,
)
from pmo_gates.bulk_gc import fewer_collections
from pmo_gates.config import Settings
from pmo_gates.connectors.client import JiraClient
from pmo_gates.review.gate_review import review_portfolio
from pmo_gates.review.models import ReviewResult
from pmo_gates.review.records import git_commit
from pmo_gates.store import Store


class ReviewRun(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    review: ReviewResult
    comments: ActionsRun

    def summary(self) -> dict[str, Any]:
        return {
            "reviewed_on": self.review.reviewed_on.isoformat(),
            "rules_hash": self.review.rules_hash,
            "decisions": self.review.decisions(),
            "projects": self.review.summary(),
            "records_added": self.review.recorded,
            "comments": self.comments.summary(),
        }


@fewer_collections()
def run_review(
    settings: Settings,
    *,
    store: Store,
    client: JiraClient | None,
    today: date | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    approved_by: str | None = None,
    inputs: Inputs | None = None,
    markup: Literal["wiki", "adf"] | None = None,
    approve: Approver | None = None,
    run_id: str | None = None,
) -> ReviewRun:
    """Review every project, keep the decision records (also in dry-run: they are the store's, not
    Jira's) and plan/apply the gate-review comments on the anchor issues."""
    today = today or settings.today or date.today()
    now = now or datetime.now(UTC)
    inputs = inputs or load_inputs(settings, store, today=today)
    review = review_portfolio(
        store,
        inputs.rule_set,
        inputs.facts,
        today=today,
        rules_hash=inputs.rule_set.digest,
        rules_commit=git_commit(inputs.rule_set.files),
        approved_by=approved_by,
        evaluation=inputs.evaluation,
        now=now if now.date() == today else None,
        run_id=run_id,
        problems=inputs.problems,
    )
    target = target_of(client, markup or settings.jira.markup, store)

    def build(state: JiraState | None) -> Plan:
        return plan_actions(store, [], review, settings, today=today, jira_state=state, target=target)

    comments = execute(
        store, client, settings, build, projects=inputs.facts, anchors=gate_anchors(review), now=now,
        dry_run=dry_run, approve=approve, lock_name=JIRA_WRITES_LOCK,
    )  # fmt: skip
    return ReviewRun(review=review, comments=comments)
