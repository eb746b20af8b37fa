"""The sync's progress bar: Jira's count as the total, rate and time left on a terminal; nothing (and no
count request) when nobody watches."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from pmo_gates.commands.sync_progress import SyncDisplay, sync_display
from pmo_gates.connectors.sync import SyncProgress
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sync import UNPACED, config, portfolio, run_sync, serve, served

# Cloud's approximate count; on Data Center the count is a search for no issue (its ``total``). The sync's
# own DC searches are GETs here (the test portfolio's JQL is short), so a POST to /search is a count.
COUNT = {"cloud": ("POST", "/search/approximate-count"), "dc": ("POST", "/search")}


def _count_requests(sb) -> int:
    return sum(1 for r in sb.requests if (r.method, r.api_path) == COUNT[sb.flavour])


def _rendered(display: SyncDisplay) -> str:
    out = Console(file=io.StringIO(), force_terminal=True, width=160, color_system=None)
    out.print(display.progress.get_renderable())
    return out.file.getvalue()  # type: ignore[attr-defined]


def test_the_bar_shows_count_of_total_percent_rate_and_eta() -> None:
    now = [100.0]
    display = SyncDisplay(Console(file=io.StringIO(), force_terminal=True, width=160), get_time=lambda: now[0])
    display.update(SyncProgress(stage="metadata"))
    assert "reading Jira's fields" in _rendered(display) and "0 issues" in _rendered(display)
    display.update(SyncProgress(stage="issues", issues=0, expected=2000))
    for _ in range(5):  # 100 issues every 2 s
        now[0] += 2
        display.update(SyncProgress(stage="issues", issues=display.progress.tasks[0].completed + 100, expected=2000))
    text = _rendered(display)
    assert "syncing issues" in text and "500/2,000 issues" in text and "25%" in text
    rate = re.search(r"([\d,]+) issues/s", text)
    assert rate is not None and 50 <= int(rate.group(1).replace(",", "")) <= 65, text  # rich's recent-window rate
    eta = re.search(r"eta (\d+):(\d\d):(\d\d)", text)
    assert eta is not None and 20 <= int(eta.group(2)) * 60 + int(eta.group(3)) <= 30, text  # 1,500 left


def test_an_approximate_total_never_shows_more_than_all() -> None:
    display = SyncDisplay(Console(file=io.StringIO(), force_terminal=True, width=160))
    display.update(SyncProgress(stage="issues", issues=120, expected=100))
    assert "120/120 issues" in _rendered(display) and "100%" in _rendered(display)


def test_no_bar_when_not_a_terminal_or_json() -> None:
    assert sync_display(Console(file=io.StringIO()), quiet=False) is None
    assert sync_display(Console(file=io.StringIO(), force_terminal=True), quiet=True) is None
    assert sync_display(Console(file=io.StringIO(), force_terminal=True), quiet=False) is not None


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_total_is_jiras_count_of_the_issues_synced(sqlite_store, flavour: str) -> None:
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        updates: list[SyncProgress] = []
        run_sync(sb, sqlite_store, full=True, progress=updates.append, cfg=config(sb, **UNPACED))
        issues = [u for u in updates if u.stage == "issues"]
        assert issues and {u.expected for u in issues} == {served(sb)["issues"]}
        assert _count_requests(sb) >= 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_no_count_request_without_a_watcher(sqlite_store, flavour: str) -> None:
    """Only a full sync into an empty store asks Jira for a count (once: it sizes the deletion listing's
    slices); a sync whose store already holds issues, or an incremental one, never asks."""
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = config(sb, **UNPACED)
        run_sync(sb, sqlite_store, full=True, cfg=cfg)
        assert _count_requests(sb) <= 1
        sb.requests.reset()
        run_sync(sb, sqlite_store, full=True, cfg=cfg)
        run_sync(sb, sqlite_store, cfg=cfg)
        assert _count_requests(sb) == 0
