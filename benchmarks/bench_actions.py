"""Gate review + corrective-action planning at portfolio scale, and the Jira calls the plan costs.

    python benchmarks/bench_actions.py --projects 2000            # the issue's figures
    python benchmarks/bench_actions.py --projects 200 --no-jira   # quick, plain functions only

Part 1 (plain functions, no Jira): evaluate + review (decision records) + plan for N projects whose facts
fail the charter rule at ``--fail-rate``. Part 2 (sandbox, when available): the same portfolio generated
into the sandbox and synced; apply the plan (create calls vs the ceil(n/50) target), then an unchanged
re-run (write calls vs the target 0).

Prints one JSON object. Targets (checked, exit code 1 when missed): the plan has one new ticket per
failing mandatory finding; with the sandbox, the tickets are created in at most ceil(n/50) bulk calls,
one ticket each, and an unchanged re-run makes no write call.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pmo_gates.actions.from_findings import OwnerDirectory, requests_from_evaluation
from pmo_gates.actions.planner import plan_actions
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.store import Store
from pmo_gates.store.models import Project
from tests.fixtures_actions import facts as base_facts
from tests.fixtures_actions import rule_set, settings

TODAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 6, tzinfo=UTC)


def synthetic_facts(keys: list[str], fail_rate: float, seed: int = 7) -> dict[str, dict]:
    rng = random.Random(seed)
    return base_facts(**{k: {"has_charter": rng.random() >= fail_rate} for k in keys})


def plain_functions(store: Store, keys: list[str], fail_rate: float, folder: Path) -> dict:
    from pmo_gates.review import review_portfolio

    rules = rule_set(folder)
    facts = synthetic_facts(keys, fail_rate)
    started = time.perf_counter()
    evaluation = evaluate(rules, facts, today=TODAY)
    evaluated = time.perf_counter()
    review = review_portfolio(store, rules, facts, today=TODAY, rules_hash=rules.digest, evaluation=evaluation, now=NOW)
    reviewed = time.perf_counter()
    with store.session() as session:
        owners = OwnerDirectory.from_store(session, "pmo-lead")
    requests = requests_from_evaluation(evaluation, rules, owners)
    plan = plan_actions(store, requests, review, settings(), today=TODAY)
    planned = time.perf_counter()
    return {
        "projects": len(keys),
        "failing_mandatory": sum(1 for r in requests if r.status == "failing" and r.rollout == "mandatory"),
        "evaluate_s": round(evaluated - started, 3),
        "review_s": round(reviewed - evaluated, 3),
        "plan_s": round(planned - reviewed, 3),
        "review_plus_plan_s": round(planned - started, 3),
        "plan_counts": {op: n for op, n in plan.counts.items() if n},
    }


def with_sandbox(projects: int, fail_rate: float, folder: Path, database: str) -> dict:
    from pydantic import SecretStr

    from pmo_gates.actions.run import Inputs, run_actions
    from pmo_gates.config import RetryConfig
    from pmo_gates.connectors.client import build_client
    from pmo_gates.connectors.connection import JiraConnection
    from pmo_gates.connectors.sync import sync_portfolio
    from pmo_gates.sandbox import SandboxServer
    from pmo_gates.sandbox.generate import generate_portfolio

    started = time.perf_counter()
    snapshot = generate_portfolio(projects=projects, issues_per_project=3, seed=11, today=TODAY)
    store = Store(database)
    phases: dict[str, float] = {"generate_s": round(time.perf_counter() - started, 3)}
    with SandboxServer(snapshot, flavour="cloud") as sandbox:
        conn = JiraConnection(url=sandbox.url, email="bench@example.com", token=SecretStr("bench-token"),
                              retry=RetryConfig(initial_wait_seconds=0.01))  # fmt: skip
        keys = sorted(p["key"] for p in sandbox.state.projects())
        cfg = settings(sandbox.url)
        cfg = cfg.model_copy(update={"portfolio": cfg.portfolio.model_copy(update={"projects": keys})})
        started = time.perf_counter()
        sync_portfolio(conn, store, cfg, full=True)
        phases["sync_s"] = round(time.perf_counter() - started, 3)
        print(f"generated and synced: {phases}", file=sys.stderr, flush=True)
        rules = rule_set(folder)
        facts = synthetic_facts(keys, fail_rate)
        inputs = Inputs(today=TODAY, rule_set=rules, facts=facts, evaluation=evaluate(rules, facts, today=TODAY))
        client = build_client(conn)
        sandbox.requests.reset()
        started = time.perf_counter()
        first = run_actions(cfg, store=store, client=client, today=TODAY, now=NOW, inputs=inputs)
        applied_s = time.perf_counter() - started
        creates = first.plan.counts["create_ticket"]
        sandbox.requests.reset()
        started = time.perf_counter()
        run_actions(cfg, store=store, client=client, today=TODAY, now=NOW, inputs=inputs)
        phases["unchanged_rerun_s"] = round(time.perf_counter() - started, 3)
        rerun_writes = len(sandbox.requests.writes())
        client.close()
    store.dispose()
    return {
        **phases,
        "new_tickets": creates,
        "create_calls": first.applied.create_calls if first.applied else 0,
        "create_calls_target": math.ceil(creates / 50),
        "apply_s": round(applied_s, 3),
        "unchanged_rerun_write_calls": rerun_writes,
        "unchanged_rerun_target": 0,
    }


def targets(report: dict) -> dict[str, bool]:
    plain = report["plain_functions"]
    out = {"one_ticket_per_failure": plain["plan_counts"].get("create_ticket", 0) == plain["failing_mandatory"]}
    sandbox = report.get("sandbox")
    if isinstance(sandbox, dict):
        out["bulk_create_calls"] = sandbox["create_calls"] <= sandbox["create_calls_target"]
        out["sandbox_one_ticket_per_failure"] = sandbox["new_tickets"] == plain["failing_mandatory"]
        out["unchanged_rerun_no_writes"] = sandbox["unchanged_rerun_write_calls"] == sandbox["unchanged_rerun_target"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--fail-rate", type=float, default=0.3)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--no-jira", action="store_true", help="Skip the sandbox part.")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = args.database or f"sqlite:///{folder / 'bench.db'}"
        store = Store(database)
        keys = [f"P{i:04d}" for i in range(args.projects)]
        with store.session() as session:
            session.add_all(
                Project(key=k, jira_id=str(i), name=k, anchor_issue_key=f"{k}-1", synced_at=NOW)
                for i, k in enumerate(keys)
            )
        report: dict = {"plain_functions": plain_functions(store, keys, args.fail_rate, folder)}
        store.dispose()
        if not args.no_jira:
            try:
                import pmo_gates.sandbox.server  # noqa: F401
            except ImportError:
                report["sandbox"] = "skipped: the sandbox server is not installed"
            else:
                sandbox_db = f"sqlite:///{folder / 'sandbox.db'}" if args.database is None else args.database
                report["sandbox"] = with_sandbox(args.projects, args.fail_rate, folder, sandbox_db)
    report["targets"] = targets(report)
    print(json.dumps(report, indent=2))
    return 0 if all(report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
