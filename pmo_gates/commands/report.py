"""``pmo-gates report``: the PMO's portfolio reports from the store, as an HTML page with charts.

Writes ``index.html`` (charts inlined), the charts as PNG files and every table as CSV into ``--out``
(default: the config's ``reports.out_dir``), and prints the summary (or, with ``--json``, the figures,
tables and file paths). Exit codes: 0 done, 1 store failure, 2 configuration or playbook error.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from pmo_gates.config import DEFAULT_CONFIG, ConfigError, load_settings
from pmo_gates.rca.yamlfile import PlaybookError
from pmo_gates.store import Store, safe_url


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Folder for the report (default: reports.out_dir)."),
        as_json: bool = typer.Option(False, "--json", help="Print figures, tables and file paths as JSON."),
    ) -> None:
        """Priority ranking, resource map, cost, goals, quality, stale and redundant work, and trends."""
        from pmo_gates.reports.build import build_reports

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
            bundle = build_reports(store, today=settings.today or date.today(), settings=settings, out_dir=out)
        except PlaybookError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except SQLAlchemyError as exc:  # the message can name the server: say what failed, not where
            typer.echo(f"store error while reporting: {type(exc).__name__}", err=True)
            raise typer.Exit(1) from None
        finally:
            store.dispose()
        if as_json:
            typer.echo(json.dumps(bundle.summary(), indent=2, default=str))
        else:
            typer.echo(bundle.markdown)
            typer.echo(f"report: {bundle.html_path}")
