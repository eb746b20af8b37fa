"""What every flow run opens first: the config, the store, the Jira client and an artifact publisher.

Flows take ``config_path`` + ``credentials_block`` (what a deployment can pass as JSON) or ``settings``
(in-process callers: the demo, tests). The token comes from the ``JiraCredentials`` Block when one is
named, else from the environment variable the config names, exactly as the CLI reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from pmo_gates.config import Settings, load_settings
from pmo_gates.connectors.client import JiraClient, build_client
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.flows.artifacts import ArtifactPublisher
from pmo_gates.store import Store


def resolve_settings(config_path: str | None, settings: Settings | None) -> Settings:
    return settings if settings is not None else load_settings(config_path)


def jira_connection(settings: Settings, credentials_block: str | None) -> JiraConnection:
    if credentials_block:
        from pmo_gates.connectors.credentials import JiraCredentials

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
def open_runtime(settings: Settings, credentials_block: str | None) -> Iterator[FlowRuntime]:
    """Store, client and publisher for one flow run, closed when it ends."""
    connection = jira_connection(settings, credentials_block)
    publisher = ArtifactPublisher(connection.secrets(), email=connection.email)
    store = Store(settings.database_url())
    client: JiraClient | None = None
    try:
        client = build_client(connection)
        yield FlowRuntime(settings=settings, store=store, client=client, publisher=publisher)
    finally:
        if client is not None:
            client.close()
        store.dispose()
