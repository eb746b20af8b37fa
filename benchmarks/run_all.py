"""Run every benchmark, one after another, each in its own process, and summarise their headline figures.

    python benchmarks/run_all.py                        # the documented full sizes (2,000 projects / 200,000
                                                        # issues where the bench has them): about an hour
    python benchmarks/run_all.py --quick                # CI sizes: each bench a few seconds to ~30 s
    python benchmarks/run_all.py --only facts,rca --stores sqlite
    python benchmarks/run_all.py --quick --json-out bench.json

Each bench's own output is passed through as it runs (its figures as JSON, its progress on stderr); then a
table gives the headline figures of each and whether it met its targets. Exit code 1 when a bench missed
a target, crashed or timed out; 2 when PostgreSQL is asked for (``--stores``, default both) but does not
answer on PMO_GATES_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).

Stores: facts and rca take ``--stores``; sync runs once per store (PostgreSQL in a throw-away database);
actions and flows run on SQLite only (their figures are Jira calls and Prefect's overhead).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG_URL = os.environ.get("PMO_GATES_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
STORES = ("sqlite", "postgresql")


# -- headline figures, from each bench's JSON -------------------------------------------------------------


def _sync_headline(r: dict[str, Any]) -> list[str]:
    p, full, inc, unchanged = r["portfolio"], r["full"], r["incremental"], r["unchanged"]
    lines = [
        f"{p['projects']:,} projects, {p['issues']:,} issues ({p['flavour']}, page {p['page_size']})",
        f"full sync {full['seconds']} s, {full['issues_per_s']} issues/s, {full['requests']} requests "
        f"(minimum {full['minimum_requests']}), peak RSS {full['peak_rss_mb']} MB",
        f"incremental: {inc['requests']} requests for {inc['changed']} changed (ceil(changed/page) "
        f"{inc['minimum_requests']}) in {inc['seconds']} s; unchanged: {unchanged['requests']} requests",
    ]
    seq = r.get("full_sequential")
    if seq and full["seconds"]:
        lines.append(
            f"one worker: {seq['seconds']} s ({seq['requests']} requests); CPU {full['cpu_ms_per_issue']} ms "
            f"per issue concurrent, {seq['cpu_ms_per_issue']} ms one worker"
        )
    e2e = r.get("end_to_end")
    if e2e:
        lines.append(
            f"end to end {e2e['total_s']} s: sync {e2e['sync_s']} + review {e2e['review_s']} + actions "
            f"{e2e['actions_s']} + rca {e2e['rca_s']}"
        )
    lat = r.get("latency")
    if lat:
        lines.append(
            f"{lat['latency_s']} s per search: one page at a time {lat['sequential']['seconds']} s, concurrent "
            f"{lat['concurrent']['seconds']} s ({lat['speedup']}x), peak {lat['concurrent']['peak_requests_per_s']} "
            f"requests/s; 429 storm: {lat['storm']['throttled_429']} 429s, stored {lat['storm']['stored_distinct']} "
            f"of {lat['issues']}"
        )
    resync = r.get("full_resync")
    if resync and inc["seconds"]:
        ratio = resync["seconds"] / inc["seconds"]
        lines.append(f"full re-sync instead: {resync['seconds']} s = {ratio:.1f}x the incremental sync")
    naive = r.get("naive_search_issues")
    if naive and full["seconds"]:
        lines.append(
            f"naive search_issues: {naive['seconds']} s = {naive['seconds'] / full['seconds']:.2f}x full sync time "
            f"(nothing stored), {naive['requests']} requests, peak RSS {naive['peak_rss_mb']} MB "
            f"= {naive['peak_rss_mb'] / full['peak_rss_mb']:.1f}x"
        )
    return lines


def _facts_headline(r: dict[str, Any]) -> list[str]:
    lines = [f"{r['projects']:,} projects, {r['issues']:,} issues, {r['changelog_items']:,} changelog items"]
    for s in r["results"]:
        lines.append(
            f"{s['store']}: {s['facts']} facts x {s['projects']:,} projects, median {s['median_s']} s "
            f"({s['ms_per_project']} ms/project), {s['sql_statements']} SQL statements"
        )
    if "store_differences" in r:
        diff = r["store_differences"]
        lines.append("stores agree" if not diff else f"stores DIFFER: {'; '.join(diff[:3])}")
    return lines


def _rules_headline(r: dict[str, Any]) -> list[str]:
    lines = [
        f"{r['rules']} rules x {r['projects']:,} projects: ours {r['ours_us']} us vs hand-written {r['hand_us']} us"
        f" per evaluation = {r['ratio_ours_hand']}x (target <= {r['target_ratio']:g}x), {r['mismatches']} mismatches",
    ]
    if r.get("cel"):
        c = r["cel"]
        lines.append(f"cel-python {c['us']} us = {c['ratio_cel_ours']:g}x ours (on {c['projects']} projects)")
    else:
        lines.append("cel-python not installed: no CEL comparison")
    e = r["evaluate"]
    lines.append(f"evaluate(): {e['seconds']} s, {e['us_per_finding']} us per finding")
    return lines


def _actions_headline(r: dict[str, Any]) -> list[str]:
    p = r["plain_functions"]
    lines = [
        f"{p['projects']:,} projects: evaluate {p['evaluate_s']} s + review {p['review_s']} s + plan {p['plan_s']} s "
        f"({p['failing_mandatory']} failing mandatory)"
    ]
    s = r.get("sandbox")
    if isinstance(s, dict):
        lines.append(
            f"sandbox: {s['new_tickets']} tickets in {s['create_calls']} create calls (target <= "
            f"{s['create_calls_target']}), apply {s['apply_s']} s; unchanged re-run "
            f"{s['unchanged_rerun_write_calls']} write calls (target 0)"
        )
    elif s:
        lines.append(str(s))
    return lines


def _flows_headline(r: dict[str, Any]) -> list[str]:
    target = f" (target <= {r['target_ratio']})" if r.get("target_ratio") else ""
    budget = f" (target <= {r['max_overhead_s']} s)" if r.get("max_overhead_s") is not None else ""
    return [
        f"{r['projects']:,} projects, {r['issues']:,} issues, {len(r['plain_s'])} rounds",
        f"plain functions {r['plain_s']} s vs flows {r['flows_s']} s",
        f"overhead ratio {r['overhead_ratio']} median{target}, {r['overhead_ratio_best']} best; "
        f"{r['overhead_s_median']} s per review + actions{budget}",
    ]


def _rca_headline(r: dict[str, Any]) -> list[str]:
    lines = []
    for s in r["results"]:
        a, b, acc, rep = s["analysis"], s["reading_rows"], s["planted_causes"], s["reports"]
        lines.append(
            f"{s['store']}: {s['rows']['issues']:,} issues; analysis {a['seconds']} s ({a['projects_per_s']} "
            f"projects/s), {a['sql_statements']} statements, peak RSS {a['peak_rss_mb']} MB"
        )
        lines.append(
            f"  rows read in bulk {b['bulk_s']} s vs 3 queries per project {b['per_project_queries_s']} s = "
            f"{b['bulk_speedup']}x; top cause {acc['top_cause_matches']}/{acc['delayed_planted']}, "
            f"false alarms {acc['false_alarms']}/{acc['on_time_or_closed']}; reports {rep['seconds']} s"
        )
    return lines


# -- the benchmarks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    full: list[str]
    quick: list[str]
    headline: Callable[[dict[str, Any]], list[str]]
    json_flag: bool = True  # pass --json (the others always print JSON)
    stores: str = ""  # "flag": --stores a,b; "db": one run per store with --db URL; "": SQLite only


BENCHES = [
    Bench("sync", "bench_sync.py", ["--end-to-end"],
          ["--projects", "50", "--issues-per-project", "20", "--page-size", "50", "--changed-pct", "5",
           "--latency", "0"],  # the latency section's CI size runs in tests/test_bench_sync_small.py
          _sync_headline, stores="db"),
    Bench("facts", "bench_facts.py", [],
          ["--projects", "200", "--issues-per-project", "50", "--repeat", "1"], _facts_headline, stores="flag"),
    Bench("rules", "bench_rules.py", [], ["--projects", "3000", "--cel-projects", "30", "--rounds", "7"],
          _rules_headline),
    Bench("actions", "bench_actions.py", [], ["--projects", "200"], _actions_headline, json_flag=False),
    Bench("flows", "bench_flows.py", [],
          ["--projects", "40", "--issues-per-project", "20", "--repeat", "2", "--scorecards", "10",
           "--target-ratio", "0", "--max-overhead-s", "3"],
          _flows_headline, json_flag=False),
    Bench("rca", "bench_rca.py", [], ["--projects", "200", "--issues-per-project", "50", "--sweep-seeds", "0"],
          _rca_headline, stores="flag"),
]  # fmt: skip
BY_NAME = {b.name: b for b in BENCHES}


@dataclass
class Outcome:
    name: str
    command: list[str]
    returncode: int | None = None
    seconds: float = 0.0
    report: dict[str, Any] | None = None
    timed_out: bool = False
    error: str = ""
    headline: list[str] = field(default_factory=list)

    @property
    def targets(self) -> dict[str, bool]:
        return dict((self.report or {}).get("targets") or {})

    @property
    def missed(self) -> list[str]:
        return [name for name, met in self.targets.items() if not met]

    @property
    def status(self) -> str:
        if self.timed_out:
            return "TIMEOUT"
        if self.report is None:
            return f"FAILED (exit {self.returncode})"
        if self.missed:
            return "MISSED"
        if self.returncode != 0:
            return f"FAILED (exit {self.returncode})"
        return "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def last_json(text: str) -> dict[str, Any] | None:
    """The last JSON object printed (pretty-printed objects start with a line that is just ``{``)."""
    lines = text.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("{"):
            try:
                value = json.loads("\n".join(lines[index:]))
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _pump(source: TextIO, sink: TextIO, keep: list[str] | None) -> None:
    for line in source:
        sink.write(line)
        sink.flush()
        if keep is not None:
            keep.append(line)


def run_one(name: str, command: list[str], timeout: float | None, headline: Callable[..., list[str]]) -> Outcome:
    """Run one bench, passing its output through; its JSON report is parsed from its stdout."""
    outcome = Outcome(name, command)
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    began = time.perf_counter()
    env = os.environ | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    out: list[str] = []
    pumps = [
        threading.Thread(target=_pump, args=(proc.stdout, sys.stdout, out), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, sys.stderr, None), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    try:
        outcome.returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        outcome.timed_out = True
        os.killpg(proc.pid, signal.SIGTERM)  # the bench and the servers it started (its own session)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        outcome.returncode = proc.returncode
    for pump in pumps:
        pump.join(timeout=10)
    outcome.seconds = time.perf_counter() - began
    outcome.report = last_json("".join(out))
    if outcome.report is not None:
        try:
            outcome.headline = headline(outcome.report)
        except (KeyError, TypeError, ZeroDivisionError) as exc:
            outcome.error = f"unexpected report shape: {exc!r}"
    print(f"=== {name}: {outcome.status} in {outcome.seconds:.0f} s", flush=True)
    return outcome


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A throw-away PostgreSQL database on PG_URL, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_answers() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_URL)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as exc:  # any driver or connection error: reported, not raised
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def print_summary(outcomes: list[Outcome], quick: bool) -> None:
    width = max(len(o.name) for o in outcomes)
    print(f"\n{'=' * 100}\nSummary ({'quick CI sizes' if quick else 'full sizes'})")
    print(f"{'bench':<{width}}  {'result':<16} {'time':>7}  headline figures")
    for o in outcomes:
        lines = o.headline or [o.error or "(no figures: see the output above)"]
        if o.error and o.headline:
            lines = [*lines, o.error]
        if o.targets:
            lines = [*lines, "targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in o.targets.items())]
        elif o.report is not None:
            lines = [*lines, "targets: none reported"]
        print(f"{o.name:<{width}}  {o.status:<16} {o.seconds:>6.0f}s  {lines[0]}")
        for line in lines[1:]:
            print(f"{'':<{width}}  {'':<16} {'':>7}  {line}")
    failed = [o.name for o in outcomes if not o.ok]
    tail = f"; not: {', '.join(failed)}" if failed else ""
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} met their targets{tail}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small CI sizes instead of the full ones")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BY_NAME)}")
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated: sqlite,postgresql")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per bench run (default: none)")
    parser.add_argument("--workdir", type=Path, default=None, help="sync's snapshots (kept, reused when present)")
    parser.add_argument("--prefect-api-url", default=None, help="flows: use this Prefect server")
    parser.add_argument("--json-out", type=Path, default=None, help="write every bench's report to this file")
    args = parser.parse_args(argv)
    args.names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BY_NAME)
    unknown = sorted(set(args.names) - set(BY_NAME))
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}: choose from {', '.join(BY_NAME)}")
    args.store_list = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not args.store_list or set(args.store_list) - set(STORES):
        parser.error(f"--stores: comma-separated {', '.join(STORES)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    selected = [BY_NAME[n] for n in BY_NAME if n in args.names]  # always in the documented order
    if "postgresql" in args.store_list and any(b.stores for b in selected):
        why = postgres_answers()
        if why:
            print(f"PostgreSQL does not answer on {PG_URL} ({why}); start it or pass --stores sqlite", file=sys.stderr)
            return 2
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="pmo-gates-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        for bench in selected:
            command = [sys.executable, str(HERE / bench.script), *(bench.quick if args.quick else bench.full)]
            if bench.json_flag:
                command.append("--json")
            if bench.name == "flows" and args.prefect_api_url:
                command += ["--api-url", args.prefect_api_url]
            if bench.stores == "flag":
                command += ["--stores", ",".join(args.store_list)]
            if bench.stores != "db":
                outcomes.append(run_one(bench.name, command, args.timeout, bench.headline))
                continue
            command += ["--workdir", str(workdir / bench.name)]
            for store in args.store_list:
                if store == "sqlite":
                    outcomes.append(run_one(f"{bench.name}[sqlite]", command, args.timeout, bench.headline))
                    continue
                with pg_database(f"pmo_gates_bench_{bench.name}") as url:
                    outcomes.append(
                        run_one(f"{bench.name}[{store}]", [*command, "--db", url], args.timeout, bench.headline)
                    )
    print_summary(outcomes, args.quick)
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                [
                    {"name": o.name, "command": o.command, "status": o.status, "returncode": o.returncode,
                     "seconds": round(o.seconds, 1), "targets": o.targets, "headline": o.headline, "report": o.report}
                    for o in outcomes
                ],
                indent=2,
            )
        )  # fmt: skip
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
