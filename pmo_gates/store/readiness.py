"""Whether the store holds anything to work on: reviews, actions, root-cause analysis and reports judge
what the sync stored, so an empty store after a failed (or never run) sync is an error to report, not a
run that succeeds having done nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmo_gates.store.models import Project, SyncRun


class NothingToWorkOn(RuntimeError):
    """The store holds no project because no sync has completed; the message says what to do."""


def require_projects(session: Session) -> None:
    """Raise :class:`NothingToWorkOn` when the store has no project and the last sync did not complete
    (a completed sync that found no project is an empty portfolio, which is not an error)."""
    if session.scalar(select(Project.key).limit(1)) is not None:
        return
    last = session.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(1)).first()
    if last is None:
        raise NothingToWorkOn(
            "nothing to work on: the store holds no projects and no sync has run; run `pmo-gates sync`"
        )
    if last.status == "completed":
        return
    started = last.started_at.strftime("%Y-%m-%d %H:%M")
    if last.status == "failed":
        reason = (last.error or "no reason recorded").splitlines()[0][:300]
        raise NothingToWorkOn(
            f"nothing to work on: the store holds no projects because the last sync (run {last.id}, started "
            f"{started} UTC) failed: {reason}; fix that and run `pmo-gates sync` again"
        )
    raise NothingToWorkOn(
        f"nothing to work on: the store holds no projects and the last sync (run {last.id}, started {started} UTC) "
        "never finished (still running, or stopped); run `pmo-gates sync`"
    )
