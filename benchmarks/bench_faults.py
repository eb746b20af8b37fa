"""The exactly-once fault matrix at full size: every fault case, many tickets, several kill -9 per round.

    python benchmarks/bench_faults.py                    # 12 tickets (about 4 minutes), a kill -9 in every round
    python benchmarks/bench_faults.py --tickets 8 --kills 1 --only kill-9,everything

Each case: ``--tickets`` corrective-action tickets created, escalated three times and half resolved, with
the case's faults (slow responses beyond the read timeout, drops before/after Jira acted, 5xx, failing
property writes, store loss, SIGKILL of the worker at random moments), then converged without faults.
Prints one JSON object: per case the tickets and marked comments counted in the sandbox, duplicates and
missing ones (target 0), runs, kills, items left pending on the way, and the time as a ratio to the
fault-free baseline case of the same run. Exit code 1 when any case is not exactly once.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("PMO_GATES_TEST_TOKEN", "bench-token")

from tests.fault_matrix import CASES, run_matrix


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=12)
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLed workers per round in the kill cases")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", default=None, help=f"comma-separated cases of: {', '.join(c.name for c in CASES)}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the faults make every ambiguous write log a warning
    only = ["no-faults", *args.only.split(",")] if args.only else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pmo-bench-faults-") as workdir:
        outcomes = run_matrix(Path(workdir), n=args.tickets, seed=args.seed, kills=args.kills, only=only)
    baseline = next((o.seconds for o in outcomes if o.case == "no-faults"), None) or None
    cases = {}
    for o in outcomes:
        cases[o.case] = {
            "tickets": o.tickets,
            "marked_comments": o.comments,
            "duplicate_tickets": o.duplicate_tickets,
            "duplicate_comments": o.duplicate_comments,
            "missing_comments": o.missing_comments,
            "runs": o.runs,
            "kills": o.kills,
            "kills_mid_write": o.kills_mid_write,
            "store_losses": o.store_losses,
            "left_pending_on_the_way": o.pending_items,
            "deferred_on_the_way": o.deferred_items,
            "failed_on_the_way": o.failed_items,
            "seconds": o.seconds,
            "x_baseline": round(o.seconds / baseline, 2) if baseline else None,
            "exactly_once": o.exactly_once,
            "errors": o.errors,
        }
    report = {
        "tickets_per_case": args.tickets,
        "kills_per_round": args.kills,
        "cases": cases,
        "all_exactly_once": all(o.exactly_once for o in outcomes),
        "total_tickets": sum(o.tickets for o in outcomes),
        "total_marked_comments": sum(o.comments for o in outcomes),
        "total_kills": sum(o.kills for o in outcomes),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    return 0 if report["all_exactly_once"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
