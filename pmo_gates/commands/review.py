"""``pmo-gates review``: gate reviews of every project, decision records in the store, and the gate-review
comment on each anchor issue (unless ``--dry-run``).

Exit codes: 0 done, 1 Jira or store failure (or some comments failed), 2 configuration error.
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
    from pmo_gates.store import Store


def scorecard(review: Any) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"Gate reviews {review.reviewed_on}")
    for column in ("project", "gate", "decision", "score", "data errors"):
        table.add_column(column)
    table.add_column("why", overflow="fold")
    for r in review.reviews:
        errors = str(r.data_errors.total) if r.data_errors.total else "-"
        table.add_row(r.project_key, r.gate, r.decision, f"{r.score:.0f}", errors, escape(r.why()))
    return table


def print_data_errors(review: Any, console: Console, per_project: int = 5) -> None:
    """Each flagged project's first data errors, by Jira key and field (all of them are in ``--json``)."""
    for key, flagged in review.data_errors.items():
        console.print(f"[yellow]{key}: {flagged.total} data error(s)[/yellow]", highlight=False)
        for problem in flagged.shown[:per_project]:
            console.print(f"  {problem.line()}", highlight=False, markup=False)
        if flagged.total > per_project:
            console.print(f"  ... and {flagged.total - per_project} more (see --json)", highlight=False)


def print_not_judged(review: Any, console: Console) -> None:
    """Projects without a reviewable gate, each with the reason (else they would silently be missing)."""
    from rich.markup import escape

    for key, reason in review.not_judged.items():
        console.print(f"[yellow]not reviewed:[/yellow] {key}: {escape(reason)}", highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    @app.command("review")
    def review(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Record decisions; write nothing to Jira."),
        as_json: bool = typer.Option(False, "--json", help="Print the reviews and the plan as one JSON object."),
        approved_by: str | None = typer.Option(None, "--approved-by", help="Who approves these decisions."),
    ) -> None:
        """Score every project at its current gate and post the decision to its anchor issue."""
        from rich.console import Console

        from pmo_gates.commands.actions import print_run, with_jira
        from pmo_gates.review.run import run_review

        def run(settings: Settings, store: Store, client: Any) -> int:
            result = run_review(settings, store=store, client=client, dry_run=dry_run, approved_by=approved_by)
            if not as_json:
                Console().print(scorecard(result.review))
                print_data_errors(result.review, Console())
                print_not_judged(result.review, Console())
            extra = {"reviews": result.review.model_dump(mode="json")} if as_json else None
            return print_run(result.comments, as_json, extra)

        code = with_jira(config, run)
        if code:
            raise typer.Exit(code)
