"""``pmo-gates snapshot export``: write the portfolio of a real Jira as a sandbox snapshot file, so it can
be replayed offline (``pmo-gates sandbox --seed FILE``)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from pmo_gates.commands.common import unwritable
from pmo_gates.defaults import DEFAULT_CONFIG
from pmo_gates.formatting import to_json


def run_export(config: Path, out: Path, as_json: bool) -> int:
    from pmo_gates.config import ConfigError, load_settings
    from pmo_gates.connectors.connection import JiraConnection
    from pmo_gates.connectors.errors import JiraConfigError, JiraConnectorError
    from pmo_gates.connectors.export import export_snapshot

    err = Console(stderr=True)
    try:
        settings = load_settings(config)
        connection = JiraConnection.from_settings(settings)
    except (ConfigError, JiraConfigError) as exc:
        err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
        return 2
    problem = unwritable(out, "--out")
    if problem:
        err.print(f"[red]{escape(problem)}[/red]", highlight=False, soft_wrap=True)
        return 2
    with err.status("exporting issues", spinner="dots") as status:

        def report(issues: int) -> None:
            status.update(f"exported {issues:,} issues")

        try:
            result = export_snapshot(connection, settings, out, progress=report)
        except JiraConnectorError as exc:
            err.print(f"[red]export failed: {escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
            return 1
        except OSError as exc:  # the disk filled up or the folder went away mid-export
            where = exc.filename or out
            err.print(f"[red]export failed: cannot write {where}: {exc.strerror or exc}[/red]", highlight=False)
            return 1
    if as_json:
        typer.echo(to_json(result.model_dump(mode="json")))
    else:
        Console().print(
            f"wrote {out}: {result.projects} projects, {result.issues} issues, {result.users} users "
            f"({result.http_requests_total} requests, {result.duration_s:.1f} s)",
            highlight=False,
        )
        for warning in result.warnings:
            err.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False, soft_wrap=True)
    return 0


def register(app: typer.Typer) -> None:
    snapshot = typer.Typer(help="Snapshot files: Jira portfolios frozen in Jira's REST shapes.", no_args_is_help=True)

    @snapshot.command("export")
    def export(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        out: Path = typer.Option(..., "--out", "-o", help="Snapshot file to write."),
        as_json: bool = typer.Option(False, "--json", help="Print the export summary as JSON."),
    ) -> None:
        """Export the configured portfolio from Jira (full changelogs and worklogs) to a snapshot file."""
        code = run_export(config, out, as_json)
        if code:
            raise typer.Exit(code)

    app.add_typer(snapshot, name="snapshot")
