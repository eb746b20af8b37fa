"""The real flows against the sandbox Jira and the session Prefect server, with approval on: the run pauses
with its plan published; only the approved items reach Jira; the approver is kept with the decisions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pmo_gates.actions.ledger import fingerprint_label
from pmo_gates.config import Settings
from pmo_gates.demo import DemoSession
from pmo_gates.store import Store
from pmo_gates.store.models import GateDecision
from tests.fixtures_flows import Background, artifact_text, artifacts_of, wait_for_state
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG

pytestmark = pytest.mark.prefect


@pytest.fixture(params=FLAVOURS)
def synced(prefect_api: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[DemoSession, Settings]]:
    """The sample portfolio in a sandbox (Cloud, then Data Center), synced through the sync-jira flow; approval on."""
    from pmo_gates.flows.sync import sync_jira

    with DemoSession(out_dir=tmp_path / "demo", flavour=request.param, index_lag=STRICT_INDEX_LAG) as session:
        assert session.settings is not None
        actions = session.settings.actions.model_copy(update={"approval": True, "approval_timeout_seconds": 60})
        settings = session.settings.model_copy(update={"actions": actions})
        sync_jira(settings=settings)
        yield session, settings


def plan_rows(flow_run_id: uuid.UUID, key: str) -> list[dict]:
    table = next(a for a in artifacts_of([flow_run_id]) if a.key == key)
    return json.loads(artifact_text(table))


def test_only_approved_corrective_actions_reach_jira(synced: tuple[DemoSession, Settings]) -> None:
    from prefect.flow_runs import resume_flow_run

    from pmo_gates.flows.corrective_actions import corrective_actions

    session, settings = synced
    name = f"ca-{uuid.uuid4().hex[:8]}"
    run = Background(lambda: corrective_actions.with_options(flow_run_name=name)(settings=settings))
    paused = wait_for_state(name, "PAUSED", background=run)
    assert session.sandbox_summary()["our_tickets"] == []  # nothing written while waiting
    creates = [row for row in plan_rows(paused.id, "corrective-actions-plan") if row["op"] == "create_ticket"]
    assert len(creates) >= 3
    chosen = [row["id"] for row in creates[:2]]
    resume_flow_run(paused.id, run_input={"approved_items": chosen, "approver": "pmo.lead", "note": "first two"})
    result = run.result()

    assert result.approval.status == "partly-approved" and result.approval.approver == "pmo.lead"
    assert result.actions["applied_ops"] == {"create_ticket": 2}
    assert len(result.actions["created"]) == 2
    ours = [i for i in session.sandbox.state.issues() if settings.actions.label in (i["fields"].get("labels") or [])]
    assert sorted(i["key"] for i in ours) == result.actions["created"]
    labels = {label for i in ours for label in i["fields"]["labels"]}
    assert {fingerprint_label(item.split(":", 1)[1]) for item in chosen} <= labels  # ids are op:fingerprint


def test_gate_review_approval_keeps_the_approver_with_the_decisions(synced: tuple[DemoSession, Settings]) -> None:
    from prefect.flow_runs import resume_flow_run

    from pmo_gates.flows.gate_review import gate_review

    session, settings = synced
    name = f"gr-{uuid.uuid4().hex[:8]}"
    run = Background(lambda: gate_review.with_options(flow_run_name=name)(settings=settings))
    paused = wait_for_state(name, "PAUSED", background=run)
    resume_flow_run(paused.id, run_input={"approve_all": True, "approver": "pat.pmo"})
    result = run.result()

    assert result.approval.status == "approved"
    assert result.actions["applied_ops"] == {"post_gate_comment": len(session.snapshot.projects)}
    store = Store(settings.database_url())
    try:
        with store.session() as s:
            rows = s.scalars(select(GateDecision).where(GateDecision.run_id == str(paused.id))).all()
    finally:
        store.dispose()
    latest = {}
    for row in sorted(rows, key=lambda r: r.id):
        latest[row.project_key] = row
    assert sorted(latest) == sorted(p.key for p in session.snapshot.projects)
    assert {row.approved_by for row in latest.values()} == {"pat.pmo"}


def test_delay_root_cause_comments_on_anchor_issues_once(synced: tuple[DemoSession, Settings]) -> None:
    """Each delayed project's anchor issue gets this month's analysis (causes, evidence, remedies) and one
    ticket; a second run on the same data writes nothing."""
    from pmo_gates.flows.delay_root_cause import delay_root_cause

    session, settings = synced
    settings = settings.model_copy(update={"actions": settings.actions.model_copy(update={"approval": False})})
    first = delay_root_cause(settings=settings)
    assert first.delayed >= 1
    delayed = [p for p in first.projects if p["delayed"]]
    period = first.period
    commented = {}
    for project in session.snapshot.projects:
        for issue in session.sandbox.state.issues():
            if not issue["key"].startswith(project.key + "-"):
                continue
            for comment in session.sandbox.state.comments(issue["key"]):
                body = comment["body"] if isinstance(comment["body"], str) else json.dumps(comment["body"])
                if f"rca:{period}" in body:
                    commented.setdefault(project.key, []).append(body)
    assert sorted(commented) == sorted(p["key"] for p in delayed)
    assert all(len(bodies) == 1 for bodies in commented.values())
    body = next(iter(commented.values()))[0]
    assert "Delay root-cause analysis" in body and "What to do (PMO playbook)" in body
    assert first.actions["applied_ops"].get("comment") == len(delayed)
    assert first.actions["applied_ops"].get("create_ticket") == len(delayed)

    requests_before = len(session.sandbox.requests)
    second = delay_root_cause(settings=settings)
    assert second.actions["applied_ops"] == {}
    writes = [r for r in session.sandbox.requests[requests_before:] if r.method in {"POST", "PUT", "DELETE"}]
    assert [r for r in writes if "/search" not in r.path] == []
