"""``pmo-gates serve``: every flow on its schedule, in this one process (a single-machine deployment)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pmo_gates.config import DEFAULT_CONFIG, ConfigError, load_settings
from pmo_gates.reachability import prefect_api_problem


def schedule_table(deployments: list) -> Table:  # type: ignore[type-arg]
    table = Table(title="pmo-gates schedules")
    for column in ("flow", "deployment", "cron", "timezone"):
        table.add_column(column)
    for deployment in deployments:
        for schedule in deployment.schedules:
            inner = schedule.schedule
            table.add_row(deployment.flow_name, deployment.name, inner.cron, inner.timezone or "UTC")
    return table


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        credentials_block: str | None = typer.Option(
            None, "--credentials-block", help="Saved JiraCredentials Block; default: the token env var."
        ),
        limit: int | None = typer.Option(None, "--limit", min=1, help="Most flow runs at once."),
    ) -> None:
        """Run sync, gate review, corrective actions, root-cause analysis and reports on their schedules."""
        from prefect import serve as prefect_serve

        from pmo_gates.flows.deployments import build_deployments

        try:
            deployments = build_deployments(load_settings(config), config, credentials_block)
        except ConfigError as exc:
            Console(stderr=True).print(f"[red]{exc}[/red]", highlight=False)
            raise typer.Exit(2) from None
        problem = prefect_api_problem()
        if problem:  # else Prefect's client retries and prints pages of tracebacks
            Console(stderr=True).print(f"[red]{problem}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        Console().print(schedule_table(deployments))
        # pause_on_shutdown=False: stopping this process must not pause the schedules on the server.
        prefect_serve(*deployments, pause_on_shutdown=False, limit=limit)
