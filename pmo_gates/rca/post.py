"""Root-cause analysis -> Jira: this month's corrective action per judged project and the anchor-issue
comment of each delayed one, planned and applied through the ledger like every other Jira write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from pmo_gates.actions.plan import Plan
from pmo_gates.actions.planner import plan_actions
from pmo_gates.actions.reconcile import JiraState
from pmo_gates.actions.requests import ActionRequest, CommentRequest
from pmo_gates.actions.run import JIRA_WRITES_LOCK, ActionsRun, Approver, execute, target_of
from pmo_gates.config import Settings
from pmo_gates.connectors.client import JiraClient
from pmo_gates.store import Store


def run_rca_actions(
    settings: Settings,
    *,
    store: Store,
    client: JiraClient | None,
    requests: Sequence[ActionRequest],
    comments: Sequence[CommentRequest] = (),
    today: date,
    dry_run: bool = False,
    approve: Approver | None = None,
    now: datetime | None = None,
) -> ActionsRun:
    """Plan (and unless ``dry_run`` apply) the root-cause tickets and anchor-issue comments alone, under the
    Jira-writes lock. Rule findings are the corrective-actions run's: a plan leaves every ticket it has no
    request for as it is."""
    target = target_of(client, settings.jira.markup, store)
    projects = sorted({r.project_key for r in requests} | {c.project_key for c in comments})

    def build(state: JiraState | None) -> Plan:
        return plan_actions(
            store, list(requests), None, settings, today=today, jira_state=state, target=target, comments=comments
        )

    anchors = [(c.anchor_issue_key, c.purpose) for c in comments]
    return execute(
        store, client, settings, build, projects=projects, anchors=anchors, now=now or datetime.now(UTC),
        dry_run=dry_run, approve=approve, lock_name=JIRA_WRITES_LOCK,
    )  # fmt: skip
