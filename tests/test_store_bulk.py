"""The sync's bulk writes: SQLite's direct executemany stores exactly what SQLAlchemy's own INSERT stores
(date-time text, JSON, Python-side defaults), and ``among`` looks up any number of values with one bound
parameter on both stores."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, text

from pmo_gates.store import upsert
from pmo_gates.store.models import ChangelogItem, Issue, Project
from pmo_gates.store.upsert import among, insert_many


def _issue(i: int, at: datetime) -> dict:
    return dict(
        id=i,
        key=f"A-{i}",
        project_key="A",
        issue_type="Task",
        summary="s",
        status="To Do",
        status_category="new",
        created=at,
        updated=at,
        labels=["x", "ü"],
        data_errors=[],
        synced_at=at,
    )


def test_sqlite_bulk_rows_are_stored_as_sqlalchemy_stores_them(sqlite_store):
    stamps = [datetime(2026, 11, 1, 10, 15, 30, tzinfo=UTC), datetime(2026, 11, 1, 10, 15, 30, 123456, tzinfo=UTC)]
    at = stamps[0]  # metadata_json is left to its Python-side default
    with sqlite_store.session() as s:
        upsert(s, Issue.__table__, [_issue(1, stamps[0]), _issue(2, stamps[1])], key=["id"])
        s.execute(Issue.__table__.insert(), [_issue(3, stamps[0]), _issue(4, stamps[1])])  # SQLAlchemy's path
        upsert(s, Project.__table__, [{"key": "A", "jira_id": "1", "name": "A", "synced_at": at}], key=["key"])
    with sqlite_store.session() as s:
        raw = dict(s.execute(text("SELECT id, updated || '|' || labels FROM issues")).all())
        assert raw[1] == raw[3] and raw[2] == raw[4]
        assert s.scalar(select(Issue.updated).where(Issue.id == 2)) == stamps[1].replace(tzinfo=None)
        assert s.scalar(select(Issue.labels).where(Issue.id == 1)) == ["x", "ü"]
        assert s.scalar(select(Project.metadata_json)) == {}
        # Lexical order of the stored text is time order, also across whole seconds.
        assert s.scalars(select(Issue.id).where(Issue.updated > stamps[0]).order_by(Issue.id)).all() == [2, 4]


def test_among_takes_thousands_of_values_on_both_stores(store):
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with store.session() as s:
        upsert(s, Issue.__table__, [_issue(i, at) for i in range(1, 3001)], key=["id"])
        insert_many(
            s,
            ChangelogItem.__table__,
            [
                {"issue_id": i, "history_id": "h", "item_index": 0, "author_id": None, "created": at,
                 "field": "status", "from_value": None, "from_string": "a", "to_value": None, "to_string": "b"}
                for i in range(1, 3001)
            ],
        )  # fmt: skip
    wanted = list(range(2, 3001, 2))
    with store.session() as s:
        assert sorted(s.scalars(select(Issue.id).where(among(s, Issue.id, wanted)))) == wanted
        keys = [f"A-{i}" for i in wanted]
        assert len(s.scalars(select(Issue.id).where(among(s, Issue.key, keys))).all()) == len(keys)
        s.execute(delete(ChangelogItem).where(among(s, ChangelogItem.issue_id, wanted)))
        assert s.scalar(select(ChangelogItem.issue_id).where(among(s, ChangelogItem.issue_id, wanted))) is None
        left = s.scalars(select(Issue.id).where(~among(s, Issue.id, wanted))).all()
        assert len(left) == 1500 and all(i % 2 for i in left)


def test_sqlite_datetime_text_is_sqlalchemys_for_any_datetime():
    """The fast date-time formatter writes the text SQLAlchemy's own SQLite DATETIME writes: any year,
    with and without microseconds, naive, UTC or another offset (the wall-clock fields as given)."""
    import random
    from datetime import timedelta, timezone

    from sqlalchemy.dialects import sqlite

    from pmo_gates.store.upsert import _sqlite_datetime

    theirs = sqlite.DATETIME().bind_processor(sqlite.dialect())
    rng = random.Random(13)
    zones = [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))]
    for _ in range(20_000):
        at = datetime(
            rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59),
            rng.randint(0, 59), rng.choice([0, rng.randint(0, 999_999)]), tzinfo=rng.choice(zones),
        )  # fmt: skip
        assert _sqlite_datetime(at) == theirs(at)
    assert _sqlite_datetime(None) is None


def test_json_columns_keep_their_values_on_both_stores(store):
    """JSON columns are written by orjson (fast) with the stdlib as fallback: values read back unchanged."""
    at = datetime(2026, 11, 1, 10, 15, 30, tzinfo=UTC)
    odd = {"ü": ["ß", 1.5, None, True], "nested": {"a": [1, {"b": "c"}]}, 7: "int key", "big": 2**70}
    with store.session() as s:
        s.execute(Issue.__table__.insert(), [_issue(1, at) | {"labels": ["x", "ü", "pmo-fp-1"]}])
        s.execute(
            Project.__table__.insert(),
            [{"key": "A", "jira_id": "1", "name": "A", "synced_at": at, "metadata_json": odd}],
        )
    with store.session() as s:
        assert s.scalar(select(Issue.labels)) == ["x", "ü", "pmo-fp-1"]
        assert s.scalar(select(Project.metadata_json)) == {**{k: v for k, v in odd.items() if k != 7}, "7": "int key"}


def test_sqlite_checkpoints_a_large_wal_rarely_and_cuts_the_file_back(sqlite_store):
    """A bulk load's commits stay in the WAL until 64 MB of it, then one checkpoint; after it the WAL file
    is cut back to that size. The default (every 4 MB) re-copied the same index pages for every few commits."""
    from pmo_gates.store.db import WAL_CHECKPOINT_PAGES

    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_CHECKPOINT_PAGES >= 16384
        assert connection.exec_driver_sql("PRAGMA journal_size_limit").scalar() == WAL_CHECKPOINT_PAGES * 4096
    at = datetime(2026, 11, 1, tzinfo=UTC)
    for start in range(0, 3000, 500):  # several commits: none of them may checkpoint (the WAL keeps them)
        with sqlite_store.session() as s:
            insert_many(s, Issue.__table__, [_issue(i, at) for i in range(start, start + 500)])
    with sqlite_store.engine.connect() as connection:
        busy, wal_frames, copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        assert busy == 0 and wal_frames > 0 and copied == wal_frames  # all still in the WAL, now copied
        assert connection.exec_driver_sql("SELECT count(*) FROM issues").scalar() == 3000
