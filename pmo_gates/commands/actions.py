"""``pmo-gates actions``: plan the corrective-action tickets and (unless ``--dry-run``) apply the plan.

Exit codes: 0 done, 1 Jira or store failure (or some items failed), 2 configuration error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pmo_gates.defaults import DEFAULT_CONFIG

if TYPE_CHECKING:
    from pmo_gates.config import Settings
    from pmo_gates.store import Store


def with_jira(config: Path, run: Callable[[Settings, Store, Any], int]) -> int:
    """Open the config, the store and the Jira client, call ``run``, and close them; errors become exit
    codes with a message that names what is wrong (never a token or a database password)."""
    # Imported here, not at the top: listing the commands (and running the others) need none of this.
    from rich.console import Console
    from rich.markup import escape
    from sqlalchemy.exc import SQLAlchemyError

    from pmo_gates.config import ConfigError, load_settings
    from pmo_gates.connectors.client import build_client
    from pmo_gates.connectors.connection import JiraConnection
    from pmo_gates.connectors.errors import JiraConfigError, JiraConnectorError
    from pmo_gates.rules.errors import RuleFileErrors
    from pmo_gates.store import Store
    from pmo_gates.store.errors import describe_store_error, url_setting
    from pmo_gates.store.readiness import NothingToWorkOn

    err = Console(stderr=True)
    try:
        settings = load_settings(config)
        connection = JiraConnection.from_settings(settings)
    except (ConfigError, JiraConfigError) as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        return 2
    try:
        store = Store(settings.database_url())
    except Exception as exc:  # a driver error can hold the URL: describe_store_error masks the password
        message = describe_store_error(settings.database_url(), exc, setting=url_setting(config))
        err.print(f"[red]{escape(message)}[/red]", highlight=False, soft_wrap=True)
        return 1
    client = None
    try:
        # review/actions read anchors' comments sync.concurrency at a time on a fresh store
        client = build_client(connection, connections=settings.sync.concurrency)
        return run(settings, store, client)
    except RuleFileErrors as exc:
        err.print(f"[red]{exc}[/red]", highlight=False)
        return 2
    except JiraConnectorError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        return 2 if isinstance(exc, JiraConfigError) else 1
    except NothingToWorkOn as exc:
        err.print(str(exc), highlight=False, markup=False, style="red")
        return 1
    except SQLAlchemyError as exc:
        message = describe_store_error(settings.database_url(), exc, setting=url_setting(config), doing="running")
        err.print(f"[red]{escape(message)}[/red]", highlight=False, soft_wrap=True)
        return 1
    finally:
        if client is not None:
            client.close()
        store.dispose()


def print_run(run: Any, as_json: bool, extra: dict[str, Any] | None = None) -> int:
    """Print a run's plan (table or JSON) and what was applied; 1 when an item failed."""
    from rich.console import Console

    from pmo_gates.formatting import plain, to_json

    if as_json:
        data = {**(extra or {}), "plan": run.plan.model_dump(mode="json"), "result": run.summary()}
        typer.echo(to_json(data))
    else:
        out = Console()
        out.print(run.plan.render_table())
        for warning in run.plan.warnings:
            out.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
        if run.dry_run:
            out.print("dry run: nothing was written to Jira")
        elif run.applied is not None:
            out.print(f"applied: {plain(run.applied.counts())}; create calls: {run.applied.create_calls}")
            for failure in run.applied.failed:
                out.print(f"[red]failed[/red] {failure.id}: {failure.error}", highlight=False)
            for waiting in run.applied.pending:  # Jira's state unknown: the next run finishes these
                out.print(f"[yellow]pending[/yellow] {waiting.id}: {waiting.note}", highlight=False)
            for held in run.applied.deferred:  # an unrecorded earlier create: search may not show it yet
                out.print(f"[yellow]deferred[/yellow] {held.id}: {held.note}", highlight=False)
    return 1 if run.applied is not None and run.applied.failed else 0


def register(app: typer.Typer) -> None:
    @app.command("actions")
    def actions(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; write nothing to Jira."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan and result as one JSON object."),
    ) -> None:
        """Open, update, escalate, resolve and reopen corrective-action tickets for failing mandatory rules."""
        from pmo_gates.actions.run import run_actions

        def run(settings: Settings, store: Store, client: Any) -> int:
            return print_run(run_actions(settings, store=store, client=client, dry_run=dry_run), as_json)

        code = with_jira(config, run)
        if code:
            raise typer.Exit(code)
