"""``pmo-gates sync``: sync the portfolio from Jira into the store, from a terminal.

Runs ``sync_portfolio`` directly rather than the ``sync-jira`` Prefect flow: no Prefect import or server
start-up (seconds saved on every call), and the same code path. Scheduled syncs use the flow.
Exit codes: 0 done, 1 Jira or store failure, 2 configuration error.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pmo_gates.defaults import DEFAULT_CONFIG
from pmo_gates.formatting import to_json

if TYPE_CHECKING:
    from pmo_gates.connectors.sync import SyncResult


def summary_table(result: SyncResult) -> Table:
    table = Table(title=f"Jira sync ({result.mode}, {result.flavour})", show_header=False)
    rows = [
        ("projects", result.projects),
        ("issues stored", result.issues_upserted),
        ("issues unchanged", result.issues_unchanged),
        ("issues deleted", result.issues_deleted),
        ("changelog items", result.changelog_items),
        ("worklogs", result.worklogs),
        ("data problems", result.data_errors_total),
        ("HTTP requests", result.http_requests_total),
        ("watermark", result.watermark.isoformat() if result.watermark else "none"),
        ("duration", f"{result.duration_s:.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def run_sync(config: Path, full: bool, as_json: bool) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from pmo_gates.commands.sync_progress import sync_display
    from pmo_gates.config import ConfigError, load_settings
    from pmo_gates.connectors.connection import JiraConnection
    from pmo_gates.connectors.errors import JiraConfigError, JiraConnectorError
    from pmo_gates.connectors.sync import sync_portfolio
    from pmo_gates.store import Store
    from pmo_gates.store.errors import describe_store_error, url_setting

    err = Console(stderr=True)
    try:
        settings = load_settings(config)
        connection = JiraConnection.from_settings(settings)
    except (ConfigError, JiraConfigError) as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        return 2
    try:
        store = Store(settings.database_url())
    except Exception as exc:  # a driver error can hold the URL: describe_store_error masks the password
        message = describe_store_error(settings.database_url(), exc, setting=url_setting(config))
        err.print(f"[red]{escape(message)}[/red]", highlight=False, soft_wrap=True)
        return 1
    display = sync_display(err, quiet=as_json)
    try:
        with display or nullcontext():
            report = display.update if display is not None else None
            result = sync_portfolio(connection, store, settings, full=full, progress=report)
    except JiraConnectorError as exc:
        err.print(f"[red]sync failed: {escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        return 2 if isinstance(exc, JiraConfigError) else 1
    except SQLAlchemyError as exc:
        message = describe_store_error(settings.database_url(), exc, setting=url_setting(config), doing="syncing")
        err.print(f"[red]{escape(message)}[/red]", highlight=False, soft_wrap=True)
        return 1
    finally:
        store.dispose()
    if as_json:
        typer.echo(to_json(result.model_dump(mode="json")))
        return 0
    out = Console()
    out.print(summary_table(result))
    for warning in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    for item in result.data_errors[:20]:
        out.print(
            f"[yellow]data:[/yellow] {escape(f'{item.key} {item.field}: {item.message}')}",
            highlight=False,
            soft_wrap=True,
        )
    if result.data_errors_total > 20:
        out.print(f"... and {result.data_errors_total - 20} more data problems (see --json)")
    return 0


def register(app: typer.Typer) -> None:
    @app.command("sync")
    def sync(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        full: bool = typer.Option(False, "--full", help="Re-read everything and reconcile deletions."),
        as_json: bool = typer.Option(False, "--json", help="Print the sync result as one JSON object."),
    ) -> None:
        """Sync projects, issues, changelogs and worklogs from Jira into the store (incremental)."""
        code = run_sync(config, full, as_json)
        if code:
            raise typer.Exit(code)
