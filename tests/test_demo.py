"""``pmo-gates demo`` end to end, in process, through the real session Prefect server: the sample portfolio
synced, reviewed, analysed, acted on and reported; a second run on the same sandbox and store writes no new
ticket; no token in any artifact, log, comment or ticket."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_gates.demo import DEMO_EMAIL, TOKEN_ENV, DemoSession
from pmo_gates.sandbox import Snapshot, generate_portfolio, sample_portfolio_path
from tests.fixtures_flows import artifact_text
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG

FLOW_NAMES = ["sync-jira", "gate-review", "delay-root-cause", "corrective-actions", "portfolio-report"]


def flow_runs_since(started: datetime) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterStartTime

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=FLOW_NAMES)),
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=started)),
        )


def texts_of_runs(run_ids: list) -> list[str]:
    """Every artifact and every log line the runs left on the server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from tests.fixtures_flows import artifacts_of
    from tests.prefect_server import drain_workers

    drain_workers()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=run_ids)), limit=200)
    return [artifact_text(a) for a in artifacts_of(run_ids)] + [log.message for log in logs]


@pytest.mark.prefect
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_demo_runs_every_flow_on_the_sample_and_writes_each_ticket_once(
    prefect_api: str, tmp_path: Path, flavour: str
) -> None:
    sample = Snapshot.load(sample_portfolio_path())
    started = datetime.now(UTC)
    with DemoSession(out_dir=tmp_path / "demo", flavour=flavour, index_lag=STRICT_INDEX_LAG) as session:
        token = os.environ[TOKEN_ENV]
        first = session.run().to_json()
        second = session.run().to_json()
        sandbox_dump = json.dumps(session.sandbox.state.issues(), default=str)

    assert {"sync", "reviews", "rca", "actions", "reports"} <= set(first)
    keys = sorted(p.key for p in sample.projects)
    assert first["sync"]["projects"] == len(keys)
    assert first["sync"]["issues"] == len(sample.issues)
    assert first["sync"]["changelog_entries"] > 0 and first["sync"]["http_requests"] > 0
    assert sorted(r["project"] for r in first["reviews"]) == keys  # every sample project reviewed
    decisions = {"go", "conditional_go", "hold", "recycle", "kill"}
    assert all(r["decision"] in decisions and 0 <= r["score"] <= 100 for r in first["reviews"])
    assert sorted(p["key"] for p in first["rca"]) == keys
    delayed = [p for p in first["rca"] if p["delayed"]]
    assert delayed and all(p["causes"] == sorted(p["causes"], key=lambda c: -c["score"]) for p in delayed)

    created = first["actions"]["tickets_created"]
    assert created and created == first["sandbox"]["our_tickets"]  # every ticket we own, created by this run
    assert first["actions"]["failed"] == []
    assert first["actions"]["applied"].get("post_gate_comment") == len(keys)
    assert Path(first["reports"]["html"]).is_file() and first["reports"]["charts"]

    # The second run on the same sandbox and store: no new ticket, none duplicated.
    assert second["actions"]["tickets_created"] == [] and second["actions"]["create_calls"] == 0
    assert second["sandbox"]["our_tickets"] == first["sandbox"]["our_tickets"]
    assert second["sync"]["mode"] == "incremental"

    runs = flow_runs_since(started)
    assert len(runs) == 2 * len(FLOW_NAMES)
    assert all(r.state.type.value == "COMPLETED" for r in runs)
    basic = base64.b64encode(f"{DEMO_EMAIL}:{token}".encode()).decode()
    texts = texts_of_runs([r.id for r in runs])
    assert len(texts) > 20
    leaks = [t for t in [*texts, sandbox_dump] if token in t or basic in t]
    assert leaks == []


def test_demo_command_rejects_a_bad_seed_file(tmp_path: Path) -> None:
    from pmo_gates.cli import app

    bad = tmp_path / "seed.json"
    bad.write_text('{"format": "something-else"}')
    result = CliRunner().invoke(app, ["demo", "--seed", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "--seed" in result.output and "seed.json" in result.output


def test_demo_never_deletes_a_folder_it_did_not_make(tmp_path: Path) -> None:
    from pmo_gates.cli import app

    precious = tmp_path / "out" / "work" / "notes.txt"
    precious.parent.mkdir(parents=True)
    precious.write_text("mine")
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "was not made by pmo-gates demo" in result.output
    assert precious.read_text() == "mine"


@pytest.mark.prefect
def test_demo_command_prints_one_json_object(prefect_api: str, tmp_path: Path) -> None:
    from pmo_gates.cli import app

    seed = tmp_path / "small.json"
    snapshot = generate_portfolio(projects=2, issues_per_project=8, seed=5, today=datetime(2026, 11, 2).date())
    snapshot.dump(seed)
    result = CliRunner().invoke(app, ["demo", "--seed", str(seed), "--json", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(r["project"] for r in data["reviews"]) == sorted(p.key for p in snapshot.projects)
    assert data["sync"]["issues"] == len(snapshot.issues)
    assert Path(data["reports"]["html"]).parent == (tmp_path / "out" / "reports").resolve()


def test_summary_shows_causes_evidence_remedies_and_where_jira_was_written() -> None:
    from rich.console import Console

    from pmo_gates.commands.demo import print_summary
    from pmo_gates.demo import DemoResult

    cause = {
        "cause": "dependency_blocked",
        "share": 0.6,
        "score": 0.6,
        "evidence": {"summary": "3 items wait on OTHER-1 [In Progress]", "issues": [f"LATE-{i}" for i in range(7)]},
    }
    result = DemoResult(
        sync={"projects": 2, "issues": 20, "changelog_entries": 40, "http_requests": 8},
        reviews=[{"project": "LATE", "gate": "execution", "decision": "hold", "score": 40.0, "failed": ["spi"]}],
        rca=[
            {
                "key": "LATE",
                "delayed": True,
                "slip_days": 30.0,
                "causes": [cause],
                "remedies": [{"title": "Escalate blocking dependencies", "action": "Raise OTHER-1 this week."}],
            },
            {"key": "FINE", "delayed": False, "slip_days": 0.0, "causes": [], "remedies": []},
        ],
        actions={
            "applied": {"create_ticket": 1, "comment": 1},
            "create_calls": 1,
            "tickets_created": ["LATE-9"],
            "issues_written": ["LATE-1", "LATE-9"],
            "failed": [],
        },
        reports={"html": "/tmp/reports/index.html"},
        prefect_api="ephemeral",
    )
    console = Console(record=True, width=200)
    print_summary(result, console)
    text = console.export_text()
    assert "Delayed projects (1 of 2)" in text
    assert "dependency_blocked 60% (confidence 100%): 3 items wait on OTHER-1 [In Progress] [LATE-0, LATE-1" in text
    assert "(+2 more)" in text and "-> Escalate blocking dependencies: Raise OTHER-1 this week." in text
    assert "Tickets created: LATE-9" in text and "Issues commented on (anchor issues and tickets): LATE-1" in text


@pytest.mark.prefect
def test_demo_runs_on_the_data_center_flavour_with_the_same_shape(prefect_api: str, tmp_path: Path) -> None:
    from pmo_gates.cli import app

    seed = tmp_path / "small.json"
    snapshot = generate_portfolio(projects=2, issues_per_project=8, seed=5, today=datetime(2026, 11, 2).date())
    snapshot.dump(seed)
    args = ["demo", "--seed", str(seed), "--json", "--out", str(tmp_path / "out"), "--flavour", "dc"]
    args += ["--index-lag", str(STRICT_INDEX_LAG)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"sync", "reviews", "rca", "actions", "reports"} <= set(data)
    assert sorted(r["project"] for r in data["reviews"]) == sorted(p.key for p in snapshot.projects)
    assert data["sync"]["issues"] == len(snapshot.issues)
    assert data["actions"]["failed"] == [] and data["actions"]["tickets_created"]
    assert data["sandbox"]["flavour"] == "dc"
