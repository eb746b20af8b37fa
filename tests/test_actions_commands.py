"""The ``review`` and ``actions`` commands' error handling (their runs are tested through run_* on the
sandbox)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from pmo_gates.commands import actions, review


def app() -> typer.Typer:
    application = typer.Typer()
    actions.register(application)
    review.register(application)
    return application


def test_missing_config_and_missing_token_exit_2_with_the_reason(tmp_path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(app(), ["actions", "--config", str(tmp_path / "nope.yaml"), "--dry-run"])
    assert result.exit_code == 2 and "config file not found" in " ".join(result.output.split())
    config = tmp_path / "pmo-gates.yaml"
    config.write_text(
        "jira: {url: 'https://jira.example', auth: {token_env: PMO_TEST_UNSET}}\nportfolio: {projects: [A]}\n"
    )
    monkeypatch.delenv("PMO_TEST_UNSET", raising=False)
    result = runner.invoke(app(), ["review", "--config", str(config), "--json"])
    assert result.exit_code == 2 and "PMO_TEST_UNSET is not set" in " ".join(result.output.split())
