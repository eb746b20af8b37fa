"""Approval of a plan in the Prefect UI: the flow stops, the reviewer approves all, some or none of its items.

Two ways to wait, chosen by where the run executes:

- **suspend** (runs of a deployment: a work pool's worker or ``pmo-gates serve``): the run is suspended and its
  process exits, so no worker slot is held and a worker restart loses nothing. On **Resume** the server
  schedules the run again and it starts from the top: it finds the plan the reviewer saw (ids and content
  digests, kept with the run on the Prefect server under ``SHOWN_PLAN_KEY``) and the form already
  answered, and applies exactly the approved items that are still as shown.
- **pause** (a flow called in-process: the demo, tests, a script): the process keeps polling until resumed.

Prefect's open-source server knows no users, so the reviewer names themself in the form (``approver`` is
required, and the server rejects a resume without it). A timeout approves nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.input import RunInput
from prefect.input.actions import create_flow_run_input, read_flow_run_input
from prefect.states import Running
from pydantic import BaseModel, Field

from pmo_gates.actions.plan import PlanItem

PAUSE_KEY = "plan-approval"
# Flow run input key holding the plan the reviewer was shown (survives the suspended run's process).
SHOWN_PLAN_KEY = "pmo-gates-shown-plan"
# Names of the final states automations can match (events ``prefect.flow-run.Rejected`` and
# ``prefect.flow-run.ApprovalTimedOut``); see flows/states.py.
REJECTED_STATE = "Rejected"
TIMED_OUT_STATE = "ApprovalTimedOut"
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


def item_digest(item: PlanItem) -> str:
    """The content of a plan item as a digest: what "still exactly as approved" compares after a restart."""
    canonical = json.dumps(item.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ShownPlan(BaseModel):
    """What the reviewer was shown: item ids in plan order with their content digests, and the deadline."""

    items: dict[str, str] = Field(description="item id -> item_digest, in plan order")
    deadline: datetime

    @classmethod
    def of(cls, items: Sequence[PlanItem], timeout_seconds: int, now: datetime | None = None) -> ShownPlan:
        start = now or datetime.now(UTC)
        return cls(items={i.id: item_digest(i) for i in items}, deadline=start + timedelta(seconds=timeout_seconds))

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) > self.deadline


def current_deployment_run() -> bool:
    """True inside a run of a deployment (worker or serve): only such a run can be suspended and resumed."""
    context = FlowRunContext.get()
    return bool(context and context.flow_run and context.flow_run.deployment_id)


def load_shown_plan() -> ShownPlan | None:
    """The plan shown before this run was suspended, if it was (read from the Prefect server)."""
    value = read_flow_run_input(SHOWN_PLAN_KEY)
    return None if value is None else ShownPlan.model_validate(value)


def save_shown_plan(shown: ShownPlan) -> None:
    create_flow_run_input(SHOWN_PLAN_KEY, shown.model_dump(mode="json"))


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
        client.set_flow_run_state(context.flow_run.id, Running(name=TIMED_OUT_STATE), force=True)


def _form_type(plan_markdown: str) -> type[PlanApproval]:
    description = plan_markdown
    if len(description) > MAX_DESCRIPTION_CHARS:
        description = description[:MAX_DESCRIPTION_CHARS] + "\n\n... (cut: the full plan is in the plan artifact)"
    return PlanApproval.with_initial_data(description=description, approve_all=False, approved_items=[], note="")


def _reduce(form: PlanApproval, item_ids: list[str]) -> ApprovalDecision:
    logger = get_run_logger()
    decision = decide(form, item_ids)
    if decision.unknown_ids:
        logger.warning(
            "Ignoring %d approved id(s) not in the plan: %s", len(decision.unknown_ids), decision.unknown_ids
        )
    logger.info(decision.summary())
    return decision


def request_suspended_approval(plan_markdown: str, shown: ShownPlan) -> ApprovalDecision:
    """Suspend the current deployment run until a reviewer answers; the process exits here (``Pause`` is
    raised) the first time, and on the run after **Resume** this returns the reviewer's answer at once.

    An answer after ``shown.deadline`` counts as a timeout: nothing is approved.
    """
    logger = get_run_logger()
    item_ids = list(shown.items)
    if not item_ids:
        return not_required([])
    logger.info(
        "Suspending for approval of %d planned item(s) until %s; the run resumes on a worker when approved",
        len(item_ids),
        shown.deadline.isoformat(timespec="seconds"),
    )
    # No server-side timeout: an expired suspension would end as a plain Failed state; ours ends as
    # ApprovalTimedOut (late answers here, unanswered runs in expire_stale_approvals).
    form = suspend_flow_run(wait_for_input=_form_type(plan_markdown), timeout=None, key=PAUSE_KEY)
    if shown.expired():
        logger.warning("Approval came after the deadline %s: nothing was applied", shown.deadline.isoformat())
        return ApprovalDecision(status="timed-out")
    return _reduce(form, item_ids)


def request_approval(plan_markdown: str, item_ids: list[str], timeout_seconds: int) -> ApprovalDecision:
    """Pause the current (in-process) flow run until a reviewer approves (some of) ``item_ids`` or the time
    runs out. The process keeps polling: use ``request_suspended_approval`` in deployment runs.

    An empty plan needs no approval. Must be called inside a flow run.
    """
    logger = get_run_logger()
    if not item_ids:
        return not_required([])
    form_type = _form_type(plan_markdown)
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
    return _reduce(form, item_ids)


def expire_stale_approvals() -> list[str]:
    """Cancel this deployment's suspended runs whose approval deadline has passed, as ``ApprovalTimedOut``.

    A suspended run has no process left to notice its deadline, so the next run of the same deployment
    ends it (and a late **Resume** applies nothing, see ``request_suspended_approval``). Returns the names
    of the runs cancelled."""
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled

    context = FlowRunContext.get()
    if context is None or context.flow_run is None or context.flow_run.deployment_id is None:
        return []
    expired: list[str] = []
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=[context.flow_run.deployment_id]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
            )
        )
        for run in runs:
            if run.id == context.flow_run.id:
                continue
            value = read_flow_run_input(SHOWN_PLAN_KEY, flow_run_id=run.id)
            shown = None if value is None else ShownPlan.model_validate(value)
            if shown is None or not shown.expired():
                continue
            message = f"Approval timed out (deadline {shown.deadline.isoformat()}): nothing was applied."
            client.set_flow_run_state(run.id, Cancelled(name=TIMED_OUT_STATE, message=message), force=True)
            expired.append(run.name)
    if expired:
        get_run_logger().warning("Cancelled %d unanswered approval(s) past their deadline: %s", len(expired), expired)
    return expired
