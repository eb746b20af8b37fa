"""Approval of a plan in Prefect: the form reduced to approved ids (unit), and pause/resume/timeout against
the real session Prefect server with a plan whose "apply" records what it was allowed to apply."""

from __future__ import annotations

import uuid

import pytest
from prefect import flow
from prefect.states import State

from pmo_gates.actions.apply import ApplyResult, ItemResult
from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.run import ActionsRun
from pmo_gates.config import Settings
from pmo_gates.flows.approval import PlanApproval, decide, poll_interval_for
from pmo_gates.flows.artifacts import ArtifactPublisher
from pmo_gates.flows.plan_apply import Approver, PlanApplyOutcome, exactly_as_approved, plan_approve_apply
from pmo_gates.flows.states import final_state
from tests.fixtures_flows import Background, artifact_text, artifacts_of, flow_run_named, make_settings, wait_for_state

IDS = ["create_ticket:a", "create_ticket:b", "resolve:c"]


def item(item_id: str, reason: str = "rule fails") -> PlanItem:
    op = item_id.split(":", 1)[0]
    return PlanItem(id=item_id, op=op, project_key="ALPHA", reason=reason, payload={"fields": {}})


def plan_of(ids: list[str], changed: str | None = None) -> Plan:
    return Plan(items=[item(i, "changed" if i == changed else "rule fails") for i in ids])


# ---- the form, without Prefect ---------------------------------------------------------------------


def test_approve_all_takes_every_item_in_plan_order() -> None:
    decision = decide(PlanApproval(approve_all=True, approver="pat"), IDS)
    assert decision.status == "approved" and decision.approved_ids == IDS and decision.approver == "pat"


def test_approve_some_keeps_plan_order_and_reports_unknown_ids() -> None:
    form = PlanApproval(approved_items=["resolve:c", "nope", "create_ticket:a"], approver="pat", note="ok")
    decision = decide(form, IDS)
    assert decision.status == "partly-approved"
    assert decision.approved_ids == ["create_ticket:a", "resolve:c"]
    assert decision.unknown_ids == ["nope"]
    assert decision.allows("resolve:c") and not decision.allows("create_ticket:b")


def test_approving_nothing_is_a_rejection() -> None:
    decision = decide(PlanApproval(approver="pat"), IDS)
    assert decision.status == "rejected" and decision.approved_ids == []
    assert "nothing was applied" in decision.summary()


def test_the_form_requires_an_approver() -> None:
    with pytest.raises(ValueError):
        PlanApproval(approve_all=True, approver="")


def test_poll_interval_is_short_for_short_timeouts() -> None:
    assert poll_interval_for(5) == 1 and poll_interval_for(3600) == 10


def test_only_items_identical_to_the_approved_ones_are_applied() -> None:
    seen = plan_of(IDS)
    approved = {i.id: i for i in seen.items if i.id != "resolve:c"}
    left: list[str] = []
    approve = exactly_as_approved(approved, left)
    fresh = plan_of(["create_ticket:a", "create_ticket:b", "resolve:c", "comment:new"], changed="create_ticket:b")
    assert approve(fresh) == ["create_ticket:a"]
    assert left == ["create_ticket:b"]


def test_the_plan_shown_is_kept_as_digests_that_survive_a_json_round_trip() -> None:
    from datetime import UTC, date, datetime, timedelta

    from pmo_gates.flows.approval import ShownPlan, item_digest

    with_date = PlanItem(
        id="create_ticket:a", op="create_ticket", project_key="ALPHA", reason="late",
        evidence={"due": date(2026, 3, 1), "slip": 4.5}, payload={"fields": {"duedate": date(2026, 3, 1)}},
    )  # fmt: skip
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    shown = ShownPlan.model_validate_json(ShownPlan.of([with_date], 60, now=start).model_dump_json())
    left: list[str] = []
    assert exactly_as_approved(shown.items, left)(Plan(items=[with_date])) == ["create_ticket:a"] and not left
    changed = with_date.model_copy(update={"reason": "later"})
    assert item_digest(changed) != shown.items["create_ticket:a"]
    assert exactly_as_approved(shown.items, left)(Plan(items=[changed])) == [] and left == ["create_ticket:a"]
    assert not shown.expired(start + timedelta(seconds=59)) and shown.expired(start + timedelta(seconds=61))


def test_rejected_and_timed_out_runs_get_their_own_state_names() -> None:
    from pmo_gates.flows.approval import ApprovalDecision

    rejected = final_state("result", ApprovalDecision(status="rejected", approver="pat"))
    timed_out = final_state("result", ApprovalDecision(status="timed-out"))
    assert (rejected.type.value, rejected.name) == ("COMPLETED", "Rejected")
    assert (timed_out.type.value, timed_out.name) == ("COMPLETED", "ApprovalTimedOut")
    assert "nothing was applied" in timed_out.message
    assert final_state("result", ApprovalDecision(status="approved", approved_ids=["a"])) == "result"


def test_a_run_longer_than_its_configured_timeout_is_stopped(tmp_path) -> None:
    import time

    from pmo_gates.flows.states import FlowTimeLimit, time_limit

    settings = make_settings(tmp_path, timeouts={"sync": 1})
    started = time.monotonic()
    with pytest.raises(FlowTimeLimit, match=r"timeouts.sync = 1 s"), time_limit(settings, "sync"):
        for _ in range(50):  # Python-level work: the limit is checked between bytecodes, not inside a C call
            time.sleep(0.1)
    assert time.monotonic() - started < 3


# ---- against the real Prefect server ---------------------------------------------------------------


@flow(name="approval-probe")
def approval_probe(settings: Settings, change_b: bool = False) -> PlanApplyOutcome | State[PlanApplyOutcome]:
    """A flow whose plan changes item b between the planning pass and the apply pass."""

    def run_pass(dry_run: bool, approve: Approver | None, approver: str | None) -> ActionsRun:
        plan = plan_of(IDS, changed="create_ticket:b" if change_b and not dry_run else None)
        run = ActionsRun(dry_run=dry_run, plan=plan)
        if not dry_run:
            ids = approve(plan) if approve else [i.id for i in plan.items]
            run.applied = ApplyResult(
                items=[ItemResult(id=i, op=i.split(":")[0], status="applied", note=f"by {approver}") for i in ids]
            )
        return run

    outcome = plan_approve_apply(run_pass, lambda r: r, settings, ArtifactPublisher(["s3cret-token"]), "approval-probe")
    return final_state(outcome, outcome.approval)


@pytest.mark.prefect
def test_resume_with_some_items_applies_only_those(prefect_api: str, tmp_path) -> None:
    from prefect.flow_runs import resume_flow_run

    settings = make_settings(tmp_path, actions={"approval": True, "approval_timeout_seconds": 60})
    name = f"approve-some-{uuid.uuid4().hex[:8]}"
    run = Background(lambda: approval_probe.with_options(flow_run_name=name)(settings, change_b=True))
    paused = wait_for_state(name, "PAUSED", background=run)
    with pytest.raises(RuntimeError, match="approver"):
        resume_flow_run(paused.id, run_input={"approve_all": True})  # the server enforces the form
    resume_flow_run(
        paused.id,
        run_input={"approved_items": ["create_ticket:a", "create_ticket:b"], "approver": "pat", "note": "go"},
    )
    outcome = run.result()
    assert outcome.approval.status == "partly-approved" and outcome.approval.approver == "pat"
    assert [r.id for r in outcome.result.applied.items] == ["create_ticket:a"]
    assert outcome.result.applied.items[0].note == "by pat"
    assert outcome.not_applied == ["create_ticket:b"]  # changed between approval and apply
    finished = flow_run_named(name)
    assert finished.state.type.value == "COMPLETED"
    texts = {a.key: artifact_text(a) for a in artifacts_of([finished.id])}
    assert {"approval-probe-plan", "approval-probe-plan-summary", "approval-probe-approval"} <= set(texts)
    assert "pat" in texts["approval-probe-approval"] and "create_ticket:b" in texts["approval-probe-approval"]


@pytest.mark.prefect
def test_timeout_applies_nothing_and_says_so(prefect_api: str, tmp_path, caplog) -> None:
    settings = make_settings(tmp_path, actions={"approval": True, "approval_timeout_seconds": 2})
    name = f"approve-timeout-{uuid.uuid4().hex[:8]}"
    outcome = approval_probe.with_options(flow_run_name=name)(settings)
    assert outcome.approval.status == "timed-out"
    assert outcome.result.applied is None and outcome.result.dry_run
    assert any("timed out" in r.getMessage() for r in caplog.records)
    finished = flow_run_named(name)
    assert finished.state.type.value == "COMPLETED" and finished.state.name == "ApprovalTimedOut"
    assert "nothing was applied" in finished.state.message
    texts = {a.key: artifact_text(a) for a in artifacts_of([finished.id])}
    assert "timed out" in texts["approval-probe-approval"] and "nothing was applied" in texts["approval-probe-approval"]


@pytest.mark.prefect
def test_a_rejected_plan_ends_in_a_state_named_rejected(prefect_api: str, tmp_path) -> None:
    from prefect.flow_runs import resume_flow_run

    settings = make_settings(tmp_path, actions={"approval": True, "approval_timeout_seconds": 60})
    name = f"approve-none-{uuid.uuid4().hex[:8]}"
    run = Background(lambda: approval_probe.with_options(flow_run_name=name)(settings))
    paused = wait_for_state(name, "PAUSED", background=run)
    resume_flow_run(paused.id, run_input={"approver": "pat", "note": "not now"})
    outcome = run.result()  # the caller still gets the result
    assert outcome.approval.status == "rejected" and outcome.result.applied is None
    finished = flow_run_named(name)
    assert finished.state.type.value == "COMPLETED" and finished.state.name == "Rejected"
    assert finished.state.message == "Plan rejected by pat: nothing was applied."


@pytest.mark.prefect
def test_without_approval_the_plan_is_applied_whole_without_pausing(prefect_api: str, tmp_path) -> None:
    settings = make_settings(tmp_path)
    outcome = approval_probe(settings)
    assert outcome.approval.status == "not-required"
    assert [r.id for r in outcome.result.applied.items] == IDS
