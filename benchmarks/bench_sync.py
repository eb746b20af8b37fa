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
        result = sync_portfolio(JiraConnection.from_settings(settings), store, settings, full=args.worker == "full")
        store.dispose()
        out = {"result": result.model_dump(mode="json", exclude={"data_errors"}), "rss_after_imports_mb": imported}
    out.update(seconds=time.perf_counter() - began, peak_rss_mb=_peak_rss_mb(), rss_at_start_mb=baseline)
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
    return json.loads(done.stdout.strip().splitlines()[-1])


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


def _config_text(url: str, flavour: str, projects: list[str], page_size: int, db: str) -> str:
    email = EMAIL if flavour == "cloud" else "null"
    return (
        f"jira:\n  url: {url}\n  flavour: {flavour}\n  page_size: {page_size}\n"
        f"  auth:\n    email: {email}\n    token_env: {TOKEN_ENV}\n"
        f"portfolio:\n  projects: [{', '.join(projects)}]\n"
        f"database:\n  url: {db}\n"
    )


def _minimum(issues: int, projects: int, page_size: int, flavour: str) -> int:
    """Fewest requests a full sync can make: the pages, the id listing, /field, /myself and projects."""
    listing = math.ceil(issues / (5000 if flavour == "cloud" else 1000))
    project_calls = math.ceil(projects / 50) if flavour == "cloud" else 1
    return math.ceil(issues / page_size) + listing + 2 + project_calls


def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="pmo-gates-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    snapshot = workdir / f"portfolio-{args.projects}x{args.issues_per_project}-s{args.seed}.json"
    began = time.perf_counter()
    if not snapshot.exists():
        subprocess.run(
            [sys.executable, "-m", "pmo_gates.sandbox.generate", "--projects", str(args.projects),
             "--issues-per-project", str(args.issues_per_project), "--seed", str(args.seed),
             "--out", str(snapshot), "--compact"],
            check=True, capture_output=True,
        )  # fmt: skip
    generated_s = time.perf_counter() - began
    token = base64.urlsafe_b64encode(os.urandom(18)).decode()
    env = os.environ | {TOKEN_ENV: token}
    db = args.db or f"sqlite:///{workdir / 'bench-store.db'}"
    if db.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(db.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    sb = Sandbox(snapshot, args.flavour, token)
    try:
        projects = sorted(p["key"] for p in sb.api("GET", "/project"))
        config = workdir / "bench-config.yaml"
        config.write_text(_config_text(sb.url, args.flavour, projects, args.page_size, db))
        me = [sys.executable, __file__, "--config", str(config), "--worker"]

        full = _run([*me, "full"], env)
        issues = full["result"]["issues_upserted"]
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

    minimum = _minimum(issues, len(projects), args.page_size, args.flavour)
    changed_pages = math.ceil(len(changed) / args.page_size)
    report = {
        "portfolio": {"projects": len(projects), "issues": issues, "page_size": args.page_size,
                      "flavour": args.flavour, "generated_s": round(generated_s, 1)},
        "full": _summary(full) | {"minimum_requests": minimum},
        "incremental": _summary(incremental) | {"changed": len(changed), "minimum_requests": changed_pages},
        "unchanged": _summary(unchanged),
        "unchanged_after_burst": _summary(after_burst),
        "full_resync": _summary(resync),
        "naive_search_issues": None if naive is None else {
            "seconds": round(naive["seconds"], 2), "requests": naive["requests"],
            "peak_rss_mb": round(naive["peak_rss_mb"], 1), "issues": naive["issues"]},
    }  # fmt: skip
    report["targets"] = {
        "incremental_requests": report["incremental"]["requests"] <= changed_pages + INCREMENTAL_SLACK,
        "unchanged_requests": report["unchanged"]["requests"] <= UNCHANGED_MAX,
        "peak_rss": max(r["peak_rss_mb"] for r in (report["full"], report["incremental"])) < RSS_MAX_MB,
        "stored_everything": issues == len(keys),
    }
    return report


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    result = run["result"]
    seconds = result["duration_s"]
    return {
        "seconds": round(seconds, 2),
        "issues_per_s": round(result["issues_upserted"] / seconds, 1) if seconds else None,
        "issues_upserted": result["issues_upserted"],
        "requests": result["http_requests_total"],
        "requests_by_endpoint": result["http_requests"],
        "peak_rss_mb": round(run["peak_rss_mb"], 1),
        "rss_after_imports_mb": round(run.get("rss_after_imports_mb", 0), 1),
    }


def _print(report: dict[str, Any]) -> None:
    p = report["portfolio"]
    print(f"Portfolio: {p['projects']} projects, {p['issues']} issues ({p['flavour']}), page size {p['page_size']}")
    for name in ("full", "unchanged", "incremental", "unchanged_after_burst", "full_resync"):
        r = report[name]
        extra = f" (minimum {r['minimum_requests']})" if "minimum_requests" in r else ""
        changed = f", {r['changed']} changed" if "changed" in r else ""
        print(
            f"  {name:<22} {r['seconds']:>8.2f} s  {r['issues_per_s'] or 0:>8.1f} issues/s  "
            f"{r['requests']:>6} requests{extra}  peak RSS {r['peak_rss_mb']:.0f} MB{changed}"
        )
    naive = report["naive_search_issues"]
    if naive:
        print(
            f"  {'naive':<22} {naive['seconds']:>8.2f} s  (search_issues over everything, nothing stored)  "
            f"{naive['requests']:>6} requests  peak RSS {naive['peak_rss_mb']:.0f} MB"
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
