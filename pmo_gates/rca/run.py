"""``run_rca``: the monthly root-cause analysis end to end on the store (no Jira, no Prefect).

The flow and the demo call this, then hand :func:`pmo_gates.rca.actions.rca_action_requests` and
:func:`pmo_gates.rca.actions.rca_comments` to the corrective-action ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from pmo_gates.bulk_gc import fewer_collections
from pmo_gates.config import Settings
from pmo_gates.rca.analyse import RcaReport, analyse_portfolio, save_results
from pmo_gates.rca.playbook import PLAYBOOKS_DIR, Playbook, load_playbook
from pmo_gates.store import Store
from pmo_gates.store.readiness import require_projects


def playbook_path(settings: Settings | None, name: str) -> Path:
    """The playbook ``name`` (e.g. ``rca.yaml``) from the configured rule paths, else the shipped one."""
    return find_playbook(settings.rules.paths if settings is not None else [], name)


def find_playbook(paths: Iterable[Path], name: str) -> Path:
    """The playbook ``name`` among rule ``paths``, else the shipped one.

    A rule path may be the file itself, a folder holding it, or a folder with a ``playbooks/`` folder."""
    for path in paths:
        candidates = [path] if path.suffix in (".yaml", ".yml") else [path / name, path / "playbooks" / name]
        for candidate in candidates:
            if candidate.name == name and candidate.is_file():
                return candidate
    return PLAYBOOKS_DIR / name


@fewer_collections()
def run_rca(
    settings: Settings | None,
    *,
    store: Store,
    today: date | None = None,
    playbook: Playbook | None = None,
    persist: bool = True,
    now: datetime | None = None,
) -> RcaReport:
    """Analyse every project as of ``today`` (default: the config's pinned day, else the real date) and,
    unless ``persist`` is false, keep the month's result per project in ``rca_results``."""
    today = today or (settings.today if settings is not None else None) or date.today()
    playbook = playbook or load_playbook(playbook_path(settings, "rca.yaml"))
    params = settings.fact_params() if settings is not None else None
    with store.session() as session:
        require_projects(session)
    report = analyse_portfolio(store, today=today, playbook=playbook, params=params)
    if persist:
        save_results(store, report, analysed_at=now or datetime.now(UTC))
    return report
