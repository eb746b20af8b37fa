"""``pmo-gates sandbox``: serves in the foreground, with auth from an environment variable."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
import typer
from typer.testing import CliRunner

from pmo_gates.commands import sandbox as command
from pmo_gates.sandbox import SandboxServer


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    command.register(app)
    app.command("noop")(lambda: None)  # a second command keeps typer from collapsing the group
    return app


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, str]]:
    """Replaces the foreground wait by a few calls to the running server, then stops it."""
    calls: list[tuple[int, int, str]] = []

    def wait(self: SandboxServer) -> None:
        url = f"{self.url}/rest/api/2/serverInfo"
        # serverInfo answers anyone (as Jira's does); /myself shows whether credentials are required.
        myself = f"{self.url}/rest/api/2/myself"
        anonymous = requests.get(myself, timeout=5).status_code
        with_token = requests.get(myself, auth=("pmo@example.com", "s3cret"), timeout=5).status_code
        calls.append((anonymous, with_token, requests.get(url, timeout=5).text))
        self.stop()

    monkeypatch.setattr(SandboxServer, "wait", wait)
    return calls


def test_serves_the_bundled_sample(app: typer.Typer, seen: list) -> None:
    result = CliRunner().invoke(app, ["sandbox", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert "10 projects" in result.output and "http://127.0.0.1:" in result.output
    assert seen[0][0] == 200 and '"deploymentType":"Cloud"' in seen[0][2]


def test_requires_the_token_from_the_environment(app: typer.Typer, seen: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_TOKEN", "s3cret")
    args = ["sandbox", "--port", "0", "--flavour", "dc", "--user", "pmo@example.com", "--token-env", "SANDBOX_TOKEN"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert seen[0][:2] == (401, 200)
    assert "s3cret" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "a@example.com"], "--user and --token-env go together"),
        (["--user", "a@example.com", "--token-env", "PMO_GATES_UNSET_TOKEN_VAR"], "is not set"),
        (["--flavour", "server"], "must be 'cloud' or 'dc'"),
    ],
)
def test_bad_options(app: typer.Typer, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["sandbox", "--port", "0", *args])
    assert result.exit_code == 2 and message in result.output


def test_bad_snapshot_is_reported(app: typer.Typer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(app, ["sandbox", "--port", "0", "--seed", str(broken)])
    assert result.exit_code == 2 and "broken.json: invalid snapshot" in result.output
