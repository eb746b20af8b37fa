"""``pmo-gates demo``: the sample portfolio on a sandbox Jira, through every flow, with a readable summary.

Exit codes: 0 done, 1 some Jira writes failed, 2 a bad ``--seed`` file or ``--out`` folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pmo_gates.defaults import DEFAULT_DEMO_OUT
from pmo_gates.formatting import to_json

if TYPE_CHECKING:  # pmo_gates.demo brings the sandbox: imported when the demo runs, not for every command
    from pmo_gates.demo import DemoResult

DECISION_STYLE = {
    "go": "green",
    "conditional_go": "yellow",
    "hold": "dark_orange",
    "recycle": "red",
    "kill": "bold red",
}


def reviews_table(result: DemoResult) -> Table:
    table = Table(title="Gate reviews")
    for column in ("project", "gate", "decision", "score"):
        table.add_column(column)
    table.add_column("why", overflow="fold")
    for r in result.reviews:
        style = DECISION_STYLE.get(r["decision"], "")
        decision = f"[{style}]{r['decision'].replace('_', ' ')}[/{style}]" if style else r["decision"]
        why = r.get("why") or ", ".join(r["failed"]) or "-"
        table.add_row(r["project"], r["gate"], decision, f"{r['score']:.0f}", escape(why))
    return table


def delays_table(result: DemoResult) -> Table:
    delayed = sorted((p for p in result.rca if p["delayed"]), key=lambda p: -(p["slip_days"] or 0))
    table = Table(title=f"Delayed projects ({len(delayed)} of {len(result.rca)})")
    for column in ("project", "slip days", "top causes (share of the delay, confidence)", "first remedy"):
        table.add_column(column)
    for p in delayed:
        causes = (
            ", ".join(f"{c['cause']} {c['share']:.0%} ({c.get('confidence', 1):.0%})" for c in p["causes"][:3])
            or "none found"
        )
        remedy = p["remedies"][0]["title"] if p["remedies"] else "-"
        slip = f"{p['slip_days']:.0f}" if p["slip_days"] is not None else "?"
        table.add_row(p["key"], slip, causes, remedy)
    return table


def print_evidence(result: DemoResult, console: Console, issues_shown: int = 5) -> None:
    """Per delayed project: each cause with its evidence, then the playbook's remedies (what the comment on
    its anchor issue says at length)."""
    delayed = sorted((p for p in result.rca if p["delayed"]), key=lambda p: -(p["slip_days"] or 0))
    for project in delayed:
        console.print(f"[bold]{project['key']}[/bold]: why it is late", highlight=False)
        for cause in project["causes"]:
            evidence = cause["evidence"]
            keys = evidence.get("issues") or []
            more = f" (+{len(keys) - issues_shown} more)" if len(keys) > issues_shown else ""
            shown = f" [{', '.join(keys[:issues_shown])}{more}]" if keys else ""
            console.print(
                f"  {cause['cause']} {cause['share']:.0%} (confidence {cause.get('confidence', 1):.0%}): "
                f"{escape(evidence['summary'])}{escape(shown)}",
                highlight=False,
            )
        for remedy in project["remedies"]:
            console.print(f"  -> {escape(remedy['title'])}: {escape(remedy['action'])}", highlight=False)


def print_summary(result: DemoResult, console: Console) -> None:
    sync = result.sync
    console.print(
        f"[bold]Synced[/bold] {sync['projects']} projects, {sync['issues']} issues, "
        f"{sync['changelog_entries']} changelog entries with {sync['http_requests']} HTTP requests."
    )
    console.print(reviews_table(result))
    console.print(delays_table(result))
    print_evidence(result, console)
    actions = result.actions
    applied = ", ".join(f"{op} {n}" for op, n in sorted(actions["applied"].items())) or "nothing"
    console.print(f"[bold]Jira changes applied:[/bold] {applied} ({actions['create_calls']} bulk create call(s)).")
    created = actions["tickets_created"]
    console.print(f"[bold]Tickets created:[/bold] {', '.join(created) if created else 'none (already there)'}")
    commented = sorted(set(actions["issues_written"]) - set(created))
    if commented:
        console.print(f"[bold]Issues commented on[/bold] (anchor issues and tickets): {', '.join(commented)}")
    for failure in actions["failed"]:
        console.print(f"[red]failed[/red] {failure['id']}: {failure['error']}", highlight=False)
    console.print(f"[bold]Reports:[/bold] {result.reports['html']}")


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        seed: Path | None = typer.Option(None, "--seed", help="Snapshot file (default: the sample portfolio)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object: sync, reviews, rca, actions..."),
        out: Path = typer.Option(DEFAULT_DEMO_OUT, "--out", help="Folder for the reports (and the demo's work files)."),
        flavour: str = typer.Option(
            "cloud", "--flavour", help="The sandbox Jira to run against: cloud or dc (Data Center, REST v2 only)."
        ),
        index_lag: float = typer.Option(
            0.0,
            "--index-lag",
            min=0.0,
            max=600.0,
            help="Seconds before a write shows in the sandbox's JQL search, as on Jira Cloud (0: at once).",
        ),
    ) -> None:
        """Run sync, gate reviews, root-cause analysis, corrective actions and reports on a sandbox Jira."""
        from pmo_gates.demo import DemoError, run_demo
        from pmo_gates.sandbox import SnapshotError

        err = Console(stderr=True)

        def progress(message: str) -> None:
            if not as_json:
                err.print(f"[cyan]>[/cyan] {message}", highlight=False)

        if flavour not in ("cloud", "dc"):
            err.print(f"[red]--flavour: {flavour!r} is not a Jira flavour; use cloud or dc[/red]", highlight=False)
            raise typer.Exit(2)
        try:
            result = run_demo(seed, out, progress, flavour=flavour, index_lag=index_lag)
        except SnapshotError as exc:
            err.print(f"[red]--seed: {escape(str(exc))}[/red]", highlight=False, soft_wrap=True)  # paths stay whole
            raise typer.Exit(2) from None
        except DemoError as exc:
            err.print(f"[red]{escape(str(exc))}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except OSError as exc:  # a report or work file that could not be written mid-run
            where = exc.filename or out
            err.print(
                f"[red]--out: cannot write {escape(str(where))}: {escape(str(exc.strerror or exc))}[/red]",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None
        if as_json:
            payload: dict[str, Any] = result.to_json()
            typer.echo(to_json(payload))
        else:
            print_summary(result, Console())
        if result.actions["failed"]:
            raise typer.Exit(1)
