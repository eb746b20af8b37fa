"""The ``sync-jira`` flow: a thin Prefect wrapper around ``sync_portfolio``.

One task does the sync (Prefect's own retries stay off: the connector already retries each request, and
a re-run resumes from the watermark); the flow then publishes a markdown summary and a table of requests
per endpoint as artifacts, scrubbed of the token. ``pmo-gates sync`` calls ``sync_portfolio`` directly,
without Prefect, which starts faster from a terminal.

Example::

    sync_jira(config_path="pmo-gates.yaml", credentials_block="jira")
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic.json_schema import SkipJsonSchema

from pmo_gates.config import Settings
from pmo_gates.connectors.credentials import JiraCredentials
from pmo_gates.connectors.sync import SyncResult, sync_portfolio
from pmo_gates.flows.artifacts import ArtifactPublisher, markdown_table
from pmo_gates.flows.context import jira_connection, resolve_settings
from pmo_gates.flows.states import time_limit
from pmo_gates.store import Store


def summary_markdown(result: SyncResult) -> str:
    """The sync's figures as markdown (counts, watermark, the first data problems): no secrets in it."""
    lines = [
        f"# Jira sync ({result.mode}, {result.flavour or 'unknown flavour'})",
        "",
        markdown_table(
            [
                {"what": "projects", "count": result.projects},
                {"what": "issues returned by search", "count": result.issues_seen},
                {"what": "issues stored", "count": result.issues_upserted},
                {"what": "issues unchanged (skipped)", "count": result.issues_unchanged},
                {"what": "issues deleted", "count": result.issues_deleted},
                {"what": "changelog items", "count": result.changelog_items},
                {"what": "worklogs", "count": result.worklogs},
                {"what": "HTTP requests", "count": result.http_requests_total},
                {"what": "data problems", "count": result.data_errors_total},
            ]
        ),
        "",
        f"Watermark: `{result.watermark.isoformat() if result.watermark else 'none'}`; took {result.duration_s:.1f} s.",
    ]
    if result.warnings:
        lines += ["", "## Warnings", *[f"- {w}" for w in result.warnings]]
    if result.data_errors:
        lines += ["", "## Data problems (first 20)", markdown_table([e.model_dump() for e in result.data_errors[:20]])]
    return "\n".join(lines)


@task(name="sync-portfolio", cache_policy=NO_CACHE, persist_result=False)
def sync_task(settings: Settings, credentials_block: str | JiraCredentials | None, full: bool) -> SyncResult:
    connection = jira_connection(settings, credentials_block)
    store = Store(settings.database_url())
    try:
        result = sync_portfolio(connection, store, settings, full=full)
    finally:
        store.dispose()
    publisher = ArtifactPublisher(connection.secrets(), email=connection.email)
    publisher.markdown("sync-jira-summary", summary_markdown(result), "Jira sync summary")
    rows = [{"endpoint": k, "requests": v} for k, v in result.http_requests.items()]
    publisher.table("sync-jira-requests", rows, "HTTP requests per endpoint")
    return result


@flow(name="sync-jira", log_prints=False, persist_result=True)
def sync_jira(
    config_path: str | None = None,
    credentials_block: str | None = None,
    full: bool = False,
    credentials: JiraCredentials | None = None,
    settings: SkipJsonSchema[Settings | None] = None,
) -> SyncResult:
    """Sync the portfolio from Jira into the store (incremental unless ``full`` or due).

    Args:
        config_path: The pmo-gates config file; relative paths are read in PMO_GATES_WORKDIR on the worker.
        credentials_block: Name of a saved Jira Credentials block; empty: the token env var the config names.
        full: Re-read every issue (and reconcile deletions) instead of only those changed since the last sync.
        credentials: A Jira Credentials block to use instead of `credentials_block`.
    """
    settings = resolve_settings(config_path, settings)
    with time_limit(settings, "sync"):
        result = sync_task(settings, credentials or credentials_block, full)
    get_run_logger().info(
        "synced %d issues (%d unchanged, %d deleted) with %d requests",
        result.issues_upserted,
        result.issues_unchanged,
        result.issues_deleted,
        result.http_requests_total,
    )
    return result
