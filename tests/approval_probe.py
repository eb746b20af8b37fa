"""A flow for approval tests whose plan is fixed and whose "apply" appends to a ledger file, so that a test
can see what was applied, how often, and by which process. Importable by module path: a process worker
loads it from ``tests.approval_probe`` the way it loads ``pmo_gates.flows.*``."""

from __future__ import annotations

import os
from pathlib import Path

from prefect import flow
from prefect.states import State

from pmo_gates.actions.apply import ApplyResult, ItemResult
from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.run import ActionsRun
from pmo_gates.flows.artifacts import ArtifactPublisher
from pmo_gates.flows.plan_apply import Approver, PlanApplyOutcome, plan_approve_apply
from pmo_gates.flows.states import final_state
from tests.fixtures_flows import make_settings

IDS = ["create_ticket:a", "create_ticket:b", "resolve:c"]


def probe_plan() -> Plan:
    return Plan(
        items=[
            PlanItem(id=i, op=i.split(":", 1)[0], project_key="ALPHA", reason="rule fails", payload={"fields": {}})
            for i in IDS
        ]
    )


@flow(name="suspend-probe", persist_result=True)
def suspend_probe(ledger: str, timeout_seconds: int = 600) -> PlanApplyOutcome | State[PlanApplyOutcome]:
    """Plan three items, wait for approval, append each applied id (and the approver) to ``ledger``.

    Args:
        ledger: File the applied items are appended to; ``<ledger>.starts`` gets this process's id per start.
        timeout_seconds: The approval deadline.
    """
    folder = Path(ledger).parent
    with open(f"{ledger}.starts", "a", encoding="utf-8") as starts:
        starts.write(f"{os.getpid()}\n")
    settings = make_settings(folder, actions={"approval": True, "approval_timeout_seconds": timeout_seconds})

    def run_pass(dry_run: bool, approve: Approver | None, approver: str | None) -> ActionsRun:
        plan = probe_plan()
        run = ActionsRun(dry_run=dry_run, plan=plan)
        if not dry_run:
            ids = approve(plan) if approve else [i.id for i in plan.items]
            with open(ledger, "a", encoding="utf-8") as out:
                out.writelines(f"{i} {approver}\n" for i in ids)
            run.applied = ApplyResult(items=[ItemResult(id=i, op=i.split(":")[0], status="applied") for i in ids])
        return run

    outcome = plan_approve_apply(run_pass, lambda r: r, settings, ArtifactPublisher([]), "suspend-probe")
    return final_state(outcome, outcome.approval)
