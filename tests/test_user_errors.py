"""Every user-facing error is one or two lines naming the file, key, path or URL and what to do, with a
non-zero exit and no traceback: each case a new user ran into, driven through the command line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner
from urllib3.exceptions import MaxRetryError, NewConnectionError

from pmo_gates.cli import app
from pmo_gates.config import RetryConfig
from pmo_gates.connectors.client import build_client
from pmo_gates.connectors.errors import JiraHTTPError
from pmo_gates.connectors.retry import RetryPolicy
from pmo_gates.reachability import prefect_api_problem
from tests.fixtures_connector import connection
from tests.fixtures_sandbox import small
from tests.user_errors import assert_user_error

TOKEN_ENV = "PMO_GATES_TEST_TOKEN"
ENV = {TOKEN_ENV: "not-a-real-token-1234"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    path = tmp_path / "small.json"
    small().dump(path)
    return path


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A plain file: a path below it can never be written, even by root."""
    path = tmp_path / "a-file.txt"
    path.write_text("not a folder")
    return path


def write_config(tmp_path: Path, *, jira_url: str = "http://127.0.0.1:9", database_url: str | None = None) -> Path:
    path = tmp_path / "pmo-gates.yaml"
    database_url = database_url or f"sqlite:///{tmp_path / 'store.db'}"
    path.write_text(
        textwrap.dedent(
            f"""\
            jira:
              url: {jira_url}
              flavour: cloud
              auth:
                email: pmo@example.com
                token_env: {TOKEN_ENV}
            portfolio:
              projects: [ALPHA]
            database:
              url: "{database_url}"
            """
        )
    )
    return path


def test_sandbox_on_a_busy_port(busy_port: int, seed: Path) -> None:
    result = CliRunner().invoke(app, ["sandbox", "--seed", str(seed), "--port", str(busy_port)])
    assert_user_error(result, f"127.0.0.1:{busy_port}", "--port", code=2)


def test_demo_out_on_an_unwritable_path(a_file: Path, seed: Path) -> None:
    out = a_file / "demo"
    result = CliRunner().invoke(app, ["demo", "--seed", str(seed), "--out", str(out)])
    assert_user_error(result, "--out", str(out), code=2)


def test_snapshot_export_out_on_an_unwritable_path_fails_before_contacting_jira(tmp_path: Path, a_file: Path) -> None:
    config = write_config(tmp_path)  # port 9: any Jira call would fail differently
    out = a_file / "snap.json"
    result = CliRunner().invoke(app, ["snapshot", "export", "--config", str(config), "--out", str(out)], env=ENV)
    assert_user_error(result, "--out", str(out), "writable", code=2)


def test_schema_output_into_a_missing_folder_creates_it(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "deeper" / "rule-schema.json"
    result = CliRunner().invoke(app, ["schema", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith("{")


def test_schema_output_on_an_unwritable_path(a_file: Path) -> None:
    target = a_file / "rule-schema.json"
    result = CliRunner().invoke(app, ["schema", "-o", str(target)])
    assert_user_error(result, "--output", str(target), code=2)


def test_a_stale_prefect_api_url_is_named() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api"
    problem = prefect_api_problem(url)
    assert problem is not None and f"PREFECT_API_URL={url}" in problem and "connection refused" in problem


def test_demo_with_a_stale_prefect_api_url(tmp_path: Path, seed: Path) -> None:
    """In a fresh process: Prefect reads PREFECT_API_URL when it is imported."""
    url = f"http://127.0.0.1:{closed_port()}/api"
    env = {**os.environ, "PREFECT_API_URL": url}
    command = [sys.executable, "-m", "pmo_gates.cli", "demo", "--seed", str(seed), "--out", str(tmp_path / "out")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    # the demo's own progress lines, then the one-line error
    assert f"PREFECT_API_URL={url}" in lines[-1] and "unset it" in lines[-1], text


def test_a_wrong_jira_url_fails_fast_naming_it(tmp_path: Path) -> None:
    port = closed_port()
    config = write_config(tmp_path, jira_url=f"http://127.0.0.1:{port}")
    began = time.monotonic()
    result = CliRunner().invoke(app, ["sync", "--config", str(config)], env=ENV)
    elapsed = time.monotonic() - began
    assert_user_error(result, "jira.url", f"127.0.0.1:{port}", "connection refused", code=1)
    assert elapsed < 10, f"took {elapsed:.1f} s: a refused connection must not be retried"


def _refused(port: int) -> requests.exceptions.ConnectionError:
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(MaxRetryError(None, f"http://127.0.0.1:{port}/x", reason))  # type: ignore[arg-type]


def test_refused_before_jira_ever_answered_is_not_retried() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(RetryConfig(max_attempts=5), sleep=sleeps.append)
    calls = []

    def send() -> None:
        calls.append(1)
        raise _refused(1)

    with pytest.raises(JiraHTTPError, match=r"check jira\.url"):
        policy.call("GET", "/rest/api/2/serverInfo", send)
    assert len(calls) == 1 and sleeps == []


def test_refused_after_jira_answered_is_retried_like_a_restart() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(RetryConfig(max_attempts=5, initial_wait_seconds=0.01), sleep=sleeps.append)
    assert policy.call("GET", "/rest/api/2/serverInfo", lambda: "ok") == "ok"
    outcomes = iter([_refused(1), _refused(1), None])

    def send() -> str:
        failure = next(outcomes)
        if failure is not None:
            raise failure
        return "page"

    assert policy.call("GET", "/rest/api/2/search/jql", send) == "page"
    assert len(sleeps) == 2


def test_build_client_against_nothing_names_the_url() -> None:
    port = closed_port()
    with pytest.raises(JiraHTTPError) as caught:
        build_client(connection(f"http://127.0.0.1:{port}", flavour="auto"))
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}" in message and "jira.url" in message and "\n" not in message


def test_postgres_scheme_gets_a_hint(tmp_path: Path) -> None:
    config = write_config(tmp_path, database_url="postgres://pmo:hunter2secret@127.0.0.1:5432/test")
    result = CliRunner().invoke(app, ["sync", "--config", str(config)], env=ENV)
    text = assert_user_error(result, "postgresql://", "database.url", code=1)
    assert "hunter2secret" not in text


def test_unreachable_database_names_url_without_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://pmo:hunter2secret@127.0.0.1:{closed_port()}/pmo"
    config = write_config(tmp_path, database_url=url)
    result = CliRunner().invoke(app, ["report", "--config", str(config)], env=ENV)
    text = assert_user_error(result, "postgresql+psycopg://pmo:***@127.0.0.1", "refused", "database.url", code=1)
    assert "hunter2secret" not in text


def test_database_url_from_the_environment_is_named(tmp_path: Path, a_file: Path) -> None:
    config = write_config(tmp_path)
    env = {**ENV, "PMO_GATES_DATABASE_URL": f"sqlite:///{a_file}/store.db"}
    result = CliRunner().invoke(app, ["rca", "--config", str(config)], env=env)
    assert_user_error(result, "PMO_GATES_DATABASE_URL", str(a_file), "writable", code=1)
