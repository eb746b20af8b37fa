"""Runs hostile input files through their loaders in one process, one JSON line per case.

    python -m tests.hostile_worker CASES.json

Each case is measured: wall time and the peak of Python allocations (tracemalloc) while loading it.
The address space is capped so that a regression (an alias bomb expanding) fails this process fast
instead of exhausting the machine; a line ``{"start": name}`` before each case tells the parent which
case was running if the process dies.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ADDRESS_SPACE = 3 * 1024**3  # far above a healthy run, far below what a bomb asks for


def _loaders() -> dict[str, Any]:
    from pmo_gates.config import ConfigError, load_settings
    from pmo_gates.rca.playbook import load_playbook
    from pmo_gates.rca.yamlfile import PlaybookError
    from pmo_gates.reports.priority import load_priority
    from pmo_gates.rules.errors import RuleFileErrors
    from pmo_gates.rules.facts.registry import default_catalog
    from pmo_gates.rules.loader import load_rule_set

    catalog = default_catalog()

    def rules(path: str) -> None:
        load_rule_set([path], catalog, today=dt.date(2026, 11, 20))

    return {
        "rules": (rules, RuleFileErrors),
        "playbook": (load_playbook, PlaybookError),
        "priority": (lambda path: load_priority(path), PlaybookError),
        "config": (load_settings, ConfigError),
    }


def main(cases_file: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    loaders = _loaders()
    cases = json.loads(Path(cases_file).read_text())
    tracemalloc.start()
    for case in cases:
        print(json.dumps({"start": case["name"]}), flush=True)
        load, expected = loaders[case["loader"]]
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        outcome, message = "ok", ""
        try:
            load(case["path"])
        except expected as exc:
            outcome, message = "error", str(exc)
        except BaseException as exc:  # what the suite exists to catch: anything else is a traceback
            outcome, message = "traceback", f"{type(exc).__name__}: {str(exc)[:500]}"
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - before
        lines = message.splitlines()
        result = {"name": case["name"], "outcome": outcome, "lines": lines[:20], "line_count": len(lines)}
        result["seconds"] = seconds
        print(json.dumps({**result, "peak_bytes": peak}), flush=True)


if __name__ == "__main__":
    sys.setrecursionlimit(1000)  # the interpreter's default, whatever the test runner set
    main(sys.argv[1])
