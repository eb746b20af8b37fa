"""Time to compute every fact for a large generated portfolio, on SQLite and on PostgreSQL.

    python benchmarks/bench_facts.py                          # 2,000 projects / 200,000 issues, both stores
    python benchmarks/bench_facts.py --projects 200 --issues-per-project 50 --stores sqlite
    python benchmarks/bench_facts.py --profile                # time per fact as well
    python benchmarks/bench_facts.py --projects 200 --issues-per-project 50 --repeat 1 --json   # CI size

Targets (checked, exit code 1 when missed): every project gets every fact; the SQL statements of one
computation stay under a small constant (bulk queries, never one per project: ``MAX_STATEMENTS``); and
when both stores run, SQLite and PostgreSQL give the same facts for every project. There is no time
target: the median seconds and ms per project are reported.

The portfolio is generated with a fixed seed and bulk-inserted straight into the store models: each issue
gets a realistic status history (to do -> in progress -> review -> done, some reopened), story points,
an assignee from a shared pool (so people span projects), and some issues blocking others, worklogs,
risks, bugs, corrective-action tickets and root-cause records. PostgreSQL runs in a throw-away database
on the server named by PMO_GATES_TEST_PG_URL (default: postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench_stores import open_store
from sqlalchemy import event

from pmo_gates.rules.facts import FactContext, compute_facts, default_registry
from pmo_gates.rules.facts.compute import evaluate, project_scope
from pmo_gates.store import Store
from pmo_gates.store.models import (
    ActionTicket,
    ChangelogItem,
    Issue,
    IssueLink,
    Person,
    Project,
    RcaResult,
    Worklog,
)

TODAY = date(2026, 11, 2)
FLOW = ["To Do", "In Progress", "In Review", "Done"]
CATEGORY = {"To Do": "new", "In Progress": "indeterminate", "In Review": "indeterminate", "Done": "done"}
PHASES = ["Initiation", "Planning", "Execution", "Execution", "Execution", "Closure", "Closed"]
MAX_STATEMENTS = 60  # one computation of every fact: bulk queries whatever the portfolio size


def _stamp(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randrange(8, 18), rng.randrange(60), tzinfo=UTC)


def generate(projects: int, issues_per_project: int, seed: int = 7) -> dict[type, list[dict[str, Any]]]:
    """Rows per model for a portfolio of ``projects`` x ``issues_per_project`` work issues."""
    rng = random.Random(seed)
    people = [f"user-{n:05d}" for n in range(max(10, projects // 2))]
    rows: dict[type, list[dict[str, Any]]] = {
        model: [] for model in (Person, Project, Issue, IssueLink, ChangelogItem, Worklog, ActionTicket, RcaResult)
    }
    rows[Person] = [dict(account_id=p, display_name=p.title(), active=True) for p in people]
    synced = datetime(2026, 11, 2, tzinfo=UTC)
    issue_id = 0
    history = 0
    keys: list[str] = []
    for p in range(projects):
        key = f"P{p:04d}"
        start = TODAY - timedelta(days=rng.randrange(30, 400))
        issue_id += 1
        anchor_key = f"{key}-0"
        rows[Issue].append(
            dict(
                id=issue_id,
                key=anchor_key,
                project_key=key,
                issue_type="Project",
                summary=key,
                status="In Progress",
                status_category="indeterminate",
                created=_stamp(start, rng),
                updated=_stamp(TODAY - timedelta(days=rng.randrange(60)), rng),
                labels=[],
                data_errors=[],
                synced_at=synced,
            )
        )
        rows[Project].append(
            dict(
                key=key,
                jira_id=str(10000 + p),
                name=f"Project {p}",
                anchor_issue_key=anchor_key,
                phase=rng.choice(PHASES),
                planned_start=start,
                planned_end=start + timedelta(days=rng.randrange(90, 500)),
                baseline_date=start + timedelta(days=rng.randrange(0, 60)),
                budget=float(rng.randrange(50, 2000) * 1000),
                actual_cost=None if rng.random() < 0.5 else float(rng.randrange(10, 1500) * 1000),
                hourly_rate=float(rng.choice([80, 100, 120])),
                project_manager_id=rng.choice([*people, None]),
                strategic_value=rng.choice([None, 1.0, 2.0, 3.0, 4.0, 5.0]),
                expected_roi=rng.choice([None, 5.0, 12.5, 30.0]),
                charter_url=rng.choice([None, "https://wiki/charter"]),
                budget_approved=rng.random() < 0.7,
                lessons_learned=None,
                metadata_json={},
                synced_at=synced,
            )
        )
        team = rng.sample(people, 6)
        for n in range(1, issues_per_project + 1):
            issue_id += 1
            issue_key = f"{key}-{n}"
            keys.append(issue_key)
            created_day = start + timedelta(days=rng.randrange(0, max(1, (TODAY - start).days)))
            created = _stamp(created_day, rng)
            steps = rng.choices([0, 1, 2, 3], weights=[3, 2, 1, 5])[0]
            moment = created
            status = FLOW[0]
            for step in range(steps):
                moment = min(moment + timedelta(hours=rng.randrange(2, 24 * 20)), synced - timedelta(hours=1))
                history += 1
                rows[ChangelogItem].append(
                    dict(
                        issue_id=issue_id,
                        history_id=str(history),
                        item_index=0,
                        author_id=None,
                        created=moment,
                        field="status",
                        from_string=FLOW[step],
                        to_string=FLOW[step + 1],
                    )
                )
                status = FLOW[step + 1]
            if status == "Done" and rng.random() < 0.05:  # reopened and back to in progress
                moment = min(moment + timedelta(days=2), synced - timedelta(minutes=30))
                history += 1
                rows[ChangelogItem].append(
                    dict(
                        issue_id=issue_id,
                        history_id=str(history),
                        item_index=0,
                        author_id=None,
                        created=moment,
                        field="status",
                        from_string="Done",
                        to_string="In Progress",
                    )
                )
                status = "In Progress"
            for _ in range(rng.randrange(0, 4)):  # other fields change too; facts must skip them
                history += 1
                rows[ChangelogItem].append(
                    dict(
                        issue_id=issue_id,
                        history_id=str(history),
                        item_index=0,
                        author_id=None,
                        created=created + timedelta(hours=rng.randrange(1, 500)),
                        field=rng.choice(["assignee", "priority", "Sprint", "description"]),
                        from_string=None,
                        to_string="x",
                    )
                )
            done = status == "Done"
            kind = rng.choices(["Story", "Task", "Bug", "Risk"], weights=[50, 30, 15, 5])[0]
            rows[Issue].append(
                dict(
                    id=issue_id,
                    key=issue_key,
                    project_key=key,
                    issue_type=kind,
                    summary=issue_key,
                    status=status,
                    status_category=CATEGORY[status],
                    priority=rng.choice(["High", "Medium", "Low"]),
                    assignee_id=None if rng.random() < 0.1 else rng.choice(team),
                    created=created,
                    updated=moment,
                    resolved=moment if done else None,
                    story_points=rng.choice([None, 1.0, 2.0, 3.0, 5.0, 8.0]),
                    time_spent_s=rng.randrange(0, 40) * 3600,
                    labels=[],
                    data_errors=[],
                    synced_at=synced,
                )
            )
            if rng.random() < 0.5:
                rows[Worklog].append(
                    dict(
                        id=str(len(rows[Worklog]) + 1),
                        issue_id=issue_id,
                        author_id=None,
                        started=created,
                        time_spent_s=rng.randrange(1, 16) * 1800,
                    )
                )
            if len(keys) > 1 and rng.random() < 0.05:
                blocker = keys[-2] if rng.random() < 0.7 else rng.choice(keys)
                rows[IssueLink].append(
                    dict(
                        id=str(len(rows[IssueLink]) + 1),
                        issue_id=issue_id,
                        link_type="Blocks",
                        from_key=blocker,
                        to_key=issue_key,
                    )
                )
        for t in range(2):
            rows[ActionTicket].append(
                dict(
                    fingerprint=f"{key}-fp{t}",
                    kind="finding",
                    rule_id=f"rule-{t}",
                    project_key=key,
                    ticket_key=None,
                    state=rng.choice(["open", "resolved"]),
                    summary="",
                    due_date=TODAY - timedelta(days=rng.randrange(-10, 30)),
                    escalation_level=0,
                    reopen_count=0,
                    created_at=synced - timedelta(days=40),
                    updated_at=synced,
                    resolved_at=synced - timedelta(days=rng.randrange(0, 30)),
                )
            )
        rows[RcaResult].append(
            dict(
                project_key=key,
                period="2026-10",
                analysed_at=synced - timedelta(days=30),
                delayed=False,
                causes=[],
                remedies=[],
            )
        )
    return rows


def load(store: Store, rows: dict[type, list[dict[str, Any]]]) -> None:
    """Bulk-load: COPY on PostgreSQL, executemany on SQLite (each model's rows share their keys)."""
    if store.dialect == "postgresql":
        raw = store.engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                for model, batch in rows.items():
                    if not batch:
                        continue
                    columns = list(batch[0])
                    names = ", ".join(f'"{name}"' for name in columns)
                    with cursor.copy(f"COPY {model.__tablename__} ({names}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row([_copy_value(row[name]) for name in columns])
                cursor.execute("ANALYZE")
            raw.commit()
        finally:
            raw.close()
        return
    with store.engine.begin() as conn:
        for model, batch in rows.items():
            if batch:
                conn.execute(model.__table__.insert(), batch)


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict | list) else value


def count_statements(store: Store) -> list[int]:
    counter = [0]

    def before(*_: Any) -> None:
        counter[0] += 1

    event.listen(store.engine, "before_cursor_execute", before)
    return counter


def profile(store: Store) -> list[tuple[str, float]]:
    """Seconds per fact in registry order (a shared computation is charged to its first reader)."""
    timings = []
    with store.session() as session:
        keys, everything = project_scope(session, None)
        ctx = FactContext(session=session, projects=keys, today=TODAY, all_projects=everything)
        for definition in default_registry().definitions():
            began = time.perf_counter()
            evaluate(ctx, [definition])
            timings.append((definition.name, time.perf_counter() - began))
    return timings


def digest(facts: dict[str, dict[str, Any]]) -> str:
    """A digest of every fact value (stores agree when their digests do)."""
    text_form = json.dumps(facts, sort_keys=True, default=str)
    return hashlib.sha256(text_form.encode()).hexdigest()[:16]


def differences(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]], limit: int = 10) -> list[str]:
    """Up to ``limit`` (project, fact) pairs whose values differ, as text."""
    out = []
    for key in sorted(set(a) | set(b)):
        left, right = a.get(key, {}), b.get(key, {})
        for name in sorted(set(left) | set(right)):
            if left.get(name) != right.get(name):
                out.append(f"{key}.{name}: {left.get(name)!r} != {right.get(name)!r}")
                if len(out) >= limit:
                    return out
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=2000)
    parser.add_argument("--issues-per-project", type=int, default=100)
    parser.add_argument("--stores", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per store (the median is reported)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="also print the slowest facts")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object (last)")
    args = parser.parse_args(argv)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    began = time.perf_counter()
    rows = generate(args.projects, args.issues_per_project, args.seed)
    say(
        f"generated {args.projects:,} projects, {len(rows[Issue]):,} issues, {len(rows[ChangelogItem]):,} "
        f"changelog items, {len(rows[IssueLink]):,} links, {len(rows[Worklog]):,} worklogs "
        f"in {time.perf_counter() - began:.1f}s"
    )
    results: list[dict[str, Any]] = []
    computed: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in [s.strip() for s in args.stores.split(",") if s.strip()]:
        with open_store(kind, "pmo_gates_bench") as store:
            began = time.perf_counter()
            load(store, rows)
            load_s = time.perf_counter() - began
            say(f"\n[{store.dialect}] loaded in {load_s:.1f}s")
            counter = count_statements(store)
            runs, cpu, statements = [], [], []
            for _ in range(args.repeat):
                counter[0] = 0
                began, began_cpu = time.perf_counter(), time.process_time()
                facts = compute_facts(store, today=TODAY)
                runs.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
                statements.append(counter[0])
            seconds = statistics.median(runs)
            names = len(next(iter(facts.values()))) if facts else 0
            computed[kind] = facts
            # CPU time of this process alone: on a busy machine it shows what the wall clock hides.
            say(
                f"[{store.dialect}] {names} facts x {len(facts):,} projects: median {seconds:.2f}s "
                f"(runs {', '.join(f'{r:.2f}' for r in runs)}; client CPU median {statistics.median(cpu):.2f}s), "
                f"{1000 * seconds / max(1, len(facts)):.2f} ms/project, {max(statements)} SQL statements"
            )
            result: dict[str, Any] = {
                "store": kind,
                "load_s": round(load_s, 2),
                "facts": names,
                "projects": len(facts),
                "complete_projects": sum(1 for values in facts.values() if len(values) == names),
                "median_s": round(seconds, 3),
                "runs_s": [round(r, 3) for r in runs],
                "client_cpu_median_s": round(statistics.median(cpu), 3),
                "ms_per_project": round(1000 * seconds / max(1, len(facts)), 3),
                "sql_statements": max(statements),
                "digest": digest(facts),
            }
            if args.profile:
                slowest = sorted(profile(store), key=lambda item: -item[1])[:10]
                result["slowest_facts_s"] = {name: round(spent, 3) for name, spent in slowest}
                for name, spent in slowest:
                    say(f"    {name:40s} {spent:6.2f}s")
            results.append(result)

    targets = {
        "every_project_every_fact": bool(results)
        and all(r["projects"] == args.projects and r["complete_projects"] == r["projects"] for r in results),
        "bulk_statements": all(r["sql_statements"] <= MAX_STATEMENTS for r in results),
    }
    report: dict[str, Any] = {
        "projects": args.projects,
        "issues": len(rows[Issue]) - args.projects,  # work issues (each project also has its anchor issue)
        "changelog_items": len(rows[ChangelogItem]),
        "results": results,
    }
    if len(computed) > 1:
        first, *others = computed
        diff = [line for other in others for line in differences(computed[first], computed[other])]
        targets["stores_agree"] = not diff
        report["store_differences"] = diff
        say(f"\nstores agree on every fact: {'yes' if not diff else 'NO'}" + "".join(f"\n  {d}" for d in diff))
    report["targets"] = targets
    say("Targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in targets.items()))
    if args.json:
        print(json.dumps(report, indent=2))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
