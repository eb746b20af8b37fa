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
         "--changed-pct", "5", "--workdir", str(tmp_path), "--latency", "0", "--no-naive"]
    )  # fmt: skip
    report = bench.orchestrate(args)
    assert all(report["targets"].values()), report["targets"]
    issues = report["portfolio"]["issues"]
    full, incremental, unchanged = report["full"], report["incremental"], report["unchanged"]
    assert full["issues_upserted"] == issues
    assert full["requests"] <= full["minimum_requests"] + full["partition_allowance"]
    sequential = report["full_sequential"]
    assert sequential["issues_upserted"] == issues and sequential["requests"] <= sequential["minimum_requests"] + 1
    assert incremental["issues_upserted"] >= incremental["changed"]
    assert incremental["requests"] <= math.ceil(incremental["changed"] / 50) + bench.INCREMENTAL_SLACK
    assert unchanged["requests"] <= 2 and unchanged["issues_upserted"] == 0
    assert full["peak_rss_mb"] < bench.RSS_MAX_MB
    assert report["naive_search_issues"] is None


@pytest.mark.slow
def test_small_latency_benchmark_concurrent_beats_one_page_at_a_time_within_the_rate(tmp_path):
    """CI size of the latency section: 0.1 s per search instead of 1 s, 2,000 issues in pages of 10. The
    full-size target (6x at 1 s per page) is checked by the full run; here the sync's CPU is no longer
    small against the latency, so the bar is lower."""
    bench = _bench()
    args = bench.parse(
        ["--projects", "10", "--issues-per-project", "10", "--page-size", "10", "--no-naive",
         "--latency", "0.1", "--latency-projects", "40", "--latency-issues-per-project", "50",
         "--latency-rate", "100", "--storm-count", "15", "--workdir", str(tmp_path)]
    )  # fmt: skip
    report = bench.orchestrate(args)
    lat = report["latency"]
    issues = lat["issues"]
    assert lat["speedup"] >= 2.0, lat  # 5-7x on an idle machine; CPU-starved CI runners get less
    for name in ("sequential", "concurrent", "storm"):
        assert lat[name]["stored_rows"] == lat[name]["stored_distinct"] == issues  # each once, none skipped
    assert lat["concurrent"]["peak_requests_per_s"] <= 100
    assert lat["storm"]["throttled_429"] == 15
    assert report["targets"]["latency_rate"] and report["targets"]["storm_stored_everything"]
