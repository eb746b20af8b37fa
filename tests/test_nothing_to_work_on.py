"""A command with nothing to work on because the sync failed (or never ran) exits non-zero and says why,
instead of succeeding having done nothing."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.store import Store
from pmo_gates.store.models import Project
from pmo_gates.store.readiness import NothingToWorkOn, require_projects
from tests.fixtures_connector import EMAIL, TOKEN
from tests.fixtures_sync import portfolio, serve

ENV = {"PMO_GATES_TEST_TOKEN": TOKEN}


def _config(tmp_path: Path, url: str, projects: list[str]) -> Path:
    path = tmp_path / "pmo-gates.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            jira:
              url: {url}
              flavour: cloud
              auth:
                email: {EMAIL}
                token_env: PMO_GATES_TEST_TOKEN
            portfolio:
              projects: [{", ".join(projects)}]
            database:
              url: sqlite:///{tmp_path / "store.db"}
            reports:
              out_dir: {tmp_path / "reports"}
            """
        )
    )
    return path


def test_commands_after_a_failed_sync_exit_non_zero_and_say_why(tmp_path):
    runner = CliRunner()
    with serve(portfolio(), "cloud") as sb:
        cfg = _config(tmp_path, sb.url, ["NOPE"])
        synced = runner.invoke(app, ["sync", "--config", str(cfg)], env=ENV)
        assert synced.exit_code != 0
        for command in (["actions", "--dry-run"], ["review", "--dry-run"], ["rca"], ["report"]):
            result = runner.invoke(app, [*command, "--config", str(cfg)], env=ENV)
            message = " ".join(result.output.split())
            assert result.exit_code == 1, (command, result.output)
            assert "nothing to work on" in message and "last sync (run 1" in message and "failed" in message
            assert "NOPE" in message and "Traceback" not in message


def test_the_check(store):
    with store.session() as s:
        with pytest.raises(NothingToWorkOn, match="no sync has run; run `pmo-gates sync`"):
            require_projects(s)
