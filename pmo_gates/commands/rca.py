"""``pmo-gates rca``: delay detection and root-cause analysis of every project in the store.

Reads the synced data (run ``pmo-gates sync`` first), keeps the month's result per project in the store
and prints it. Posting comments and tickets to Jira is the monthly ``delay-root-cause`` flow's job.
Exit codes: 0 done, 1 store failure, 2 configuration or playbook error.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from pmo_gates.config import DEFAULT_CONFIG, ConfigError, load_settings
from pmo_gates.rca.analyse import RcaReport
from pmo_gates.rca.yamlfile import PlaybookError
from pmo_gates.store import Store, safe_url


def rca_table(report: RcaReport) -> Table:
    table = Table(title=f"Delay root causes {report.period} ({len(report.delayed)} of {len(report.projects)} delayed)")
    for column in ("project", "slip days", "causes (share of the delay)", "first remedy"):
        table.add_column(column)
    for project in sorted(report.delayed, key=lambda p: -(p.slip_days or 0)):
        causes = ", ".join(f"{c.cause} {c.share:.0%}" for c in project.causes) or "none found"
        first = project.remedies[0].title if project.remedies else "-"
        table.add_row(project.key, f"{project.slip_days:.0f}" if project.slip_days is not None else "?", causes, first)
    return table


def register(app: typer.Typer) -> None:
    @app.command("rca")
    def rca(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        as_json: bool = typer.Option(False, "--json", help='Print {"projects": [...]} as JSON.'),
    ) -> None:
        """Find delayed projects, rank their root causes with evidence, and name the playbook's remedies."""
        from pmo_gates.rca.run import run_rca

        try:
            settings = load_settings(config)
        except ConfigError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        try:
            store = Store(settings.database_url())
        except Exception as exc:  # a driver error can hold the URL: print the safe form
            typer.echo(f"cannot open the store {safe_url(settings.database_url())}: {type(exc).__name__}", err=True)
            raise typer.Exit(1) from None
        try:
            report = run_rca(settings, store=store)
        except PlaybookError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except SQLAlchemyError as exc:  # the message can name the server: say what failed, not where
            typer.echo(f"store error while analysing: {type(exc).__name__}", err=True)
            raise typer.Exit(1) from None
        finally:
            store.dispose()
        if as_json:
            typer.echo(json.dumps(report.summary(), indent=2, default=str))
        else:
            Console().print(rca_table(report))
