"""The sync benchmark at CI size (50 projects x 20 issues, both flavours): its request-count and memory
targets must hold. The full-size run is ``python benchmarks/bench_sync.py``."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sync.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_sync", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_small_benchmark_meets_its_targets(tmp_path, flavour):
    bench = _bench()
    args = bench.parse(
        ["--projects", "50", "--issues-per-project", "20", "--page-size", "50", "--flavour", flavour,
         "--changed-pct", "5", "--workdir", str(tmp_path)]
    )  # fmt: skip
    report = bench.orchestrate(args)
    assert all(report["targets"].values()), report["targets"]
    issues = report["portfolio"]["issues"]
    full, incremental, unchanged = report["full"], report["incremental"], report["unchanged"]
    assert full["issues_upserted"] == issues and full["requests"] <= full["minimum_requests"] + 2
    assert incremental["issues_upserted"] >= incremental["changed"]
    assert incremental["requests"] <= math.ceil(incremental["changed"] / 50) + bench.INCREMENTAL_SLACK
    assert unchanged["requests"] <= 2 and unchanged["issues_upserted"] == 0
    assert full["peak_rss_mb"] < bench.RSS_MAX_MB
    naive = report["naive_search_issues"]
    assert naive["issues"] == issues and naive["requests"] >= math.ceil(issues / 100)
