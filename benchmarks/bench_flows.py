"""Prefect's overhead on review + plan: the gate-review and corrective-actions flows (dry run) through a real
Prefect server, against the same plain functions called directly, on the same store and sandbox Jira.

    python benchmarks/bench_flows.py                    # 2,000 projects x 100 issues (the issue's figure)
    python benchmarks/bench_flows.py --projects 100     # a quick run
    python benchmarks/bench_flows.py --api-url http://127.0.0.1:4200/api   # an already running server

Set-up (not timed): a generated portfolio served by the sandbox, synced into a SQLite store. Then, after one
warm-up of each: ``--repeat`` alternating rounds of (a) ``run_review`` + ``run_actions`` with
``dry_run=True`` and (b) the ``gate-review`` + ``corrective-actions`` flows with ``dry_run=True``. Both do
the same work (rules, facts, evaluation, decision records, Jira read-back, plan); the flows add task and
flow runs, the plan and review artifacts and up to ``--scorecards`` per-project scorecard artifacts.
Flow heartbeats are off. Prints one JSON object; ``overhead_ratio`` = median flow time / median plain time
(``overhead_ratio_best``: best / best). On a shared 2-core machine single rounds vary by +-30%: use
``--repeat`` 5 or more for a figure to quote.

Targets (checked, exit code 1 when missed): ``overhead_ratio`` <= ``--target-ratio`` (1.2, the figure for
the full-size portfolio; 0 turns it off) and, when given, the median overhead in seconds <=
``--max-overhead-s``. On a small portfolio Prefect's fixed cost per flow run (flow and task runs, artifacts:
about half a second) dominates the ratio, so the CI-sized run checks the overhead in seconds instead:

    python benchmarks/bench_flows.py --projects 40 --issues-per-project 20 --repeat 2 --scorecards 10 \
        --target-ratio 0 --max-overhead-s 3
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

TODAY = date(2026, 11, 2)
EMAIL = "bench@example.com"
TOKEN_ENV = "PMO_GATES_BENCH_TOKEN"


@contextmanager
def prefect_server(folder: Path, api_url: str | None) -> Iterator[str]:
    """A ``prefect server start`` subprocess on a free loopback port (or the given server)."""
    if api_url:
        yield api_url
        return
    import httpx

    from tests.prefect_server import free_port, server_env

    port = free_port()
    log = (folder / "prefect-server.log").open("wb")
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, env=server_env(folder), start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not start; see {log.name}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def settings_for(url: str, projects: list[str], folder: Path, lead: str | None) -> Any:
    from pmo_gates.config import Settings

    return Settings.model_validate(
        {
            "jira": {"url": url, "flavour": "cloud", "auth": {"email": EMAIL, "token_env": TOKEN_ENV}},
            "portfolio": {"projects": projects},
            "database": {"url": f"sqlite:///{folder / 'store.db'}"},
            "actions": {"pmo_lead": lead},
            "today": TODAY.isoformat(),
        }
    )


def plain_round(settings: Any) -> float:
    from pmo_gates.actions.run import run_actions
    from pmo_gates.connectors.client import build_client
    from pmo_gates.connectors.connection import JiraConnection
    from pmo_gates.review.run import run_review
    from pmo_gates.store import Store

    started = time.perf_counter()
    store = Store(settings.database_url())
    client = build_client(JiraConnection.from_settings(settings))
    try:
        run_review(settings, store=store, client=client, dry_run=True)
        run_actions(settings, store=store, client=client, dry_run=True)
    finally:
        client.close()
        store.dispose()
    return time.perf_counter() - started


def flow_round(settings: Any, scorecards: int) -> float:
    from pmo_gates.flows.corrective_actions import corrective_actions
    from pmo_gates.flows.gate_review import gate_review

    started = time.perf_counter()
    gate_review(settings=settings, dry_run=True, scorecard_limit=scorecards)
    corrective_actions(settings=settings, dry_run=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--issues-per-project", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scorecards", type=int, default=100, help="per-project scorecard artifacts (flows)")
    parser.add_argument("--api-url", default=None, help="use this Prefect server instead of starting one")
    parser.add_argument("--target-ratio", type=float, default=1.2, help="median flows / plain; 0: not checked")
    parser.add_argument("--max-overhead-s", type=float, default=None, help="median flows - plain, in seconds")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="pmo-bench-flows-") as tmp:
        folder = Path(tmp)
        os.environ["PREFECT_HOME"] = str(folder / "prefect-home")
        token = secrets.token_urlsafe(24)
        os.environ[TOKEN_ENV] = token

        from pmo_gates.connectors.connection import JiraConnection
        from pmo_gates.connectors.sync import sync_portfolio
        from pmo_gates.sandbox import SandboxServer, generate_portfolio
        from pmo_gates.store import Store

        t0 = time.perf_counter()
        snapshot = generate_portfolio(
            projects=args.projects, issues_per_project=args.issues_per_project, seed=42, today=TODAY
        )
        generated = time.perf_counter() - t0
        with SandboxServer(snapshot, flavour="cloud", auth=(EMAIL, token)) as sandbox:
            users = sorted(u.accountId for u in snapshot.users if u.active and u.accountId)
            keys = sorted(p.key for p in snapshot.projects)
            settings = settings_for(sandbox.url, keys, folder, users[0] if users else None)
            store = Store(settings.database_url())
            t0 = time.perf_counter()
            synced = sync_portfolio(JiraConnection.from_settings(settings), store, settings, full=True)
            sync_s = time.perf_counter() - t0
            store.dispose()

            with prefect_server(folder, args.api_url) as url:
                from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

                with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                    warm_plain = plain_round(settings)
                    warm_flow = flow_round(settings, args.scorecards)
                    plain, flows = [], []
                    for _ in range(args.repeat):
                        plain.append(plain_round(settings))
                        flows.append(flow_round(settings, args.scorecards))
                    from prefect.logging.handlers import APILogWorker

                    APILogWorker.drain_all(timeout=30)

    result = {
        "projects": args.projects,
        "issues": synced.issues_upserted,
        "setup": {"generate_s": round(generated, 1), "sync_s": round(sync_s, 1)},
        "warm_up_s": {"plain": round(warm_plain, 2), "flows": round(warm_flow, 2)},
        "plain_s": [round(x, 2) for x in plain],
        "flows_s": [round(x, 2) for x in flows],
        "scorecard_artifacts": min(args.scorecards, args.projects),
        "overhead_ratio": round(statistics.median(flows) / statistics.median(plain), 3),
        "overhead_ratio_best": round(min(flows) / min(plain), 3),
        "overhead_s_median": round(statistics.median(flows) - statistics.median(plain), 2),
        "target_ratio": args.target_ratio or None,
        "max_overhead_s": args.max_overhead_s,
    }
    targets = {}
    if args.target_ratio:
        targets["overhead_ratio"] = statistics.median(flows) / statistics.median(plain) <= args.target_ratio
    if args.max_overhead_s is not None:
        targets["overhead_seconds"] = statistics.median(flows) - statistics.median(plain) <= args.max_overhead_s
    result["targets"] = targets
    print(json.dumps(result, indent=2))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
