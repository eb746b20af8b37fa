"""The sync's progress bar on a terminal: issues read against Jira's estimate, rate and time left."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

if TYPE_CHECKING:  # the sync machinery is imported by the sync itself, not by the command line's start-up
    from pmo_gates.connectors.sync import SyncProgress

STAGES = {
    "metadata": "reading Jira's fields",
    "projects": "reading projects",
    "issues": "syncing issues",
    "reconcile": "checking for deleted issues",
    "done": "done",
}


class CountColumn(ProgressColumn):
    """``1,234/5,678 issues``, or just ``1,234 issues`` while the total is unknown."""

    def render(self, task: Task) -> Text:
        done = f"{int(task.completed):,}"
        return Text(f"{done}/{int(task.total):,} issues" if task.total else f"{done} issues", style="progress.download")


class RateColumn(ProgressColumn):
    """Issues per second over rich's recent window (blank until there is one)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} issues/s" if speed else "", style="progress.data.speed")


class SyncDisplay:
    """A rich progress bar fed by ``sync_portfolio``'s progress callback."""

    def __init__(self, console: Console, get_time: Callable[[], float] | None = None) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            CountColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            get_time=get_time,
        )
        self.task = self.progress.add_task(STAGES["metadata"], total=None)

    def __enter__(self) -> SyncDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def update(self, update: SyncProgress) -> None:
        total = update.expected
        if total is not None:
            # Jira's count is approximate: never show more than 100 %.
            total = max(total, update.issues)
        self.progress.update(
            self.task, description=STAGES.get(update.stage, update.stage), completed=update.issues, total=total
        )


def sync_display(console: Console, *, quiet: bool) -> SyncDisplay | None:
    """The progress bar, or None when nobody watches it (``--json``, or stderr not a terminal): the sync then
    skips the count request too."""
    if quiet or not console.is_terminal:
        return None
    return SyncDisplay(console)
