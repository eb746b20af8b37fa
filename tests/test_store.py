from datetime import UTC, datetime

from sqlalchemy import func, select

from pmo_gates.store import safe_url, upsert
from pmo_gates.store.models import Issue, SyncState


def _issue(i: int, summary: str = "s") -> dict:
    now = datetime(2026, 11, 1, tzinfo=UTC)
    return dict(
        id=i,
        key=f"A-{i}",
        project_key="A",
        issue_type="Task",
        summary=summary,
        status="To Do",
        status_category="new",
        created=now,
        updated=now,
        labels=[],
        data_errors=[],
        synced_at=now,
    )


def test_upsert_inserts_then_updates_without_duplicates(store):
    with store.session() as s:
        upsert(s, Issue.__table__, [_issue(i) for i in range(1, 2001)], key=["id"])
    with store.session() as s:
        upsert(s, Issue.__table__, [_issue(7, "changed"), _issue(2001)], key=["id"])
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Issue)) == 2001
        assert s.scalar(select(Issue.summary).where(Issue.id == 7)) == "changed"


def test_session_rolls_back_on_error(store):
    try:
        with store.session() as s:
            s.add(SyncState(scope="portfolio"))
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with store.session() as s:
        assert s.get(SyncState, "portfolio") is None


def test_safe_url_hides_password():
    assert "hunter2" not in safe_url("postgresql+psycopg://u:hunter2@h/db")


def test_migrations_reach_head_and_match_models(store):
    """The Alembic chain creates exactly the tables and columns the models declare (no drift)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pmo_gates.store.models import Base

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
