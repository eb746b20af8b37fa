"""The benchmarks at their quick CI sizes, through ``benchmarks/run_all.py --quick`` (what ``make bench-quick``
runs): each must finish, print its figures and meet its targets. Sync is covered by test_bench_sync_small.py.

Each bench runs in its own process (the timings are the bench's, not pytest's), on SQLite and, where the
store matters, PostgreSQL. The whole set takes well under a minute on the 2-core machine.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_ALL = ROOT / "benchmarks" / "run_all.py"
BENCH_TIMEOUT_S = 200


def _run_all(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, dict[str, Any]]]:
    """Run run_all.py; (exit code, its stdout, the outcome of each bench by name)."""
    out = tmp_path / "bench.json"
    # Not the test session's Prefect set-up (test mode, its PREFECT_HOME): each bench makes its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run(
        [sys.executable, str(RUN_ALL), "--quick", "--timeout", str(BENCH_TIMEOUT_S), "--json-out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=BENCH_TIMEOUT_S + 60,
        check=False,
    )
    assert out.exists(), (
        f"run_all wrote no results (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    outcomes = {o["name"]: o for o in json.loads(out.read_text())}
    return done.returncode, done.stdout, outcomes


def _bench(tmp_path: Path, name: str, *args: str) -> dict[str, Any]:
    """One bench's report, after checking that run_all printed its summary and the bench its figures."""
    code, stdout, outcomes = _run_all(tmp_path, "--only", name, *args)
    outcome = outcomes[name]
    assert outcome["report"] is not None, f"{name} printed no figures: {outcome['status']}\n{stdout[-3000:]}"
    assert "Summary (quick CI sizes)" in stdout and outcome["headline"], stdout[-2000:]
    assert code == (0 if outcome["status"] == "ok" else 1)
    return outcome


@pytest.fixture(scope="module")
def facts_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _bench(tmp_path_factory.mktemp("bench-facts"), "facts", "--stores", "sqlite,postgresql")


@pytest.mark.slow
@pytest.mark.postgres
def test_facts_every_project_in_bulk_queries_on_both_stores(facts_run: dict[str, Any]) -> None:
    report, targets = facts_run["report"], facts_run["targets"]
    assert targets["every_project_every_fact"] and targets["bulk_statements"], targets
    assert [r["store"] for r in report["results"]] == ["sqlite", "postgresql"]
    assert report["projects"] == 200 and report["issues"] == 200 * 50
    names = {r["facts"] for r in report["results"]}
    assert len(names) == 1 and names.pop() >= 50  # the same facts on both stores
    for result in report["results"]:
        assert result["projects"] == result["complete_projects"] == 200
        assert 0 < result["sql_statements"] <= 60  # bulk: a constant, never one per project (200)
        assert 0 < result["median_s"] < 30 and result["ms_per_project"] > 0


@pytest.mark.slow
@pytest.mark.postgres
def test_facts_sqlite_and_postgresql_agree(facts_run: dict[str, Any]) -> None:
    assert facts_run["report"]["store_differences"] == []
    assert facts_run["targets"]["stores_agree"] and facts_run["status"] == "ok"


@pytest.mark.slow
def test_rules_compiled_within_2x_of_hand_written_and_agree(tmp_path: Path) -> None:
    outcome = _bench(tmp_path, "rules")
    report = outcome["report"]
    assert outcome["status"] == "ok", outcome["targets"]
    assert report["mismatches"] == 0
    assert report["ours_us"] > 0 and report["ours_us"] / report["hand_us"] <= report["target_ratio"] == 2.0
    assert report["evaluations"] == report["rules"] * report["projects"] == report["rules"] * 3000
    assert report["evaluate"]["findings"] == report["evaluations"] and report["evaluate"]["gate_results"] > 0


@pytest.mark.slow
def test_actions_bulk_creates_and_an_unchanged_rerun_writes_nothing(tmp_path: Path) -> None:
    outcome = _bench(tmp_path, "actions")
    plain, sandbox = outcome["report"]["plain_functions"], outcome["report"]["sandbox"]
    assert outcome["status"] == "ok", outcome["targets"]
    assert plain["projects"] == 200 and 0.2 * 200 < plain["failing_mandatory"] < 0.4 * 200  # --fail-rate 0.3
    assert plain["plan_counts"]["create_ticket"] == plain["failing_mandatory"]
    assert sandbox["new_tickets"] == plain["failing_mandatory"]
    assert 1 <= sandbox["create_calls"] <= math.ceil(sandbox["new_tickets"] / 50)
    assert sandbox["unchanged_rerun_write_calls"] == 0


@pytest.mark.slow
@pytest.mark.prefect
def test_flows_overhead_over_the_plain_functions_is_bounded(tmp_path: Path, prefect_server: str) -> None:
    outcome = _bench(tmp_path, "flows", "--prefect-api-url", prefect_server)
    report = outcome["report"]
    assert outcome["status"] == "ok", (outcome["targets"], report)
    assert report["projects"] == 40 and report["issues"] >= 40 * 20
    assert len(report["plain_s"]) == len(report["flows_s"]) == 2 and min(report["plain_s"]) > 0
    assert report["overhead_s_median"] <= report["max_overhead_s"] == 3
    assert report["scorecard_artifacts"] == 10


@pytest.mark.slow
def test_rca_bulk_analysis_finds_the_planted_causes(tmp_path: Path) -> None:
    outcome = _bench(tmp_path, "rca", "--stores", "sqlite")
    assert outcome["status"] == "ok", outcome["targets"]
    [result] = outcome["report"]["results"]
    analysis, planted = result["analysis"], result["planted_causes"]
    assert result["store"] == "sqlite" and result["rows"]["projects"] == 200
    assert 0 < analysis["sql_statements"] <= 30  # bulk: not one per project (200)
    assert planted["delayed_planted"] > 20 and planted["accuracy"] >= 0.95 and planted["false_alarms"] == 0
    assert result["reading_rows"]["per_project_statements"] == 3 * 200 and result["reading_rows"]["bulk_s"] > 0
    assert result["reports"]["charts"] > 0 and result["reports"]["html_kb"] > 0


# -- run_all itself: a missed target or a crash is a failure, figures are read from the last JSON --------


def _run_all_module() -> Any:
    spec = importlib.util.spec_from_file_location("bench_run_all", RUN_ALL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("print('progress'); print(json.dumps({'x': 1, 'targets': {'fast': True}}, indent=2))", "ok", 0),
        ("print(json.dumps({'x': 1, 'targets': {'fast': False}}, indent=2)); sys.exit(1)", "MISSED", 1),
        ("print(json.dumps({'x': 1, 'targets': {'fast': True}})); sys.exit(3)", "FAILED (exit 3)", 1),
        ("raise SystemExit('crashed before any figure')", "FAILED (exit 1)", 1),
    ],
)
def test_run_all_fails_on_a_missed_target_or_a_crash(tmp_path: Path, monkeypatch, capsys, body, status, code) -> None:
    run_all = _run_all_module()
    script = tmp_path / "bench_fake.py"
    script.write_text(f"import json, sys\n{body}\n")
    fake = run_all.Bench("fake", str(script), [], [], lambda r: [f"x={r['x']}"], json_flag=False)
    monkeypatch.setattr(run_all, "BY_NAME", {"fake": fake})
    out = tmp_path / "out.json"
    assert run_all.main(["--quick", "--only", "fake", "--stores", "sqlite", "--json-out", str(out)]) == code
    [outcome] = json.loads(out.read_text())
    assert outcome["status"] == status
    printed = capsys.readouterr().out
    assert f"fake  {status}" in printed
    if status != "FAILED (exit 1)":
        assert outcome["report"]["x"] == 1 and "x=1" in printed
