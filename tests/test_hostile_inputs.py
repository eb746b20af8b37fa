"""The hostile-input suite: every generated hostile file (tests/hostile_inputs.py), through every YAML
reader, ends in a ``path:line:col`` error or a success, never a traceback, within 2 s and 200 MB each.

The files run under one worker process (tests/hostile_worker.py) that imports the loaders once and
forks a child per file, with a capped address space: a regression fails its case instead of exhausting
the machine, each case is measured on its own, and the suite stays in CI time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile_inputs import cases

MAX_SECONDS = 2.0
MAX_BYTES = 200 * 1024**2
ROOT = Path(__file__).resolve().parents[1]


def _run_worker(folder: Path) -> tuple[list[dict], dict[str, Path]]:
    paths: dict[str, Path] = {}
    listing = []
    for case in cases():
        path = folder / f"{case.name}.yaml"
        path.write_bytes(case.content)
        paths[case.name] = path
        listing.append({"name": case.name, "loader": case.loader, "path": str(path)})
    (folder / "cases.json").write_text(json.dumps(listing))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.hostile_worker", str(folder / "cases.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or len(lines) != len(listing):
        done = lines[-1]["name"] if lines else "(none)"
        pytest.fail(f"the worker failed (exit {proc.returncode}) after case {done}: {proc.stderr[-2000:]}")
    return lines, paths


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], dict[str, Path]]:
    return _run_worker(tmp_path_factory.mktemp("hostile"))


def test_the_suite_is_large_and_covers_every_reader(outcomes: tuple[list[dict], dict[str, Path]]) -> None:
    results, _ = outcomes
    assert len(results) >= 150
    loaders = {name.split("-", 1)[0] for name in (r["name"] for r in results)}
    assert loaders == {"rules", "playbook", "priority", "config"}
    errors = [r for r in results if r["outcome"] == "error"]
    assert len(errors) > len(results) / 2  # most are refused; the rest must load cleanly


def test_no_case_ends_in_a_traceback(outcomes: tuple[list[dict], dict[str, Path]]) -> None:
    results, _ = outcomes
    tracebacks = [f"{r['name']}: {r['lines'][:1]}" for r in results if r["outcome"] == "traceback"]
    assert tracebacks == []


def test_every_error_line_names_path_line_and_column(outcomes: tuple[list[dict], dict[str, Path]]) -> None:
    results, paths = outcomes
    bad = []
    for result in results:
        path = re.escape(str(paths[result["name"]]))
        # Config schema errors keep their documented `file:line: key: message` form.
        form = re.compile(
            rf"^{path}:\d+:\d+: " if not result["name"].startswith("config-") else rf"^{path}:\d+(:\d+)?: "
        )
        bad += [f"{result['name']}: {line}" for line in result["lines"] if not form.match(line)]
    assert bad == []


def test_every_case_is_fast_and_small(outcomes: tuple[list[dict], dict[str, Path]]) -> None:
    results, _ = outcomes
    # CPU time, not wall time: CI machines are shared, and a case's wall time there measures its neighbours.
    slow = [f"{r['name']}: {r['cpu_seconds']:.2f} s" for r in results if r["cpu_seconds"] > MAX_SECONDS]
    big = [f"{r['name']}: {r['peak_bytes'] / 1024**2:.0f} MB" for r in results if r["peak_bytes"] > MAX_BYTES]
    assert slow == [] and big == []


def test_the_reproduced_findings_are_refused_where_they_are(outcomes: tuple[list[dict], dict[str, Path]]) -> None:
    by_name = {r["name"]: r for r in outcomes[0]}
    for loader in ("rules", "playbook", "priority", "config"):
        assert "aliases" in by_name[f"{loader}-alias-bomb-list"]["lines"][0]
        assert "nested more than" in by_name[f"{loader}-deep-flow-list-5000"]["lines"][0]
        assert "not a finite number" in by_name[f"{loader}-scalar-nan"]["lines"][0]
        assert "more than 32 characters" in by_name[f"{loader}-scalar-int-4300-digits"]["lines"][0]
    for digit in ("superscript", "circled", "arabic-indic", "fullwidth"):
        assert "is not an ASCII digit" in by_name[f"rules-expr-digit-{digit}"]["lines"][0]


CLI_SAMPLE = ["alias-bomb-list", "deep-flow-list-5000", "huge-int-value", "random-bytes", "secrets"]


def test_pmo_gates_validate_on_a_sample(tmp_path: Path) -> None:
    """The command line, as a user runs it: exit 1, one positioned line, no traceback."""
    chosen = {c.name: c for c in cases() if c.loader == "rules"}
    for name in CLI_SAMPLE:
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(chosen[f"rules-{name}"].content)
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "pmo-gates"), "validate", *(f"{n}.yaml" for n in CLI_SAMPLE)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_cap_memory,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in output
    for name in CLI_SAMPLE:
        assert re.search(rf"^{re.escape(name)}\.yaml:\d+:\d+: ", output, re.MULTILINE), output
    assert "hunter2" not in output and "db_password" not in output


def _cap_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
