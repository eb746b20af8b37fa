"""Test-wide set-up. Prefect reads its settings at import, so the environment is fixed before anything
imports it: a private PREFECT_HOME, test mode, no analytics, no telemetry."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="pmo-gates-test-prefect-")
atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)  # one per test process: not left in /tmp
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_TEST_MODE", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("DO_NOT_TRACK", "1")

import pytest  # noqa: E402
import typer  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from pmo_gates.store import Store  # noqa: E402
from pmo_gates.store.models import Base  # noqa: E402

# jira_contract: the ``jira_responses`` mock held to Atlassian's OpenAPI description; prefect_server: the
# session Prefect server (tests marked prefect).
pytest_plugins = ["tests.jira_contract", "tests.prefect_server"]

PG_URL = os.environ.get("PMO_GATES_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session. Fails (never skips) when the server is
    down: .ci/run starts it, and a silently skipped PostgreSQL suite hides real bugs."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"pmo_gates_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - environment problem
        pytest.fail(f"PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)} unusable: {exc}")
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _pg_store(pg_database_url: str) -> Iterator[Store]:
    store = Store(pg_database_url)
    yield store
    store.dispose()


def _truncate(store: Store) -> None:
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield store
    store.dispose()


@pytest.fixture
def pg_store(_pg_store: Store) -> Iterator[Store]:
    _truncate(_pg_store)
    yield _pg_store


@pytest.fixture(params=["cloud", "dc"])
def sandbox_flavour(request) -> str:
    """The sandbox Jira's flavour: tests using it run against Cloud and against Data Center."""
    return request.param


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request) -> Store:
    """The store on SQLite and on the real PostgreSQL server: tests using it run on both."""
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "pg_store")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist (``--dist loadgroup``), every test on the session Prefect server runs in one worker:
    one server start (seconds of CPU on two cores) instead of one per worker."""
    for item in items:
        if item.get_closest_marker("prefect") or "prefect_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("prefect"))


@pytest.fixture
def rules_app() -> typer.Typer:
    """The rule commands (validate, rules test, schema) on a Typer app of their own."""
    from pmo_gates.commands.rules import register

    application = typer.Typer()
    register(application)
    return application


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test in its temp folder (commands that look for ./rules or ./pmo-gates.yaml)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
