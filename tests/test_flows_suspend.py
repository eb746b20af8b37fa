"""Approvals that survive restarts: a deployment run on a process worker suspends for approval (its
process exits, no worker slot is held), the worker is stopped, the run is resumed with some items approved,
and a *new* worker runs it again from the top: exactly the approved items are applied, once. A suspended
run nobody answers before its deadline is ended as Cancelled ``ApprovalTimedOut`` by the next run of its
deployment; a late answer applies nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.approval_probe import suspend_probe
from tests.prefect_server import stop

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.prefect, pytest.mark.timeout(900)]


def start_worker(api_url: str, pool: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_WORKER_QUERY_SECONDS": "1", "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_for_run(run_id: Any, states: set[str], log: Path, timeout: float = 300) -> Any:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(run_id)
            if run.state and run.state.type.value in states:
                return run
            if run.state and run.state.type.value in {"FAILED", "CRASHED"}:
                pytest.fail(f"run {run.name} {run.state.type.value}: {run.state.message}\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
    pytest.fail(f"run never reached {states} within {timeout:.0f} s\n{log.read_text()[-4000:]}")


def deploy_probe(api_url: str, tmp_path: Path) -> tuple[str, Any]:
    from prefect.types.entrypoint import EntrypointType

    pool = f"suspend-{uuid.uuid4().hex[:8]}"
    created = subprocess.run(
        [sys.executable, "-m", "prefect", "work-pool", "create", pool, "--type", "process"],
        env={**os.environ, "PREFECT_API_URL": api_url}, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    deployment = suspend_probe.to_deployment(name=pool, entrypoint_type=EntrypointType.MODULE_PATH)
    return pool, deployment.apply(work_pool_name=pool)


def test_a_suspended_approval_survives_a_worker_restart(prefect_api: str, tmp_path: Path) -> None:
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    pool, deployment_id = deploy_probe(prefect_api, tmp_path)
    ledger = tmp_path / "ledger.txt"
    log = tmp_path / "worker.log"
    run = run_deployment(deployment_id, parameters={"ledger": str(ledger)}, timeout=0)

    first = start_worker(prefect_api, pool, log)
    try:
        suspended = wait_for_run(run.id, {"PAUSED"}, log)
    finally:
        stop(first)  # the worker that planned is gone while the run waits
    assert suspended.state.name == "Suspended"
    assert not ledger.exists()

    resume_flow_run(run.id, run_input={"approved_items": ["create_ticket:a", "resolve:c"], "approver": "pat"})
    second = start_worker(prefect_api, pool, log)
    try:
        finished = wait_for_run(run.id, {"COMPLETED"}, log)
    finally:
        stop(second)
    assert ledger.read_text().splitlines() == ["create_ticket:a pat", "resolve:c pat"]  # exactly those, once
    starts = (tmp_path / "ledger.txt.starts").read_text().split()
    assert len(starts) == 2 and starts[0] != starts[1]  # planned in one process, applied in another
    assert finished.state.name == "Completed"


def test_an_unanswered_suspended_approval_is_cancelled_as_timed_out(prefect_api: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    pool, deployment_id = deploy_probe(prefect_api, tmp_path)
    ledger = tmp_path / "ledger.txt"
    log = tmp_path / "worker.log"
    worker = start_worker(prefect_api, pool, log)
    try:
        stale = run_deployment(deployment_id, parameters={"ledger": str(ledger), "timeout_seconds": 1}, timeout=0)
        wait_for_run(stale.id, {"PAUSED"}, log)
        late = run_deployment(deployment_id, parameters={"ledger": str(ledger), "timeout_seconds": 1}, timeout=0)
        wait_for_run(late.id, {"PAUSED"}, log)  # its start cancelled the first, past its deadline
        resume_flow_run(late.id, run_input={"approve_all": True, "approver": "pat"})  # too late: applies nothing
        finished = wait_for_run(late.id, {"COMPLETED"}, log)
    finally:
        stop(worker)
    with get_client(sync_client=True) as client:
        cancelled = client.read_flow_run(stale.id)
    assert cancelled.state.type.value == "CANCELLED" and cancelled.state.name == "ApprovalTimedOut"
    assert "nothing was applied" in cancelled.state.message
    assert finished.state.name == "ApprovalTimedOut"
    assert not ledger.exists()
