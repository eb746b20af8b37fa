"""Decision records: what a gate review decided, on which rules and which data, kept in ``gate_decisions``.

History policy: a run adds a row for a project when anything recorded differs from that project's latest
row (gate, decision, score, criteria, rules hash, data hash, approver) **or** when the latest row is from an
earlier review date. An identical re-run on the same date adds nothing, so trends get exactly one point per
review date (more only when something changed within the day).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pmo_gates.actions.ledger import content_hash
from pmo_gates.store.models import GateDecision, Project, SyncRun


def facts_hash(facts: Mapping[str, Any]) -> str:
    """sha256 of one project's facts (canonical JSON; dates as ISO text)."""
    return content_hash(dict(facts))


def portfolio_hash(facts: Mapping[str, Mapping[str, Any]]) -> str:
    return content_hash({key: facts_hash(values) for key, values in facts.items()})


def rule_files_hash(paths: Iterable[str | Path]) -> str:
    """sha256 over the rule files' bytes, in path order (folders contribute their *.yaml / *.yml files)."""
    files: list[Path] = []
    for path in map(Path, paths):
        files += sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"}) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in sorted(set(files)):
        digest.update(str(file).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def git_commit(paths: Iterable[str | Path]) -> str | None:
    """HEAD of the git repository holding the rule files, or None (not in git, git missing, or the files
    have uncommitted changes, when a commit would claim rules it does not contain)."""
    paths = [Path(p).resolve() for p in paths]
    if not paths:
        return None
    folder = paths[0] if paths[0].is_dir() else paths[0].parent
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--", *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return None if dirty or not head else head


def last_sync_time(session: Session) -> datetime | None:
    """When the data reviewed was last synced: the latest completed sync run, else the newest project row."""
    finished = session.scalar(select(func.max(SyncRun.finished_at)).where(SyncRun.status == "completed"))
    return finished or session.scalar(select(func.max(Project.synced_at)))


def latest_records(session: Session, project_keys: Iterable[str]) -> dict[str, GateDecision]:
    keys = list(project_keys)
    latest = (
        select(func.max(GateDecision.id)).where(GateDecision.project_key.in_(keys)).group_by(GateDecision.project_key)
    )
    rows = session.scalars(select(GateDecision).where(GateDecision.id.in_(latest))) if keys else []
    return {row.project_key: row for row in rows}


def _same(row: GateDecision, new: dict[str, Any], review_date: date) -> bool:
    if row.evaluated_at.date() != review_date:
        return False
    # The sync time is not compared: the data hash already says whether the data changed, and SQLite
    # returns datetimes without their zone.
    skip = {"evaluated_at", "run_id", "data_synced_at"}
    return all(getattr(row, name) == value for name, value in new.items() if name not in skip)


def save_record(
    session: Session, latest: GateDecision | None, values: dict[str, Any], review_date: date
) -> tuple[GateDecision, bool]:
    """Add a row unless ``latest`` already says the same on the same date; returns (row, added)."""
    if latest is not None and _same(latest, values, review_date):
        return latest, False
    row = GateDecision(**values)
    session.add(row)
    return row, True


def history(session: Session, project_key: str) -> list[GateDecision]:
    """Every decision record of a project, oldest first (for trends)."""
    return list(
        session.scalars(select(GateDecision).where(GateDecision.project_key == project_key).order_by(GateDecision.id))
    )
