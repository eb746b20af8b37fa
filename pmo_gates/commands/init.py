"""``pmo-gates init``: a starter config from what Jira has, and (as a plan, ``--dry-run`` to only print it)
the PMO fields and anchor issues Jira lacks.

With no config file yet, ``--url`` (and ``--email`` on Cloud) say where Jira is and the config is written;
with an existing one, its connection and projects are used and the file is left as it is.
Exit codes: 0 done, 1 Jira failure or a plan item failed, 2 usage or configuration error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from pmo_gates.defaults import DEFAULT_CONFIG
from pmo_gates.formatting import to_json

if TYPE_CHECKING:
    from pmo_gates.config import Settings
    from pmo_gates.onboarding.setup_apply import SetupResult
    from pmo_gates.onboarding.setup_plan import SetupPlan


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True).print(f"[red]{escape(message)}[/red]", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="Config file to write (or to read)."),
        url: str | None = typer.Option(None, "--url", help="Jira base URL (when no config file exists yet)."),
        email: str | None = typer.Option(None, "--email", help="Account e-mail (Cloud); leave out for a DC PAT."),
        token_env: str = typer.Option("PMO_GATES_JIRA_TOKEN", "--token-env", help="Variable holding the token."),
        projects: str | None = typer.Option(None, "--projects", help="Project keys, comma-separated (default: all)."),
        anchor_type: str = typer.Option("Project", "--anchor-type", help="Issue type of the anchor issues."),
        create_fields: bool = typer.Option(False, "--create-fields", help="Plan the missing PMO custom fields."),
        create_anchors: str | None = typer.Option(
            None, "--create-anchors", help="Plan anchor issues for these projects (comma-separated, or 'all')."
        ),
        phase: str = typer.Option("initiation", "--phase", help="Phase of the anchors created."),
        only: str | None = typer.Option(None, "--only", help="Apply only these plan item ids (comma-separated)."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Print the config and the plan; write nothing."),
        force: bool = typer.Option(False, "--force", help="Overwrite an existing config file."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Write a starter config from your Jira and create the PMO fields and anchor issues it lacks."""
        from pmo_gates.config import ConfigError, FieldMap, load_settings
        from pmo_gates.connectors.client import build_client
        from pmo_gates.connectors.connection import JiraConnection
        from pmo_gates.connectors.errors import JiraConfigError, JiraConnectorError
        from pmo_gates.onboarding.setup_apply import apply_setup
        from pmo_gates.onboarding.setup_plan import plan_setup
        from pmo_gates.onboarding.starter_config import render_config
        from pmo_gates.onboarding.survey import survey_jira

        if phase.lower() not in ("initiation", "planning", "execution", "closure"):
            raise _fail("--phase: one of initiation, planning, execution, closure")
        existing: Settings | None = None
        if config.exists() and not force:
            try:
                existing = load_settings(config)
                connection = JiraConnection.from_settings(existing)
            except (ConfigError, JiraConfigError) as exc:
                raise _fail(str(exc)) from None
            wanted = _split(projects) or existing.portfolio.projects or None
            anchor_type = existing.portfolio.anchor_issue_type
            field_map = existing.fields
        else:
            if not url:
                raise _fail(f"{config} does not exist: pass --url (and --email on Cloud) to write it")
            token = os.environ.get(token_env)
            if not token:
                raise _fail(f"--token-env: environment variable {token_env} is not set; put the Jira token in it")
            try:
                connection = JiraConnection(url=url, email=email, token=token)
            except ValueError as exc:
                raise _fail(f"--url: {exc.errors()[0]['msg'] if hasattr(exc, 'errors') else exc}") from None
            wanted = _split(projects) or None
            field_map = FieldMap()
        client = None
        try:
            client = build_client(connection)
            survey, missing = survey_jira(
                client, url=connection.url, projects=wanted, anchor_issue_type=anchor_type, field_map=field_map
            )
            if missing:
                raise _fail(f"projects not found or not visible to the account: {', '.join(missing)}", 1)
            names = field_map.model_dump()
            anchors_for = [p.key for p in survey.projects] if create_anchors == "all" else _split(create_anchors)
            plan = plan_setup(
                survey, field_names=names, create_fields=create_fields, anchors_for=anchors_for, phase=phase
            )
            try:
                chosen = plan.subset(_split(only) or None)
            except ValueError as exc:
                raise _fail(f"--only: {exc}") from None
            created = {i.id.split(":", 1)[1] for i in chosen.items if i.op == "create_field"}
            text = None
            if existing is None:
                text = render_config(survey, email=email, token_env=token_env, created_fields=created)
            applied = None
            if not dry_run:
                if text is not None:
                    config.parent.mkdir(parents=True, exist_ok=True)
                    config.write_text(text, encoding="utf-8")
                applied = apply_setup(client, chosen, names)
        except JiraConnectorError as exc:
            raise _fail(str(exc), 1) from None
        except OSError as exc:
            raise _fail(f"cannot write {config}: {exc.strerror or exc}", 1) from None
        finally:
            if client is not None:
                client.close()
        _print(config, text, chosen, applied, dry_run=dry_run, as_json=as_json)
        if applied is not None and applied.failed:
            raise typer.Exit(1)


def _print(
    config: Path, text: str | None, plan: SetupPlan, applied: SetupResult | None, *, dry_run: bool, as_json: bool
) -> None:
    if as_json:
        data = {
            "config_path": str(config),
            "config_written": text is not None and not dry_run,
            "config": text,
            "plan": plan.model_dump(mode="json"),
            "applied": applied.model_dump(mode="json")["items"] if applied is not None else None,
        }
        typer.echo(to_json(data))
        return
    out = Console()
    if text is not None:
        if dry_run:
            out.print(f"# would write {config}:", highlight=False)
            out.print(text, highlight=False, markup=False)
        else:
            out.print(f"wrote {config}", highlight=False)
    else:
        out.print(f"{config} exists: left as it is (--force rewrites it from Jira)", highlight=False)
    out.print(plan.render_table())
    for line in plan.manual:
        out.print(f"[yellow]by hand:[/yellow] {escape(line)}", highlight=False, soft_wrap=True)
    for line in plan.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(line)}", highlight=False, soft_wrap=True)
    if dry_run:
        out.print("dry run: nothing was written to Jira")
    elif applied is not None:
        for item in applied.items:
            mark = "[green]done[/green]" if item.status == "done" else "[red]failed[/red]"
            out.print(f"{mark} {item.id}: {escape(item.result)}", highlight=False, soft_wrap=True)
    out.print("next: `pmo-gates doctor`, then `pmo-gates sync` and `pmo-gates review --dry-run`", highlight=False)
