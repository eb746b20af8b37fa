"""Sync benchmark: a generated portfolio served by the sandbox in its own process, synced by a fresh process
per measurement (so the peak RSS is the sync's alone).

Measures a full sync (time, issues/s, requests against the minimum for the page size, peak RSS), an
incremental sync after ``--changed-pct`` of the issues changed, an incremental sync with nothing changed,
and, for comparison, the naive way: the ``jira`` client's ``search_issues`` over everything (all fields,
every page held in memory), and a full re-sync instead of the incremental one.

    python benchmarks/bench_sync.py                                   # 2,000 projects x 100 issues
    python benchmarks/bench_sync.py --projects 50 --issues-per-project 20 --json   # the CI size

Targets (checked, exit code 1 when missed): incremental requests within a small constant of
ceil(changed / page size); an unchanged incremental sync in at most 2 requests; peak RSS under 300 MB.

"unchanged" runs right after the full sync. "unchanged_after_burst" runs right after the incremental sync
that absorbed the burst of changes: every incremental sync re-reads the issues changed in the
``sync.overlap_minutes`` before the watermark (Jira Cloud's search index lags writes), so there it pages
through the burst once more (ceil(burst / page size) requests, nothing rewritten). It is reported, not
held to the target.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

EMAIL = "bench@example.com"
TOKEN_ENV = "PMO_GATES_BENCH_TOKEN"
INCREMENTAL_SLACK = 3  # requests an incremental sync may add to ceil(changed / page size)
UNCHANGED_MAX = 2
RSS_MAX_MB = 300
LATENCY_SPEEDUP_MIN = 6.0  # concurrent over one page at a time, with a latency per search
CPU_MS_PER_ISSUE_MAX = 0.25  # client CPU of the concurrent full sync, checked from 20,000 issues up
CPU_TARGET_FROM_ISSUES = 20_000
END_TO_END_MAX_S = 90.0  # sync + review + actions + rca


# -- worker: one measured sync (or the naive search) in its own process ------------------------------------


def _peak_rss_mb() -> float:
    # VmHWM is this process image's own high-water mark. getrusage's ru_maxrss survives execve, so a
    # worker started from a big parent (pytest after hundreds of tests) would report the parent's peak.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def worker(args: argparse.Namespace) -> None:
    baseline = _peak_rss_mb()
    began = time.perf_counter()
    cpu_began = time.process_time()
    if args.worker == "naive":
        out = _naive(args)
    else:
        from pmo_gates.config import load_settings
        from pmo_gates.connectors.connection import JiraConnection
        from pmo_gates.connectors.sync import sync_portfolio
        from pmo_gates.store import Store

        settings = load_settings(args.config)
        store = Store(settings.database_url())
        imported = _peak_rss_mb()
        sync_cpu = time.process_time()
        result = sync_portfolio(JiraConnection.from_settings(settings), store, settings, full=args.worker == "full")
        sync_cpu = time.process_time() - sync_cpu
        store.dispose()
        out = {
            "result": result.model_dump(mode="json", exclude={"data_errors"}),
            "rss_after_imports_mb": imported,
            "sync_cpu_s": sync_cpu,
        }
    out.update(
        seconds=time.perf_counter() - began,
        cpu_s=time.process_time() - cpu_began,
        peak_rss_mb=_peak_rss_mb(),
        rss_at_start_mb=baseline,
    )
    print(json.dumps(out))


def _naive(args: argparse.Namespace) -> dict[str, Any]:
    """What a straightforward script does: the jira client's search over everything, all fields."""
    from jira import JIRA

    from pmo_gates.config import load_settings

    settings = load_settings(args.config)
    token = os.environ[TOKEN_ENV]
    auth: dict[str, Any] = {"basic_auth": (EMAIL, token)} if settings.jira.flavour == "cloud" else {"token_auth": token}
    client = JIRA(server=settings.jira.url, **auth)
    keys = ", ".join(f'"{k}"' for k in settings.portfolio.projects)
    issues = client.search_issues(f"project in ({keys}) ORDER BY key ASC", maxResults=False, expand="changelog")
    return {"issues": len(issues)}


# -- orchestration -------------------------------------------------------------------------------------------


def _run(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if "result" in out:  # progress on stderr, so a long run that is cut short still shows its figures
        r = out["result"]
        print(
            f"[bench_sync] {cmd[-1]} sync: {r['duration_s']} s, {r['issues_upserted']} issues, "
            f"{r['http_requests_total']} requests, CPU {out.get('sync_cpu_s', 0):.1f} s, "
            f"peak RSS {out['peak_rss_mb']:.0f} MB, 429s {r.get('rate_limit', {}).get('throttles', 0)}",
            file=sys.stderr,
            flush=True,
        )
    return out


class Sandbox:
    """The sandbox server in a child process (``pmo-gates sandbox``), with an admin/API session."""

    def __init__(self, snapshot: Path, flavour: str, token: str) -> None:
        env = os.environ | {TOKEN_ENV: token}
        cmd = [sys.executable, "-m", "pmo_gates.cli", "sandbox", "--seed", str(snapshot), "--port", "0"]
        cmd += ["--flavour", flavour, "--user", EMAIL, "--token-env", TOKEN_ENV]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.url = ""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("http://"):
                self.url = line.strip()
                break
        if not self.url:
            raise SystemExit("the sandbox did not start")
        self.http = requests.Session()
        if flavour == "cloud":
            self.http.auth = (EMAIL, token)
        else:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.url}/rest/api/2{path}", timeout=120, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def request_stats(self) -> dict[str, Any]:
        return self.http.get(f"{self.url}/_sandbox/requests/stats", timeout=60).json()

    def reset_requests(self) -> None:
        self.http.delete(f"{self.url}/_sandbox/requests", timeout=60)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _all_keys(sb: Sandbox, projects: list[str], flavour: str) -> list[str]:
    jql = f"project in ({', '.join(projects)}) ORDER BY key ASC"
    keys: list[str] = []
    if flavour == "cloud":
        token = None
        while True:
            body: dict[str, Any] = {"jql": jql, "fields": ["key"], "maxResults": 5000}
            if token:
                body["nextPageToken"] = token
            page = sb.api("POST", "/search/jql", json=body)
            keys += [i["key"] for i in page["issues"]]
            token = page.get("nextPageToken")
            if not token:
                return keys
    while True:
        page = sb.api("POST", "/search", json={"jql": jql, "fields": ["key"], "maxResults": 1000, "startAt": len(keys)})
        keys += [i["key"] for i in page["issues"]]
        if not page["issues"] or len(keys) >= page["total"]:
            return keys


def _config_text(
    url: str, flavour: str, projects: list[str], page_size: int, db: str, *, concurrency: int = 1, rate: float = 1000
) -> str:
    email = EMAIL if flavour == "cloud" else "null"
    return (
        f"jira:\n  url: {url}\n  flavour: {flavour}\n  page_size: {page_size}\n"
        f"  auth:\n    email: {email}\n    token_env: {TOKEN_ENV}\n"
        f"portfolio:\n  projects: [{', '.join(projects)}]\n"
        f"database:\n  url: {db}\n"
        f"sync:\n  concurrency: {concurrency}\n  requests_per_second: {rate}\n"
    )


def _minimum(issues: int, projects: int, page_size: int, flavour: str) -> int:
    """Fewest requests a full sync can make: the pages, the id listing, /field, /myself and projects."""
    listing = math.ceil(issues / (5000 if flavour == "cloud" else 1000))
    project_calls = math.ceil(projects / 50) if flavour == "cloud" else 1
    return math.ceil(issues / page_size) + listing + 2 + project_calls


def _snapshot(workdir: Path, projects: int, per_project: int, seed: int) -> Path:
    snapshot = workdir / f"portfolio-{projects}x{per_project}-s{seed}.json"
    if not snapshot.exists():
        subprocess.run(
            [sys.executable, "-m", "pmo_gates.sandbox.generate", "--projects", str(projects),
             "--issues-per-project", str(per_project), "--seed", str(seed), "--out", str(snapshot), "--compact"],
            check=True, capture_output=True,
        )  # fmt: skip
    return snapshot


def _reset_db(url: str) -> None:
    """An empty store at ``url``: each measured full sync starts from nothing."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    from pmo_gates.store.models import Base

    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _stored_issues(url: str) -> tuple[int, int]:
    """(rows, distinct ids) in the store's issues table."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows, distinct = connection.execute(text("SELECT count(*), count(DISTINCT id) FROM issues")).one()
    engine.dispose()
    return int(rows), int(distinct)


def _peak_per_second(starts: list[float]) -> int:
    """The most requests that began within any one second."""
    starts = sorted(starts)
    best, j = 0, 0
    for i, at in enumerate(starts):
        while starts[j] <= at - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timeline(records: list[dict[str, Any]], concurrency: int) -> dict[str, Any]:
    """Where a latency run's time went, from the sandbox's own request log: how many requests were in
    flight in each second of the run, the seconds with fewer than ``concurrency`` (the pool not full),
    and the requests outside the issue pages (start-up, horizon, catch-up, listing) with their times."""
    if not records:
        return {}
    t0 = min(r["started"] for r in records)
    spans = [(r["started"] - t0, r["started"] - t0 + (r["duration"] or 0), r) for r in records]
    end = max(e for _, e, _ in spans)
    occupancy = []
    for second in range(math.ceil(end)):
        busy = sum(min(e, second + 1) - max(s, second) for s, e, _ in spans if s < second + 1 and e > second)
        occupancy.append(round(busy, 1))
    pages = {"/search/jql", "/search"}
    others = [
        f"{s:.1f}-{e:.1f} {r['method']} {r['api_path']}"
        for s, e, r in spans
        if r["api_path"] not in pages or "ORDER BY updated DESC" in json.dumps(r.get("query")) or r["duration"] < 0.5
    ]
    return {
        "seconds": round(end, 1),
        "in_flight_per_s": occupancy,
        "seconds_below_concurrency": sum(1 for o in occupancy if o < concurrency - 0.5),
        "other_requests": others[:40],
    }


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one command run to its end: the CPU is the command's own process
    (children's rusage), never the sandbox's, which runs in a process this one started earlier."""
    began, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:5])} ... failed:\n{done.stderr[-3000:]}")
    return round(time.perf_counter() - began, 2), round(_children_cpu() - cpu, 2)


def _end_to_end(config: Path, env: dict[str, str]) -> dict[str, float]:
    """What the PMO runs after a sync: a review, the corrective actions and the RCA (dry runs)."""
    cli = [sys.executable, "-m", "pmo_gates.cli"]
    commands = {
        "review": [*cli, "review", "--config", str(config), "--dry-run", "--json"],
        "actions": [*cli, "actions", "--config", str(config), "--dry-run", "--json"],
        "rca": [*cli, "rca", "--config", str(config), "--json"],
    }
    times: dict[str, float] = {}
    for name, cmd in commands.items():
        times[f"{name}_s"], times[f"{name}_cpu_s"] = _timed(cmd, env)
    print(f"[bench_sync] end to end: {times}", file=sys.stderr, flush=True)
    return times


def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="pmo-gates-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    snapshot = _snapshot(workdir, args.projects, args.issues_per_project, args.seed)
    generated_s = time.perf_counter() - began
    token = base64.urlsafe_b64encode(os.urandom(18)).decode()
    env = os.environ | {TOKEN_ENV: token}
    db = args.db or f"sqlite:///{workdir / 'bench-store.db'}"
    sb = Sandbox(snapshot, args.flavour, token)
    sequential: dict[str, Any] | None = None
    end_to_end: dict[str, float] | None = None
    try:
        projects = sorted(p["key"] for p in sb.api("GET", "/project"))
        config = workdir / "bench-config.yaml"
        me = [sys.executable, __file__, "--config", str(config), "--worker"]
        if not args.no_sequential:
            config.write_text(_config_text(sb.url, args.flavour, projects, args.page_size, db, rate=args.rate))
            _reset_db(db)
            sequential = _run([*me, "full"], env)
        config.write_text(
            _config_text(
                sb.url, args.flavour, projects, args.page_size, db, concurrency=args.concurrency, rate=args.rate
            )
        )
        _reset_db(db)
        full = _run([*me, "full"], env)
        issues = full["result"]["issues_upserted"]
        if args.end_to_end:
            end_to_end = _end_to_end(config, env)
        unchanged = _run([*me, "incremental"], env)

        keys = _all_keys(sb, projects, args.flavour)
        changed = random.Random(args.seed).sample(keys, max(1, round(len(keys) * args.changed_pct / 100)))
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(lambda k: sb.api("PUT", f"/issue/{k}", json={"fields": {"summary": f"changed {k}"}}), changed)
            )
        incremental = _run([*me, "incremental"], env)
        after_burst = _run([*me, "incremental"], env)
        resync = _run([*me, "full"], env)
        naive: dict[str, Any] | None = None
        if not args.no_naive:
            sb.reset_requests()
            naive = _run([*me, "naive"], env)
            naive["requests"] = sb.request_stats()["total"]
    finally:
        sb.stop()

    partitions = min(len(projects), 2 * args.concurrency)
    stage_s = {k: v for k, v in (end_to_end or {}).items() if not k.endswith("_cpu_s")}
    stage_cpu = {k: v for k, v in (end_to_end or {}).items() if k.endswith("_cpu_s")}
    # The deletion listing is read in key slices in parallel (one more partial page each, at most).
    id_page = 5000 if args.flavour == "cloud" else 1000
    slices = max(1, min(args.concurrency, len(projects), math.ceil(issues / id_page))) if args.concurrency > 1 else 1
    minimum = _minimum(issues, len(projects), args.page_size, args.flavour)
    changed_pages = math.ceil(len(changed) / args.page_size)
    report = {
        "portfolio": {"projects": len(projects), "issues": issues, "page_size": args.page_size,
                      "flavour": args.flavour, "generated_s": round(generated_s, 1),
                      "concurrency": args.concurrency, "requests_per_second": args.rate},
        # The concurrent full sync reads project groups in parallel: each group may end on a partial
        # page, and it adds one request for the horizon, one for the catch-up pass and, into an empty
        # store, one count that sizes the id listing's slices; each slice may end on a partial page too.
        "full": _summary(full) | {"minimum_requests": minimum, "partitions": partitions,
                                  "partition_allowance": partitions + 3 + slices - 1},
        "full_sequential": None if sequential is None else _summary(sequential) | {"minimum_requests": minimum},
        "incremental": _summary(incremental) | {"changed": len(changed), "minimum_requests": changed_pages},
        "unchanged": _summary(unchanged),
        "unchanged_after_burst": _summary(after_burst),
        "full_resync": _summary(resync),
        "naive_search_issues": None if naive is None else {
            "seconds": round(naive["seconds"], 2), "requests": naive["requests"],
            "peak_rss_mb": round(naive["peak_rss_mb"], 1), "issues": naive["issues"]},
        "end_to_end": None if end_to_end is None else end_to_end | {
            "sync_s": report_seconds(full),
            "sync_cpu_s": round(full.get("sync_cpu_s", 0.0), 2),
            "total_s": round(report_seconds(full) + sum(v for k, v in stage_s.items()), 2),
            "total_cpu_s": round(full.get("sync_cpu_s", 0.0) + sum(v for k, v in stage_cpu.items()), 2),
            "load_average": [round(x, 2) for x in os.getloadavg()]},
    }  # fmt: skip
    report["targets"] = {
        "incremental_requests": report["incremental"]["requests"] <= changed_pages + INCREMENTAL_SLACK,
        "unchanged_requests": report["unchanged"]["requests"] <= UNCHANGED_MAX,
        "peak_rss": max(r["peak_rss_mb"] for r in (report["full"], report["incremental"])) < RSS_MAX_MB,
        "stored_everything": issues == len(keys),
        "full_requests": report["full"]["requests"] <= minimum + report["full"]["partition_allowance"],
    }
    if issues >= CPU_TARGET_FROM_ISSUES:
        report["targets"]["cpu_per_issue"] = report["full"]["cpu_ms_per_issue"] <= CPU_MS_PER_ISSUE_MAX
    if end_to_end is not None:
        report["targets"]["end_to_end"] = report["end_to_end"]["total_s"] <= END_TO_END_MAX_S
    if args.latency > 0:
        report["latency"] = _latency(args, workdir, token)
        lat = report["latency"]
        report["targets"]["latency_speedup"] = lat["speedup"] >= LATENCY_SPEEDUP_MIN
        report["targets"]["latency_rate"] = lat["concurrent"]["peak_requests_per_s"] <= args.latency_rate
        report["targets"]["latency_stored_once"] = lat["concurrent"]["stored_once"]
        report["targets"]["storm_stored_everything"] = lat["storm"]["stored_everything"]
    return report


def report_seconds(run: dict[str, Any]) -> float:
    return round(run["result"]["duration_s"], 2)


def _latency(args: argparse.Namespace, workdir: Path, token: str) -> dict[str, Any]:
    """Full syncs against a sandbox that waits ``--latency`` seconds before answering every search: one
    page at a time, then the concurrent sync, then the concurrent sync through a 429 storm."""
    snapshot = _snapshot(workdir, args.latency_projects, args.latency_issues_per_project, args.seed)
    env = os.environ | {TOKEN_ENV: token}
    sb = Sandbox(snapshot, args.flavour, token)
    out: dict[str, Any] = {
        "projects": args.latency_projects,
        "latency_s": args.latency,
        "latency_max_s": args.latency_max,
        "concurrency": args.latency_concurrency,
        "requests_per_second": args.latency_rate,
    }
    try:
        projects = sorted(p["key"] for p in sb.api("GET", "/project"))
        total = len(_all_keys(sb, projects, args.flavour))  # before the delay: what every run must store
        subset = args.latency_sequential_projects
        sequential_projects = projects[:subset] if subset and subset < len(projects) else projects
        out["sequential_projects"] = len(sequential_projects)
        delay: dict[str, Any] = {"path": r"/search", "delay": args.latency}
        if args.latency_max:
            delay["delay_max"] = args.latency_max
        sb.http.post(f"{sb.url}/_sandbox/faults", json=delay, timeout=60).raise_for_status()
        runs = (("sequential", 1, False), ("concurrent", args.latency_concurrency, False),
                ("storm", args.latency_concurrency, True))  # fmt: skip
        for name, concurrency, storm in runs:
            db = f"sqlite:///{workdir / f'latency-{name}.db'}"
            _reset_db(db)
            config = workdir / f"latency-{name}.yaml"
            scope = sequential_projects if name == "sequential" else projects
            config.write_text(
                _config_text(sb.url, args.flavour, scope, args.page_size, db, concurrency=concurrency,
                             rate=args.latency_rate)
            )  # fmt: skip
            if storm:  # the first rule that fires decides: the storm goes before the plain delay
                sb.http.delete(f"{sb.url}/_sandbox/faults", timeout=60)
                rule = {"path": r"/search", "status": 429, "every": 5, "count": args.storm_count,
                        "retry_after": 1} | {k: v for k, v in delay.items() if k != "path"}  # fmt: skip
                sb.http.post(f"{sb.url}/_sandbox/faults", json=rule, timeout=60).raise_for_status()
                sb.http.post(f"{sb.url}/_sandbox/faults", json=delay, timeout=60).raise_for_status()
            sb.reset_requests()
            run = _run([sys.executable, __file__, "--config", str(config), "--worker", "full"], env)
            records = sb.http.get(f"{sb.url}/_sandbox/requests", timeout=120).json()["requests"]
            starts = [r["started"] for r in records]
            timeline = _timeline(records, concurrency)
            (workdir / f"latency-{name}-requests.json").write_text(json.dumps(records))
            rows, distinct = _stored_issues(db)
            out[name] = _summary(run) | {
                "peak_requests_per_s": _peak_per_second(starts),
                "throttled_429": run["result"].get("rate_limit", {}).get("throttles", 0),
                "stored_rows": rows,
                "stored_distinct": distinct,
                "timeline": timeline,
            }
            print(f"[bench_sync] {name} timeline: {json.dumps(timeline)}", file=sys.stderr, flush=True)
    finally:
        sb.stop()
    out["issues"] = total
    sequential = out["sequential"]
    # On a subset, one page at a time is scaled to the whole portfolio by issues (its time is pages, and
    # pages are issues / page size): the 2,000-project baseline would take 35 minutes at 1 s a page.
    scale = total / sequential["issues_upserted"] if sequential["issues_upserted"] else 1.0
    sequential["scaled_seconds"] = round(sequential["seconds"] * scale, 2)
    out["sequential_scaled"] = len(sequential_projects) < len(projects)
    out["speedup"] = round(sequential["scaled_seconds"] / out["concurrent"]["seconds"], 2)
    for name in ("concurrent", "storm"):
        r = out[name]
        r["stored_once"] = r["stored_rows"] == r["stored_distinct"] == total
    out["storm"]["stored_everything"] = out["storm"]["stored_once"] and out["storm"]["throttled_429"] > 0
    return out


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    result = run["result"]
    seconds = result["duration_s"]
    cpu = run.get("sync_cpu_s", 0.0)
    upserted = result["issues_upserted"]
    return {
        "seconds": round(seconds, 2),
        "issues_per_s": round(upserted / seconds, 1) if seconds else None,
        "issues_upserted": upserted,
        "requests": result["http_requests_total"],
        "requests_by_endpoint": result["http_requests"],
        "peak_rss_mb": round(run["peak_rss_mb"], 1),
        "rss_after_imports_mb": round(run.get("rss_after_imports_mb", 0), 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_issue": round(cpu * 1000 / upserted, 3) if upserted else None,
        "throttled_429": result.get("rate_limit", {}).get("throttles", 0),
    }


def _print(report: dict[str, Any]) -> None:
    p = report["portfolio"]
    print(
        f"Portfolio: {p['projects']} projects, {p['issues']} issues ({p['flavour']}), page size {p['page_size']}, "
        f"concurrency {p['concurrency']}, {p['requests_per_second']} requests/s at most"
    )
    for name in ("full_sequential", "full", "unchanged", "incremental", "unchanged_after_burst", "full_resync"):
        r = report[name]
        if r is None:
            continue
        extra = f" (minimum {r['minimum_requests']})" if "minimum_requests" in r else ""
        changed = f", {r['changed']} changed" if "changed" in r else ""
        print(
            f"  {name:<22} {r['seconds']:>8.2f} s  {r['issues_per_s'] or 0:>8.1f} issues/s  "
            f"{r['requests']:>6} requests{extra}  peak RSS {r['peak_rss_mb']:.0f} MB  "
            f"CPU {r['cpu_ms_per_issue'] or 0:.3f} ms/issue  429s {r['throttled_429']}{changed}"
        )
    naive = report["naive_search_issues"]
    if naive:
        print(
            f"  {'naive':<22} {naive['seconds']:>8.2f} s  (search_issues over everything, nothing stored)  "
            f"{naive['requests']:>6} requests  peak RSS {naive['peak_rss_mb']:.0f} MB"
        )
    e2e = report.get("end_to_end")
    if e2e:
        print(
            f"End to end: sync {e2e['sync_s']} s + review {e2e['review_s']} s + actions {e2e['actions_s']} s + "
            f"rca {e2e['rca_s']} s = {e2e['total_s']} s (target {END_TO_END_MAX_S} s); client CPU: sync "
            f"{e2e['sync_cpu_s']} s + review {e2e['review_cpu_s']} s + actions {e2e['actions_cpu_s']} s + rca "
            f"{e2e['rca_cpu_s']} s = {e2e['total_cpu_s']} s; load average {e2e['load_average']}"
        )
    lat = report.get("latency")
    if lat:
        print(
            f"Latency {lat['latency_s']} s per search, {lat['projects']} projects / {lat['issues']} issues, "
            f"concurrency {lat['concurrency']}, {lat['requests_per_second']} requests/s at most:"
        )
        for name in ("sequential", "concurrent", "storm"):
            r = lat[name]
            once = f"  stored once: {'yes' if r['stored_once'] else 'NO'}" if "stored_once" in r else ""
            print(
                f"  {name:<12} {r['seconds']:>8.2f} s  {r['requests']:>6} requests  peak "
                f"{r['peak_requests_per_s']:>3} requests/s  peak RSS {r['peak_rss_mb']:.0f} MB  "
                f"429s {r['throttled_429']}  stored {r['stored_distinct']} ({r['stored_rows']} rows){once}"
            )
        seq = lat["sequential"]
        if lat["sequential_scaled"]:
            print(
                f"  one page at a time measured on the first {lat['sequential_projects']} projects "
                f"({seq['issues_upserted']} issues) and scaled by issues to {seq['scaled_seconds']} s"
            )
        print(
            f"  speedup {lat['speedup']}x (target {LATENCY_SPEEDUP_MIN}x); peak "
            f"{lat['concurrent']['peak_requests_per_s']} requests/s (limit {lat['requests_per_second']})"
        )
    print("Targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in report["targets"].items()))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--issues-per-project", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--flavour", choices=("cloud", "dc"), default="cloud")
    parser.add_argument("--changed-pct", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="store URL (default: SQLite in the work dir)")
    parser.add_argument("--workdir", help="where the snapshot (reused when present) and the store go")
    parser.add_argument("--no-naive", action="store_true", help="skip the naive search_issues comparison")
    parser.add_argument("--no-sequential", action="store_true", help="skip the one-worker full sync")
    parser.add_argument("--concurrency", type=int, default=8, help="sync.concurrency of the measured syncs")
    parser.add_argument("--rate", type=float, default=1000, help="sync.requests_per_second (loopback: high)")
    parser.add_argument("--end-to-end", action="store_true", help="also time review, actions (dry runs), rca")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per search response; 0 skips")
    parser.add_argument("--latency-max", type=float, default=None, help="random latency up to this")
    parser.add_argument("--latency-projects", type=int, default=200)
    parser.add_argument("--latency-issues-per-project", type=int, default=100)
    parser.add_argument("--latency-concurrency", type=int, default=10)
    parser.add_argument(
        "--latency-sequential-projects", type=int, default=0,
        help="one page at a time on only this many projects, scaled by issues (0: all of them)",
    )  # fmt: skip
    parser.add_argument("--latency-rate", type=float, default=10, help="requests per second allowed")
    parser.add_argument("--storm-count", type=int, default=40, help="429s injected in the storm run")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--worker", choices=("full", "incremental", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        worker(args)
        return 0
    report = orchestrate(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0 if all(report["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
