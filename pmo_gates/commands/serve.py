"""``pmo-gates serve`` (every flow on its schedule in this one process) and ``pmo-gates deployments`` (the
``prefect.yaml`` of a process work pool, written from the same config ``schedules``).

Both read the crons and timezone from the config, so serving and deploying cannot fire at different hours.
They register different deployment names (``<flow>/pmo-gates-serve`` and ``<flow>/pmo-gates``), so they can
share a Prefect server without overwriting each other.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pmo_gates.defaults import DEFAULT_CONFIG


def schedule_table(deployments: list) -> Table:  # type: ignore[type-arg]
    table = Table(title="pmo-gates schedules")
    for column in ("flow", "deployment", "cron", "timezone"):
        table.add_column(column)
    for deployment in deployments:
        for schedule in deployment.schedules:
            inner = schedule.schedule
            table.add_row(deployment.flow_name, deployment.name, inner.cron, inner.timezone or "UTC")
    return table


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True).print(f"[red]{message}[/red]", highlight=False)
    return typer.Exit(code)


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

        from pmo_gates.config import ConfigError, load_settings
        from pmo_gates.flows.deployments import POOL_DEPLOYMENT_NAME, SERVE_DEPLOYMENT_NAME, build_deployments
        from pmo_gates.reachability import prefect_api_problem

        try:
            deployments = build_deployments(load_settings(config), config, credentials_block)
        except ConfigError as exc:
            raise _fail(str(exc)) from None
        problem = prefect_api_problem()
        if problem:  # else Prefect's client retries and prints pages of tracebacks
            Console(stderr=True).print(f"[red]{problem}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(2)
        console = Console()
        console.print(schedule_table(deployments))
        console.print(
            f"Serving as <flow>/{SERVE_DEPLOYMENT_NAME}: separate from the work-pool deployments "
            f"(<flow>/{POOL_DEPLOYMENT_NAME}, from prefect.yaml), which this does not touch.",
            highlight=False,
        )
        # pause_on_shutdown=False: stopping this process must not pause the schedules on the server.
        prefect_serve(*deployments, pause_on_shutdown=False, limit=limit)

    @app.command("deployments")
    def deployments(
        config: Path | None = typer.Option(
            None, "--config", "-c", help="Config whose `schedules` to use (default: ./pmo-gates.yaml if present)."
        ),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write prefect.yaml here (default: stdout)."),
        pool: str = typer.Option("pmo-gates", "--pool", help="The process work pool the deployments run on."),
        check: Path | None = typer.Option(
            None, "--check", help="Exit 1 if this prefect.yaml differs from what the config generates."
        ),
    ) -> None:
        """Write prefect.yaml for `prefect deploy` from the config's schedules (crons and timezone)."""
        from pmo_gates.config import ConfigError, ScheduleConfig, load_settings
        from pmo_gates.flows.deployments import render_prefect_yaml

        try:
            if config is None and not DEFAULT_CONFIG.exists():
                schedules = ScheduleConfig()  # the documented defaults, as shipped in deployments/prefect.yaml
            else:
                schedules = load_settings(config or DEFAULT_CONFIG).schedules
            text = render_prefect_yaml(schedules, pool=pool)
        except ConfigError as exc:
            raise _fail(str(exc)) from None
        if check is not None:
            try:
                current = check.read_text(encoding="utf-8")
            except OSError as exc:
                raise _fail(f"{check}: cannot read ({exc.strerror or type(exc).__name__})") from None
            if current != text:
                raise _fail(
                    f"{check}: out of date with the config's schedules; regenerate it with "
                    f"`pmo-gates deployments{f' --config {config}' if config else ''} --output {check}`",
                    1,
                )
            typer.echo(f"{check}: up to date")
            return
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _fail(f"{output}: cannot write ({exc.strerror or type(exc).__name__})", 1) from None
        typer.echo(f"wrote {output}; deploy it with: prefect --no-prompt deploy --all --prefect-file {output}")
