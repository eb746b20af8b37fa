"""The bundled sample portfolio through the real sync and the root-cause analysis: its healthy projects are
never called delayed, and every project generated late is (what `pmo-gates demo` shows a newcomer)."""

from __future__ import annotations

import pytest

from pmo_gates.connectors.sync import sync_portfolio
from pmo_gates.rca.run import run_rca
from pmo_gates.sandbox import SandboxServer, sample_portfolio_path
from pmo_gates.sandbox.generate import SAMPLE_TODAY
from pmo_gates.sandbox.portfolio_builder import _SAMPLE_PROJECTS
from pmo_gates.sandbox.portfolio_model import SAMPLE_PROFILES
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sandbox_actions import connection, settings


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_sample_healthy_projects_are_on_time_and_late_ones_delayed(sqlite_store, flavour):
    profiles = {key: profile for (key, _name), profile in zip(_SAMPLE_PROJECTS, SAMPLE_PROFILES, strict=False)}
    with SandboxServer(sample_portfolio_path(), flavour=flavour, index_lag=STRICT_INDEX_LAG) as sandbox:
        cfg = settings(sandbox.url)
        cfg = cfg.model_copy(
            update={
                "portfolio": cfg.portfolio.model_copy(update={"projects": sorted(profiles)}),
                "today": SAMPLE_TODAY,
                # about the analysis, not the pacing: unpaced, the sync costs no waiting
                "sync": cfg.sync.model_copy(update={"requests_per_second": 1000}),
            }
        )
        sync_portfolio(connection(sandbox.url, flavour), sqlite_store, cfg, full=True)
    report = run_rca(cfg, store=sqlite_store, persist=False)
    delayed = {p.key for p in report.delayed}
    healthy = {key for key, profile in profiles.items() if profile.traits == ("healthy",)}
    late = {key for key, profile in profiles.items() if profile.has("late")}
    assert healthy and late
    assert not delayed & healthy, f"healthy projects flagged: {sorted(delayed & healthy)}"
    assert late <= delayed, f"late projects missed: {sorted(late - delayed)}"
    for project in report.delayed:
        assert project.causes, f"{project.key}: delayed without a cause"
        assert [c.score for c in project.causes] == sorted((c.score for c in project.causes), reverse=True)
