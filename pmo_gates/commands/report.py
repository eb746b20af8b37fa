"""``pmo-gates report``: the PMO's portfolio reports from the store, as an HTML page with charts.

Writes ``index.html`` (charts inlined), the charts as PNG files and every table as CSV into ``--out``
(default: the config's ``reports.out_dir``), and prints the summary (or, with ``--json``, the figures,
tables and file paths). Exit codes: 0 done, 1 store failure, 2 configuration or playbook error.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from pmo_gates.commands.common import settings_and_store
from pmo_gates.defaults import DEFAULT_CONFIG
from pmo_gates.formatting import to_json


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        out: Path | None = typer.Option(None, "--out", "-o", help="Folder for the report (default: reports.out_dir)."),
        as_json: bool = typer.Option(False, "--json", help="Print figures, tables and file paths as JSON."),
    ) -> None:
        """Priority ranking, resource map, cost, goals, quality, stale and redundant work, and trends."""
        from pmo_gates.reports.build import build_reports

        with settings_and_store(config, "reporting") as (settings, store):
            bundle = build_reports(store, today=settings.today or date.today(), settings=settings, out_dir=out)
        if as_json:
            typer.echo(to_json(bundle.summary()))
        else:
            typer.echo(bundle.markdown)
            typer.echo(f"report: {bundle.html_path}")
