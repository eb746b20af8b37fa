"""The exactly-once fault matrix, shared by tests/test_actions_fault_matrix.py (short) and
benchmarks/bench_faults.py (full size).

One workload, many faults. ``n`` corrective-action tickets go through a life: created, escalated three
times (+1, +8, +15 days past due), then half of them resolved. Each round runs with the case's faults
(responses slower than the read timeout, requests dropped before or after Jira acted, 5xx before or after
acting, failing property writes, the store lost before the round, the worker killed with SIGKILL at a
random moment), then again without faults until nothing is pending. At the end the sandbox is counted:
exactly one ticket per fingerprint and exactly one comment per marker, every expected marker present.

    python -m tests.fault_matrix worker JOB.json   # one round in a separate process (the kill -9 cases)
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pmo_gates.actions.requests import ActionRequest
from pmo_gates.actions.run import Inputs, run_actions
from pmo_gates.config import ConfirmConfig, Settings
from pmo_gates.connectors.client import build_client
from pmo_gates.review.markup import find_marker, flatten_adf
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.sandbox import FaultRule, SandboxServer, generate_portfolio
from pmo_gates.store import Store
from tests.fixtures_actions import facts as base_facts
from tests.fixtures_actions import rule_set, settings
from tests.fixtures_sandbox_actions import connection

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 11, 2)
DUE_DAYS = 7
# Day offsets of the rounds: create, escalation steps 1-3, then half resolved.
ROUNDS = (0, DUE_DAYS + 1, DUE_DAYS + 8, DUE_DAYS + 15, DUE_DAYS + 16)
READ_TIMEOUT = 0.3
SLOW = 0.6  # > READ_TIMEOUT: Jira acts after the client gave up
CONFIRM = ConfirmConfig(wait_seconds=1.0, first_poll_seconds=0.05, max_poll_seconds=0.3, budget_seconds=30)
INDEX_LAG = 2.0  # the index-lag case's search lag (s): longer than a killed worker's successor takes to search
SEARCH_LAG_ALLOWANCE = 2.5  # jira.search_lag_seconds: above the lag, small enough to wait out in a test
WRITES = r"/(issue/bulk|comment|transitions)$"


@dataclass
class Case:
    name: str
    faults: Callable[[random.Random], list[FaultRule]] = lambda rng: []
    store_loss: bool = False
    kill: bool = False
    keep_faults: bool = False  # the faults stay on while the round converges (a Jira that keeps failing)
    index_lag: float = 0.0  # seconds before a write shows in JQL search (Cloud's index lag)


def _every(rng: random.Random, low: int = 2, high: int = 4) -> int:
    return rng.randint(low, high)


CASES: list[Case] = [
    Case("no-faults"),  # the baseline the others' time is compared with
    Case("slow-bulk-create", lambda rng: [FaultRule(method="POST", path=r"/issue/bulk$", delay=SLOW, count=1)]),
    Case("slow-comments", lambda rng: [FaultRule(method="POST", path=r"/comment$", delay=SLOW, every=_every(rng))]),
    Case("dropped-before-acting", lambda rng: [FaultRule(method="POST", path=WRITES, drop=True, every=_every(rng))]),
    Case(
        "dropped-after-acting",
        lambda rng: [FaultRule(method="POST", path=WRITES, drop=True, after=True, every=_every(rng))],
    ),
    Case(
        "5xx-before-and-after-acting",
        lambda rng: [
            FaultRule(method="POST", path=WRITES, status=504, after=True, every=_every(rng, 3, 5)),
            FaultRule(method="POST", path=WRITES, status=500, every=_every(rng, 3, 5)),
        ],
    ),
    Case(
        "property-write-failures",
        lambda rng: [FaultRule(method="PUT", path=r"/properties/pmo-gates$", status=500, every=_every(rng, 1, 2))],
    ),
    Case(
        "store-loss-with-stale-properties",
        lambda rng: [FaultRule(method="PUT", path=r"/properties/pmo-gates$", status=500)],
        store_loss=True,
        keep_faults=True,  # no property write ever succeeds: every adoption reads a stale level
    ),
    Case("kill-9", kill=True),
    Case(
        # Search trails writes: a crash or a lost answer right after a create is followed by runs that cannot
        # see the ticket yet (they defer it), then by one that can (it adopts it).
        "index-lag",
        lambda rng: [FaultRule(method="POST", path=r"/issue/bulk$", drop=True, after=True, count=1)],
        kill=True,
        index_lag=INDEX_LAG,
    ),
    Case(
        "everything",
        lambda rng: [
            FaultRule(method="POST", path=r"/issue/bulk$", delay=SLOW, count=1),
            FaultRule(method="POST", path=WRITES, drop=True, after=True, every=_every(rng, 4, 6)),
            FaultRule(method="POST", path=r"/comment$", delay=SLOW, every=_every(rng, 4, 6)),
            FaultRule(method="PUT", path=r"/properties/pmo-gates$", status=500, every=_every(rng, 2, 3)),
        ],
        store_loss=True,
        kill=True,
    ),
]


@dataclass
class Outcome:
    case: str
    tickets: int = 0
    duplicate_tickets: int = 0
    comments: int = 0
    duplicate_comments: int = 0
    missing_comments: int = 0
    runs: int = 0
    kills: int = 0
    kills_mid_write: int = 0  # killed after it had sent writes of its round (and before it finished)
    pending_items: int = 0
    deferred_items: int = 0  # creates held back while search might not show an unrecorded earlier create
    failed_items: int = 0
    store_losses: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        return not (self.duplicate_tickets or self.duplicate_comments or self.missing_comments or self.errors)


def workload(projects: list[str], n: int, day: int) -> list[ActionRequest]:
    """``n`` tickets; from the last round on, every other one passes (resolved)."""
    resolving = day >= ROUNDS[-1]
    return [
        ActionRequest(
            fingerprint=f"fm-{i:04d}",
            kind="rca",
            rule_id="fault-matrix",
            project_key=projects[i % len(projects)],
            period="2026-11",
            status="passing" if resolving and i % 2 else "failing",
            outcome="pass" if resolving and i % 2 else None,
            summary=f"[PMO] fault matrix {i}",
            description="A corrective action that must exist exactly once.",
            due_days=DUE_DAYS,
        )
        for i in range(n)
    ]


def expected_markers(n: int) -> dict[str, set[str]]:
    steps = {f"escalation-{k}.c0" for k in (1, 2, 3)}
    return {f"fm-{i:04d}": steps | ({"resolve.c0"} if i % 2 else set()) for i in range(n)}


def run_round(cfg: Settings, store: Store, url: str, projects: list[str], n: int, day: int, rules_dir: Path) -> Any:
    today = TODAY + timedelta(days=day)
    rules = rule_set(rules_dir)
    values = base_facts(**{key: {} for key in projects})
    inputs = Inputs(today=today, rule_set=rules, facts=values, evaluation=evaluate(rules, values, today=today))
    client = build_client(connection(url).model_copy(update={"read_timeout": READ_TIMEOUT}))
    try:
        now = datetime(today.year, today.month, today.day, 6, tzinfo=UTC)
        return run_actions(
            cfg, store=store, client=client, today=today, now=now, inputs=inputs,
            extra_requests=workload(projects, n, day),
        )  # fmt: skip
    finally:
        client.close()


class Matrix:
    """One sandbox; each case starts from the sample portfolio and a freshly synced SQLite store."""

    def __init__(
        self, workdir: Path, *, n: int, seed: int = 7, kills: int = 2, kill_rounds: tuple[int, ...] | None = None
    ) -> None:
        self.workdir = workdir
        self.n = n
        self.seed = seed
        self.kills = kills
        self.kill_rounds = kill_rounds if kill_rounds is not None else tuple(range(len(ROUNDS)))
        # A small portfolio: the tickets are the workload, and a fresh store (store loss) syncs in a moment.
        snapshot = generate_portfolio(projects=4, issues_per_project=4, seed=seed, today=TODAY, compact=True)
        self.sandbox = SandboxServer(snapshot, flavour="cloud").start()
        self.projects = sorted(p["key"] for p in self.sandbox.state.projects())
        base = settings(self.sandbox.url)
        self.settings = base.model_copy(
            update={
                "jira": base.jira.model_copy(update={"search_lag_seconds": SEARCH_LAG_ALLOWANCE}),
                "portfolio": base.portfolio.model_copy(update={"projects": self.projects}),
                "actions": base.actions.model_copy(update={"confirm": CONFIRM}),
            }
        )

    def close(self) -> None:
        self.sandbox.stop()

    def fresh_store(self, name: str) -> Store:
        from pmo_gates.connectors.sync import sync_portfolio

        path = self.workdir / f"{name}.db"
        path.unlink(missing_ok=True)
        store = Store(f"sqlite:///{path}")
        sync_portfolio(connection(self.sandbox.url), store, self.settings, full=True)
        return store

    def run_case(self, case: Case) -> Outcome:
        rng = random.Random(f"{self.seed}:{case.name}")
        outcome = Outcome(case.name)
        started = time.perf_counter()
        self.sandbox.reset()
        store = self.fresh_store(case.name)
        self.sandbox.state.index_lag = case.index_lag  # after the sync: only the case's writes lag
        try:
            for index, day in enumerate(ROUNDS):
                if case.store_loss and index:
                    store.dispose()
                    store = self.fresh_store(case.name)
                    outcome.store_losses += 1
                for rule in case.faults(rng):
                    self.sandbox.faults.add(rule)
                if case.kill and index in self.kill_rounds:
                    for _ in range(self.kills):
                        killed, mid_write = self.killed_worker(store, day, rng)
                        outcome.kills += killed
                        outcome.kills_mid_write += mid_write
                        outcome.runs += 1
                self.attempt(store, day, outcome)
                if not case.keep_faults:
                    self.sandbox.faults.clear()
                for _ in range(4):  # converge: the next runs finish what was left pending or deferred
                    if self.attempt(store, day, outcome):
                        break
            self.count(outcome)
        except Exception as exc:  # reported as a case failure with its reason
            outcome.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self.sandbox.faults.clear()
            self.sandbox.state.index_lag = 0.0
            store.dispose()
        outcome.seconds = round(time.perf_counter() - started, 2)
        return outcome

    def attempt(self, store: Store, day: int, outcome: Outcome) -> bool:
        """One run; True when it left nothing pending or failed."""
        outcome.runs += 1
        run = run_round(self.settings, store, self.sandbox.url, self.projects, self.n, day, self.workdir)
        applied = run.applied
        if applied is None:
            return True
        outcome.pending_items += len(applied.pending)
        outcome.deferred_items += len(applied.deferred)
        outcome.failed_items += len(applied.failed)
        if applied.deferred:
            # An unrecorded create is looked for only once the allowance has passed: wait it out.
            time.sleep(SEARCH_LAG_ALLOWANCE)
        # A property Jira keeps refusing (keep_faults) is retried by every run; the writes themselves are done.
        return not applied.pending and not applied.deferred and all(r.op == "sync_property" for r in applied.failed)

    def killed_worker(self, store: Store, day: int, rng: random.Random) -> tuple[int, int]:
        """A round in a separate process, killed with SIGKILL at a random moment of its Jira writes:
        (killed, killed after some of its writes)."""
        job = self.workdir / "job.json"
        job.write_text(
            json.dumps(
                {
                    "settings": self.settings.model_dump(mode="json"),
                    "store": store.url,
                    "url": self.sandbox.url,
                    "projects": self.projects,
                    "n": self.n,
                    "day": day,
                    "rules_dir": str(self.workdir),
                }
            )
        )
        # Writes take a little time, so that a random moment falls among them rather than after them.
        slow = self.sandbox.faults.add(FaultRule(path=r"/(issue/bulk|comment|properties/.*)$", delay=0.02))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.fault_matrix", "worker", str(job)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert worker.stdout is not None
            worker.stdout.readline()  # "ready": imports done, the round starts now
            writes = len(self.sandbox.requests.writes())
            deadline = time.monotonic() + 60
            # Wait for the round's first write, then kill at a random moment among the next ones.
            while worker.poll() is None and len(self.sandbox.requests.writes()) == writes:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.03 * self.n))
            killed = worker.poll() is None
            if killed:
                os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=60)
            # Jira still carries out a request the dead worker had sent. The next run after a kill -9 (the
            # next schedule, or a retry once Prefect has marked the run crashed) starts well after that; a
            # run that read the comments while it was still being carried out would post it a second time.
            assert self.sandbox.wait_idle(timeout=30), "the sandbox kept serving the dead worker's requests"
            return int(killed), int(killed and len(self.sandbox.requests.writes()) > writes)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
            self.sandbox.faults.remove(slow)

    def count(self, outcome: Outcome) -> None:
        """Tickets per fingerprint and comments per marker, as the sandbox holds them."""
        per_fp: Counter[str] = Counter()
        keys: dict[str, str] = {}
        for issue in self.sandbox.state.issues():
            for label in issue.get("fields", {}).get("labels") or []:
                if label.startswith("pmo-fp-fm-"):
                    per_fp[label.removeprefix("pmo-fp-")] += 1
                    keys[label.removeprefix("pmo-fp-")] = issue["key"]
        outcome.tickets = len(per_fp)
        outcome.duplicate_tickets = sum(c - 1 for c in per_fp.values()) + (self.n - len(per_fp))
        for fingerprint, wanted in expected_markers(self.n).items():
            key = keys.get(fingerprint)
            purposes: Counter[str] = Counter()
            for comment in self.sandbox.state.comments(key) if key else []:
                body = comment.get("body")
                marker = find_marker(body if isinstance(body, str) else flatten_adf(body))
                if marker:
                    purposes[marker[0]] += 1
            outcome.comments += sum(purposes.values())
            outcome.duplicate_comments += sum(c - 1 for c in purposes.values())
            outcome.missing_comments += len(wanted - set(purposes))


def run_matrix(
    workdir: Path,
    *,
    n: int,
    seed: int = 7,
    kills: int = 2,
    kill_rounds: tuple[int, ...] | None = None,
    only: list[str] | None = None,
) -> list[Outcome]:
    """Every case (or ``only`` these), each from a fresh sandbox and store; ``kills`` SIGKILLed workers in
    each of ``kill_rounds`` (default: every round) of the kill cases."""
    matrix = Matrix(workdir, n=n, seed=seed, kills=kills, kill_rounds=kill_rounds)
    try:
        return [matrix.run_case(case) for case in CASES if only is None or case.name in only]
    finally:
        matrix.close()


def _worker(job_path: str) -> None:
    job = json.loads(Path(job_path).read_text())
    cfg = Settings.model_validate(job["settings"])
    store = Store(job["store"])
    print("ready", flush=True)
    run_round(cfg, store, job["url"], job["projects"], job["n"], job["day"], Path(job["rules_dir"]))
    store.dispose()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        _worker(sys.argv[2])
    else:
        raise SystemExit("usage: python -m tests.fault_matrix worker JOB.json")
