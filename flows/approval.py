"""Approval of a plan in the Prefect UI: the flow pauses, the reviewer approves all, some or none of its items.

Prefect's open-source server knows no users, so the reviewer names themself in the form (``approver`` is
required, and the server rejects a resume without it). A timeout approves nothing: the run is moved out of
its expired pause so that the flow can finish, record the outcome and say that nothing was applied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Running
from pydantic import BaseModel, Field

PAUSE_KEY = "plan-approval"
# The pause form shows this description; a huge plan is cut here and the full plan stays in its artifact.
MAX_DESCRIPTION_CHARS = 20_000


class PlanApproval(RunInput):
    """The form the reviewer fills in when resuming the paused run."""

    approve_all: bool = Field(False, description="Apply every item of the plan.")
    approved_items: list[str] = Field(default_factory=list, description="Ids of the items to apply.")
    approver: str = Field(..., min_length=1, description="Who approves (recorded with the applied changes).")
    note: str = Field("", description="Why, for the record.")


class ApprovalDecision(BaseModel):
    """What came back from the reviewer, reduced to the item ids that may be applied."""

    status: Literal["approved", "partly-approved", "rejected", "timed-out", "not-required", "dry-run"]
    approved_ids: list[str] = Field(default_factory=list)
    approver: str | None = None
    note: str = ""
    unknown_ids: list[str] = Field(default_factory=list, description="Ids named in the form but not in the plan.")

    def allows(self, item_id: str) -> bool:
        return item_id in set(self.approved_ids)

    def summary(self) -> str:
        who = f" by {self.approver}" if self.approver else ""
        if self.status == "timed-out":
            return "Approval timed out: nothing was applied."
        if self.status == "rejected":
            return f"Plan rejected{who}: nothing was applied."
        if self.status == "not-required":
            return "Approval not required: the whole plan is applied."
        if self.status == "dry-run":
            return "Dry run: the plan was computed and nothing was applied."
        return f"{len(self.approved_ids)} item(s) approved{who}."


def not_required(item_ids: Iterable[str]) -> ApprovalDecision:
    return ApprovalDecision(status="not-required", approved_ids=list(item_ids))


def decide(form: PlanApproval, item_ids: list[str]) -> ApprovalDecision:
    """Reduce a filled-in form to the approved ids of this plan (in plan order)."""
    known = set(item_ids)
    if form.approve_all:
        approved = list(item_ids)
    else:
        wanted = set(form.approved_items)
        approved = [i for i in item_ids if i in wanted]
    unknown = sorted(set(form.approved_items) - known)
    if not approved:
        status = "rejected"
    elif len(approved) == len(item_ids):
        status = "approved"
    else:
        status = "partly-approved"
    return ApprovalDecision(
        status=status, approved_ids=approved, approver=form.approver, note=form.note, unknown_ids=unknown
    )


def poll_interval_for(timeout_seconds: int) -> int:
    """Short approvals (tests, demos) are polled every second; long ones every 10 s, as Prefect does."""
    return max(1, min(10, timeout_seconds // 60))


def _leave_expired_pause() -> None:
    """After a pause times out the server only lets the run fail; setting it running (the state the run is
    really in) lets the flow finish with a result that says nothing was applied."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        return
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(context.flow_run.id, Running(name="ApprovalTimedOut"), force=True)


def request_approval(plan_markdown: str, item_ids: list[str], timeout_seconds: int) -> ApprovalDecision:
    """Pause the current flow run until a reviewer approves (some of) ``item_ids`` or the time runs out.

    An empty plan needs no approval. Must be called inside a flow run.
    """
    logger = get_run_logger()
    if not item_ids:
        return not_required([])
    description = plan_markdown
    if len(description) > MAX_DESCRIPTION_CHARS:
        description = description[:MAX_DESCRIPTION_CHARS] + "\n\n... (cut: the full plan is in the plan artifact)"
    form_type = PlanApproval.with_initial_data(description=description, approve_all=False, approved_items=[], note="")
    logger.info("Waiting up to %d s for approval of %d planned item(s)", timeout_seconds, len(item_ids))
    try:
        form = pause_flow_run(
            wait_for_input=form_type,
            timeout=timeout_seconds,
            poll_interval=poll_interval_for(timeout_seconds),
            key=PAUSE_KEY,
        )
    except FlowPauseTimeout:
        logger.warning("Approval timed out after %d s: nothing was applied", timeout_seconds)
        _leave_expired_pause()
        return ApprovalDecision(status="timed-out")
    decision = decide(form, item_ids)
    if decision.unknown_ids:
        logger.warning(
            "Ignoring %d approved id(s) not in the plan: %s", len(decision.unknown_ids), decision.unknown_ids
        )
    logger.info(decision.summary())
    return decision
