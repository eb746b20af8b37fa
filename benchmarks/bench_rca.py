"""Root-cause analysis and portfolio reports over a large generated portfolio: time, memory, queries.

    python benchmarks/bench_rca.py                                   # 2,000 projects / 200,000 issues, SQLite
    python benchmarks/bench_rca.py --stores sqlite,postgresql
    python benchmarks/bench_rca.py --projects 200 --issues-per-project 50   # a quick CI-sized run

The portfolio comes from ``pmo_gates.rca.synthetic`` (fixed seed): delayed projects with planted causes,
on-time and closed projects, noise; rows are bulk-inserted straight into the store (COPY on PostgreSQL).
Figures per store:

- analysis: wall time, SQL statements (constant: bulk queries, never one per project or issue), peak RSS
  growth of the process and peak Python allocation (tracemalloc, in a second run) while it runs;
- baseline, same run: the naive way, three queries per project (issues, history, links), timed on a
  sample of projects and scaled to the portfolio;
- accuracy on the planted causes at this scale (top cause = planted primary cause) and false alarms;
- saving the month's results (one upsert per project), and building every report (charts included);
- the robustness sweep: the planted-cause accuracy (top-1 and top-2, per cause and per variation) on
  portfolios of the second, independent generator (``pmo_gates.rca.scenarios``) under each of its
  variations (``pmo_gates.rca.sweep.VARIATIONS``: backlog written over 0-30 days, phase history, sparse
  data, blockers outside the portfolio, reopened work lingering in progress, two causes at once, team
  norms that differ, all at once), ``--sweep-seeds`` portfolios each.

PostgreSQL runs in a throw-away database on PMO_GATES_TEST_PG_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/test).

Targets (checked per store, exit code 1 when missed): the analysis in at most ``MAX_STATEMENTS`` SQL
statements whatever the portfolio size; the planted primary cause ranked first in at least
``MIN_ACCURACY`` of the delayed projects (as tests/test_rca_accuracy.py), on the first generator and on
every variation of the sweep; no on-time or closed project flagged as delayed anywhere. The per-project
baseline is a comparison, not a target.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

from bench_stores import open_store
from sqlalchemy import event, select

from pmo_gates.rca.analyse import RcaReport, analyse_portfolio, save_results
from pmo_gates.rca.playbook import load_playbook
from pmo_gates.rca.scan import scan_projects
from pmo_gates.rca.synthetic import PortfolioPlan, iter_batches, load_plan, plan_portfolio
from pmo_gates.reports.build import build_reports
from pmo_gates.store import Store
from pmo_gates.store.models import ChangelogItem, Issue, IssueLink, Person, Project

NAIVE_SAMPLE = 100
MAX_STATEMENTS = 30  # bulk queries: constant, never one per project or issue (13 at the time of writing)
MIN_ACCURACY = 0.95


def targets(results: list[dict[str, Any]], sweep: dict[str, Any] | None = None) -> dict[str, bool]:
    extra = {}
    if sweep:
        rows = sweep["variations"].values()
        extra = {
            "sweep_top1_every_variation": all(v["top1"] >= MIN_ACCURACY for v in rows),
            "sweep_no_false_alarms": all(v["flagged"] == 0 for v in rows),
        }
    return extra | {
        "bulk_statements": bool(results) and all(r["analysis"]["sql_statements"] <= MAX_STATEMENTS for r in results),
        "planted_accuracy": bool(results)
        and all((r["planted_causes"]["accuracy"] or 0) >= MIN_ACCURACY for r in results),
        "no_false_alarms": bool(results) and all(r["planted_causes"]["false_alarms"] == 0 for r in results),
    }


def copy_plan(store: Store, plan: PortfolioPlan, chunk_issues: int = 20_000) -> dict[str, int]:
    """PostgreSQL: the plan's rows by COPY, in chunks (executemany of a million rows takes minutes)."""
    tables = {"people": Person, "projects": Project, "issues": Issue, "issue_links": IssueLink,
              "changelog_items": ChangelogItem}  # fmt: skip
    counts = dict.fromkeys(tables, 0)
    pending: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    pending["people"] = [{"account_id": pid, "display_name": name, "active": True} for pid, name in plan.people.items()]
    raw = store.engine.raw_connection()

    def flush(cursor: Any) -> None:
        for name, model in tables.items():  # issues before the links and changes that refer to them
            rows = pending[name]
            if not rows:
                continue
            columns = list(rows[0])
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f"COPY {model.__tablename__} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v for v in row.values()])
            counts[name] += len(rows)
            pending[name] = []

    try:
        with raw.cursor() as cursor:
            for batch in iter_batches(plan):
                pending["projects"].append(batch.project)
                pending["issues"] += batch.issues
                pending["issue_links"] += batch.links
                pending["changelog_items"] += batch.changes
                if len(pending["issues"]) >= chunk_issues:
                    flush(cursor)
            flush(cursor)
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return counts


def count_statements(store: Store) -> list[int]:
    counter = [0]

    def before(*_: Any) -> None:
        counter[0] += 1

    event.listen(store.engine, "before_cursor_execute", before)
    return counter


def rss_peak_reset() -> None:
    """Reset the kernel's peak-RSS mark of this process (Linux), so the next phase's peak is its own."""
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def rss_peak_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float | None]:
    """(result, seconds, the process's peak RSS in MB while it ran)."""
    rss_peak_reset()
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start, rss_peak_mb()


def python_peak_mb(fn: Callable[[], Any]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def bulk_scan(store: Store, ignore: list[str], links: list[str]) -> float:
    """Reading every project's rows the way the analysis does: a few sorted queries, merged. Seconds."""
    start = time.perf_counter()
    for _ in scan_projects(store, ignore_issue_types=ignore, blocking_link_types=links):
        pass
    return time.perf_counter() - start


def naive_per_project(store: Store, keys: list[str]) -> float:
    """The way we avoid: the same rows with three queries per project. Seconds for ``keys``."""
    start = time.perf_counter()
    with store.engine.connect() as conn:
        for key in keys:
            conn.execute(select(Issue).where(Issue.project_key == key)).all()
            conn.execute(
                select(ChangelogItem).join(Issue, Issue.id == ChangelogItem.issue_id).where(Issue.project_key == key)
            ).all()
            conn.execute(
                select(IssueLink).join(Issue, Issue.key == IssueLink.to_key).where(Issue.project_key == key)
            ).all()
    return time.perf_counter() - start


def accuracy(plan: PortfolioPlan, report: RcaReport) -> dict[str, Any]:
    by_key = {p.key: p for p in report.projects}
    planted = plan.planted
    hits = sum(1 for key, causes in planted.items() if by_key[key].causes and by_key[key].causes[0].cause == causes[0])
    false_alarms = sum(1 for key in plan.on_time if by_key[key].delayed)
    return {
        "delayed_planted": len(planted),
        "top_cause_matches": hits,
        "accuracy": round(hits / len(planted), 4) if planted else None,
        "on_time_or_closed": len(plan.on_time),
        "false_alarms": false_alarms,
    }


def run_store(kind: str, plan: PortfolioPlan, out: Path) -> dict[str, Any]:
    playbook = load_playbook()
    with open_store(kind, "pmo_gates_bench_rca") as store:
        start = time.perf_counter()
        counts = copy_plan(store, plan) if kind == "postgresql" else load_plan(store, plan)
        load_s = time.perf_counter() - start
        statements = count_statements(store)
        report, analyse_s, analyse_rss = measure(lambda: analyse_portfolio(store, today=plan.today, playbook=playbook))
        queries = statements[0]
        analyse_py = python_peak_mb(lambda: analyse_portfolio(store, today=plan.today, playbook=playbook))
        keys = [p.key for p in report.projects]
        sample = keys[:: max(1, len(keys) // NAIVE_SAMPLE)][:NAIVE_SAMPLE]
        naive_s = naive_per_project(store, sample) * len(keys) / len(sample)
        bulk_s = bulk_scan(store, playbook.work.ignore_issue_types, playbook.work.blocking_link_types)
        _, save_s, _ = measure(lambda: save_results(store, report))
        bundle, report_s, report_rss = measure(
            lambda: build_reports(store, today=plan.today, out_dir=out / kind, playbook=playbook)
        )
        return {
            "store": kind,
            "rows": counts,
            "load_s": round(load_s, 1),
            "analysis": {
                "seconds": round(analyse_s, 2),
                "sql_statements": queries,
                "peak_rss_mb": round(analyse_rss, 1) if analyse_rss is not None else None,
                "peak_python_alloc_mb": round(analyse_py, 1),
                "projects_per_s": round(len(keys) / analyse_s, 1),
            },
            "reading_rows": {
                "bulk_s": round(bulk_s, 2),
                "per_project_queries_s": round(naive_s, 2),
                "per_project_sample": len(sample),
                "per_project_statements": 3 * len(keys),
                "bulk_speedup": round(naive_s / bulk_s, 1),
            },
            "planted_causes": accuracy(plan, report),
            "save_results_s": round(save_s, 2),
            "reports": {
                "seconds": round(report_s, 2),
                "peak_rss_mb": round(report_rss, 1) if report_rss is not None else None,
                "charts": len(bundle.charts),
                "html_kb": round(bundle.html_path.stat().st_size / 1024),
            },
        }


def run_sweep(seeds: int, projects: int, issues: int) -> dict[str, Any]:
    """Every variation of the second generator, ``seeds`` portfolios each; top-1/top-2 per cause too."""
    from pmo_gates.rca.scenarios import Scenario
    from pmo_gates.rca.sweep import VARIATIONS, Score, run_scenario

    variations, overall = {}, Score()
    start = time.perf_counter()
    for name, scenario in VARIATIONS.items():
        sized = Scenario(**{**scenario.__dict__, "projects": projects, "issues_per_project": issues})
        total = Score()
        for seed in range(101, 101 + seeds):
            total.add(run_scenario(sized, seed=seed))
        overall.add(total)
        variations[name] = _score_figures(total)
    return {
        "seeds": seeds,
        "projects": projects,
        "issues_per_project": issues,
        "seconds": round(time.perf_counter() - start, 1),
        "variations": variations,
        "overall": _score_figures(overall),
    }


def _score_figures(score: Any) -> dict[str, Any]:
    return {
        "delayed": score.delayed,
        "top1": round(score.top1_rate, 4),
        "top2": round(score.top2_rate, 4),
        "undetected": score.undetected,
        "on_time": score.on_time,
        "flagged": score.flagged,
        "per_cause": {
            cause: {"n": n, "top1": round(t1 / n, 4), "top2": round(t2 / n, 4)}
            for cause, (n, t1, t2) in sorted(score.per_cause.items())
        },
        "misses": {f"{a} -> {b}": n for (a, b), n in score.misses.most_common()},
    }


def print_sweep(sweep: dict[str, Any]) -> None:
    print(
        f"\n== robustness sweep: second generator, {sweep['seeds']} portfolio(s) of {sweep['projects']} projects "
        f"x ~{sweep['issues_per_project']} issues per variation ({sweep['seconds']} s)"
    )
    print(
        f"{'variation':32s} {'delayed':>7s} {'top-1':>7s} {'top-2':>7s} {'flagged':>9s}  "
        "misses (planted -> ranked first)"
    )
    for name, v in [*sweep["variations"].items(), ("OVERALL", sweep["overall"])]:
        misses = ", ".join(f"{k} x{n}" for k, n in v["misses"].items()) or "-"
        print(
            f"{name:32s} {v['delayed']:7d} {v['top1']:7.1%} {v['top2']:7.1%} "
            f"{v['flagged']:4d}/{v['on_time']:<4d}  {misses}"
        )
    print("per cause (all variations):")
    for cause, c in sweep["overall"]["per_cause"].items():
        print(f"  {cause:20s} n={c['n']:4d}  top-1 {c['top1']:.1%}  top-2 {c['top2']:.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--issues-per-project", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stores", default="sqlite", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--out", type=Path, default=None, help="where the reports go (default: a temp folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    parser.add_argument("--sweep-seeds", type=int, default=2, help="portfolios per sweep variation (0: no sweep)")
    parser.add_argument("--sweep-projects", type=int, default=60)
    parser.add_argument("--sweep-issues", type=int, default=50)
    args = parser.parse_args(argv)
    plan = plan_portfolio(projects=args.projects, issues_per_project=args.issues_per_project, seed=args.seed)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        out = args.out or Path(folder)
        for kind in [s.strip() for s in args.stores.split(",") if s.strip()]:
            if not args.json:
                print(
                    f"[{kind}] loading {args.projects} projects x ~{args.issues_per_project} issues ...",
                    file=sys.stderr,
                )
            results.append(run_store(kind, plan, out))
    if args.sweep_seeds and not args.json:
        print(f"robustness sweep: {args.sweep_seeds} portfolio(s) per variation ...", file=sys.stderr)
    sweep = run_sweep(args.sweep_seeds, args.sweep_projects, args.sweep_issues) if args.sweep_seeds else None
    figures = {"projects": args.projects, "issues_per_project": args.issues_per_project, "seed": args.seed,
               "results": results, "sweep": sweep, "targets": targets(results, sweep)}  # fmt: skip
    ok = all(figures["targets"].values())
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0 if ok else 1
    for r in results:
        a, b, acc, rep = r["analysis"], r["reading_rows"], r["planted_causes"], r["reports"]
        print(
            f"\n== {r['store']}: {r['rows']['issues']:,} issues, {r['rows']['changelog_items']:,} status changes, "
            f"loaded in {r['load_s']} s"
        )
        print(
            f"root-cause analysis: {a['seconds']} s ({a['projects_per_s']} projects/s), {a['sql_statements']} SQL "
            f"statements, process peak RSS {a['peak_rss_mb']} MB, "
            f"peak Python allocations {a['peak_python_alloc_mb']} MB"
        )
        print(
            f"reading the rows: bulk {b['bulk_s']} s vs 3 queries per project {b['per_project_queries_s']} s "
            f"({b['per_project_statements']} statements, scaled from {b['per_project_sample']} projects): "
            f"{b['bulk_speedup']}x"
        )
        print(
            f"planted causes: top cause right in {acc['top_cause_matches']}/{acc['delayed_planted']} "
            f"({acc['accuracy']:.1%}); false alarms {acc['false_alarms']}/{acc['on_time_or_closed']}"
        )
        print(
            f"save results: {r['save_results_s']} s; reports: {rep['seconds']} s, {rep['charts']} charts, "
            f"HTML {rep['html_kb']} KB, process peak RSS {rep['peak_rss_mb']} MB"
        )
    if sweep:
        print_sweep(sweep)
    print("Targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in figures["targets"].items()))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
