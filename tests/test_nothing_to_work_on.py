"""A command with nothing to work on because the sync failed (or never ran) exits non-zero and says why,
instead of succeeding having done nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.store.models import Project, SyncRun
from pmo_gates.store.readiness import NothingToWorkOn, require_projects
from tests.fixtures_connector import TOKEN
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sync import portfolio, serve, write_sandbox_config

ENV = {"PMO_GATES_TEST_TOKEN": TOKEN}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_commands_after_a_failed_sync_exit_non_zero_and_say_why(tmp_path, flavour):
    runner = CliRunner()
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = write_sandbox_config(tmp_path, sb.url, ["NOPE"], flavour=flavour)
        synced = runner.invoke(app, ["sync", "--config", str(cfg)], env=ENV)
        assert synced.exit_code != 0
        for command in (["actions", "--dry-run"], ["review", "--dry-run"], ["rca"], ["report"]):
            result = runner.invoke(app, [*command, "--config", str(cfg)], env=ENV)
            message = " ".join(result.output.split())
            assert result.exit_code == 1, (command, result.output)
            assert "nothing to work on" in message and "last sync (run 1" in message and "failed" in message
            assert "NOPE" in message and "Traceback" not in message


def test_an_empty_store_is_an_error_unless_a_completed_sync_found_nothing(store):
    started = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    with store.session() as s, pytest.raises(NothingToWorkOn, match="no sync has run; run `pmo-gates sync`"):
        require_projects(s)
    with store.session() as s:
        s.add(SyncRun(started_at=started, mode="full", status="running", stats={}))
    with store.session() as s, pytest.raises(NothingToWorkOn, match=r"last sync \(run 1, started 2026-11-02 06:00"):
        require_projects(s)
    with store.session() as s:
        s.add(SyncRun(started_at=started, mode="full", status="completed", stats={}))
    with store.session() as s:
        require_projects(s)  # an empty portfolio, synced: nothing to do, and nothing wrong


def test_the_flows_fact_step_fails_with_the_reason_and_carries_data_errors(sqlite_store):
    from pmo_gates.flows.steps import compute_facts_task

    with pytest.raises(NothingToWorkOn, match="no sync has run"):
        compute_facts_task.fn(sqlite_store, date(2026, 11, 2))
    with sqlite_store.session() as s:
        s.add(Project(key="A", jira_id="1", name="A", synced_at=datetime(2026, 11, 2, tzinfo=UTC)))
    table = compute_facts_task.fn(sqlite_store, date(2026, 11, 2))
    assert set(table.values) == {"A"} and table.problems == []
