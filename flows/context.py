"""What every flow run opens first: the config, the store, the Jira client and an artifact publisher.

Flows take ``config_path`` + ``credentials_block`` (what a deployment can pass as JSON; ``credentials``, a
JiraCredentials Block picked in the UI, wins over the name) or ``settings`` (in-process callers: the demo,
tests; hidden from the deployment's parameter schema). The token comes from the ``JiraCredentials`` Block when one is
named, else from the environment variable the config names, exactly as the CLI reads it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pmo_gates.config import ConfigError, Settings, load_settings
from pmo_gates.connectors.client import JiraClient, build_client
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.connectors.credentials import JiraCredentials
from pmo_gates.flows.artifacts import ArtifactPublisher
from pmo_gates.store import Store

WORKDIR_ENV = "PMO_GATES_WORKDIR"


def enter_work_folder(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Change into ``$PMO_GATES_WORKDIR`` as read *now*, in the process running the flow (a worker's or
    serve's subprocess), so the config and the relative paths in it resolve on the machine that runs it.

    A ``{{ $PMO_GATES_WORKDIR }}`` pull step in prefect.yaml would be resolved by ``prefect deploy`` on the
    deploying machine instead. Unset: the current folder stays (the CLI, the demo, tests)."""
    value = environ.get(WORKDIR_ENV, "").strip()
    if not value:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"{WORKDIR_ENV}={value}: no such folder on this machine (set it in the worker's environment)")
    os.chdir(folder)
    return folder.resolve()


def resolve_settings(config_path: str | None, settings: Settings | None) -> Settings:
    """``settings`` as given (in-process callers), else the config file read on this machine at run time."""
    if settings is not None:
        return settings
    enter_work_folder()
    return load_settings(config_path)


def jira_connection(settings: Settings, credentials_block: str | JiraCredentials | None) -> JiraConnection:
    """The Jira connection from a JiraCredentials Block (picked in the UI, or named), else from the env var
    the config names."""
    if isinstance(credentials_block, JiraCredentials):
        return credentials_block.to_connection(settings)
    if credentials_block:
        block = JiraCredentials.load(credentials_block)
        return block.to_connection(settings)  # type: ignore[union-attr]
    return JiraConnection.from_settings(settings)


@dataclass
class FlowRuntime:
    settings: Settings
    store: Store
    client: JiraClient
    publisher: ArtifactPublisher

    @property
    def today(self) -> date:
        return self.settings.today or date.today()


@contextmanager
def open_runtime(settings: Settings, credentials_block: str | JiraCredentials | None) -> Iterator[FlowRuntime]:
    """Store, client and publisher for one flow run, closed when it ends."""
    connection = jira_connection(settings, credentials_block)
    publisher = ArtifactPublisher(connection.secrets(), email=connection.email)
    store = Store(settings.database_url())
    client: JiraClient | None = None
    try:
        client = build_client(connection, connections=settings.sync.concurrency)  # concurrent read-backs
        yield FlowRuntime(settings=settings, store=store, client=client, publisher=publisher)
    finally:
        if client is not None:
            client.close()
        store.dispose()
