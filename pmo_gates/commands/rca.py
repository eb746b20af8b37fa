"""``pmo-gates rca``: delay detection and root-cause analysis of every project in the store.

Reads the synced data (run ``pmo-gates sync`` first), keeps the month's result per project in the store
and prints it. With ``--post`` it also does what the monthly ``delay-root-cause`` flow does: one
corrective-action ticket per delayed project and month, and the analysis as a comment on each delayed
project's anchor issue (``--dry-run`` prints that plan and writes nothing).
Exit codes: 0 done, 1 store or Jira failure (or some items failed), 2 configuration or playbook error.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pmo_gates.defaults import DEFAULT_CONFIG

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from pmo_gates.config import Settings
    from pmo_gates.rca.analyse import RcaReport
    from pmo_gates.store import Store


def rca_table(report: RcaReport) -> Table:
    from rich.table import Table

    table = Table(title=f"Delay root causes {report.period} ({len(report.delayed)} of {len(report.projects)} delayed)")
    for column in ("project", "slip days", "causes (share of the delay, confidence)", "first remedy"):
        table.add_column(column)
    for project in sorted(report.delayed, key=lambda p: -(p.slip_days or 0)):
        causes = ", ".join(f"{c.cause} {c.share:.0%} ({c.confidence:.0%})" for c in project.causes) or "none found"
        first = project.remedies[0].title if project.remedies else "-"
        table.add_row(project.key, f"{project.slip_days:.0f}" if project.slip_days is not None else "?", causes, first)
    return table


def print_not_judged(report: RcaReport, console: Console) -> None:
    """Projects whose schedule could not be judged (no planned end...), each with the reason."""
    from rich.markup import escape

    for project in report.projects:
        if project.slip_days is None and not project.delayed:
            reason = "; ".join(project.schedule.reasons) or "no schedule facts"
            console.print(
                f"[yellow]not judged:[/yellow] {project.key}: {escape(reason)}", highlight=False, soft_wrap=True
            )


def register(app: typer.Typer) -> None:
    @app.command("rca")
    def rca(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        as_json: bool = typer.Option(False, "--json", help='Print {"projects": [...]} as JSON.'),
        post: bool = typer.Option(False, "--post", help="Also post comments and tickets to Jira."),
        dry_run: bool = typer.Option(False, "--dry-run", help="With --post: print the plan, write nothing."),
    ) -> None:
        """Find delayed projects, rank their root causes with evidence, and name the playbook's remedies."""
        from rich.console import Console

        from pmo_gates.commands.common import settings_and_store
        from pmo_gates.formatting import to_json
        from pmo_gates.rca.run import run_rca

        if post:
            code = post_rca(config, as_json=as_json, dry_run=dry_run)
            if code:
                raise typer.Exit(code)
            return

        with settings_and_store(config, "analysing") as (settings, store):
            report = run_rca(settings, store=store)
        if as_json:
            typer.echo(to_json(report.summary()))
        else:
            Console().print(rca_table(report))
            print_not_judged(report, Console())


def post_rca(config: Path, *, as_json: bool, dry_run: bool) -> int:
    """Analyse, then plan and (unless ``dry_run``) apply the root-cause tickets and comments."""
    from rich.console import Console

    from pmo_gates.commands.actions import print_run, with_jira
    from pmo_gates.rca.actions import rca_action_requests, rca_comments
    from pmo_gates.rca.post import run_rca_actions
    from pmo_gates.rca.run import run_rca
    from pmo_gates.rca.yamlfile import PlaybookError

    def run(settings: Settings, store: Store, client: Any) -> int:
        try:
            report = run_rca(settings, store=store)
        except PlaybookError as exc:
            typer.echo(str(exc), err=True)
            return 2
        outcome = run_rca_actions(
            settings, store=store, client=client, requests=rca_action_requests(report),
            comments=rca_comments(report), today=report.today, dry_run=dry_run,
        )  # fmt: skip
        if not as_json:
            Console().print(rca_table(report))
            print_not_judged(report, Console())
        return print_run(outcome, as_json, extra=report.summary() if as_json else None)

    return with_jira(config, run)
