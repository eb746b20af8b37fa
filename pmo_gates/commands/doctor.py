"""``pmo-gates doctor``: is this Jira (and store, and Prefect) ready for gate reviews? Each problem comes
with its fix. Exit codes: 0 ready (warnings allowed), 1 something blocks a review, 2 configuration error."""

from __future__ import annotations

from pathlib import Path

import typer

from pmo_gates.defaults import DEFAULT_CONFIG
from pmo_gates.formatting import to_json


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        as_json: bool = typer.Option(False, "--json", help="Print the checks as one JSON object."),
    ) -> None:
        """Check Jira access, permissions, fields, anchor issues, the store and Prefect; print a fix for each gap."""
        from pmo_gates.config import ConfigError, load_settings
        from pmo_gates.onboarding.doctor import run_doctor

        try:
            settings = load_settings(config)
        except ConfigError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        report = run_doctor(settings)
        if as_json:
            typer.echo(to_json(report.model_dump(mode="json")))
        else:
            typer.echo(report.render_text())
        raise typer.Exit(0 if report.ok else 1)
