"""One real Prefect server for the whole test session, for the few tests marked ``prefect``.

A ``prefect server start`` subprocess on a free loopback port, with its own PREFECT_HOME and SQLite
database, so flow runs, pauses, artifacts and deployments go through the same API a user's server
serves. Most tests never touch it: they call the plain functions the flows wrap.

``prefect_api`` points the client at it for one test and turns flow heartbeats off: with heartbeats
every synchronous flow call costs a second more, and crash detection is not what the tests check.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

# Minutes, not seconds, on a shared 2-core machine under load (a fresh database is migrated first).
STARTUP_TIMEOUT_SECONDS = 300.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(home: Path) -> dict[str, str]:
    """The environment of a server (or CLI) bound to ``home``: nothing inherited from a user profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_UI_ENABLED="false",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
        DO_NOT_TRACK="1",
    )
    return env


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"prefect server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"prefect server not healthy after {STARTUP_TIMEOUT_SECONDS:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_server(home: Path, **extra_env: str) -> Iterator[str]:
    """A ``prefect server start`` subprocess (the venv's Prefect) bound to ``home``; yields its API URL."""
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**server_env(home), **extra_env},
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process started with ``start_new_session`` and everything it started (its group)."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API URL (``http://127.0.0.1:N/api``) of a session-wide Prefect server."""
    with running_server(tmp_path_factory.mktemp("prefect-server")) as url:
        yield url


@pytest.fixture
def prefect_api(prefect_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """Point Prefect at the session server for this test, heartbeats off; yields the API URL."""
    if request.node.get_closest_marker("prefect") is None:
        pytest.fail("tests using the Prefect server must be marked @pytest.mark.prefect")
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_server, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield prefect_server
        drain_workers()


def drain_workers() -> None:
    """Send the logs and events still queued to this test's server before the settings change (or the
    server stops): otherwise they go out later, to a URL that no longer answers."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)
