"""Runs hostile input files through their loaders, one JSON line per case.

    python -m tests.hostile_worker CASES.json

The loaders are imported once; each case then runs in a forked child, so that it is measured on its
own (CPU time and peak resident memory from ``wait4``, above a child that does nothing), a bomb
that gets through fails that case with a MemoryError under a capped address space instead of
exhausting the machine, and a hang is killed after a deadline.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

HEADROOM = 1024**3  # address space a case may add to the parent's before it fails with MemoryError
DEADLINE = 20.0  # wall seconds before a case is killed (CPU time is what the suite asserts on)


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
        "priority": (load_priority, PlaybookError),
        "config": (load_settings, ConfigError),
    }


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _run(loaders: dict[str, Any], case: dict[str, str]) -> dict[str, Any]:
    load, expected = loaders[case["loader"]]
    try:
        load(case["path"])
    except expected as exc:
        lines = str(exc).splitlines()
        return {"outcome": "error", "lines": lines[:20], "line_count": len(lines)}
    except BaseException as exc:  # what the suite exists to catch: anything else is a traceback
        return {"outcome": "traceback", "lines": [f"{type(exc).__name__}: {str(exc)[:500]}"], "line_count": 1}
    return {"outcome": "ok", "lines": [], "line_count": 0}


def _child(loaders: dict[str, Any], case: dict[str, str], out: int) -> None:
    vm = _status_kb("VmSize") * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + HEADROOM, vm + HEADROOM))
    try:
        result = _run(loaders, case)
    except BaseException as exc:
        result = {"outcome": "traceback", "lines": [type(exc).__name__], "line_count": 1}
    os.write(out, json.dumps(result).encode())
    os._exit(0)


def baseline_rss() -> int:
    """Peak resident bytes of a child that does nothing: what every case's peak is measured from."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    return os.wait4(pid, 0)[2].ru_maxrss * 1024


def run_case(loaders: dict[str, Any], case: dict[str, str], baseline: int) -> dict[str, Any]:
    read_end, write_end = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(loaders, case, write_end)
    os.close(write_end)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([read_end], [], [], max(0.0, DEADLINE - (time.perf_counter() - started)))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            break
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_end)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    if chunks:
        result = json.loads(b"".join(chunks))
    else:
        result = {"outcome": "traceback", "lines": [f"child died (status {status}) or timed out"], "line_count": 1}
    return {
        "name": case["name"],
        **result,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "wall_seconds": wall,
        "peak_bytes": max(0, usage.ru_maxrss * 1024 - baseline),
    }


def main(cases_file: str) -> None:
    loaders = _loaders()
    baseline = baseline_rss()
    for case in json.loads(Path(cases_file).read_text()):
        print(json.dumps(run_case(loaders, case, baseline)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
