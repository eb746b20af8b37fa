"""Opening the store: engine, migrations to head, sessions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
WAL_CHECKPOINT_PAGES = 16384  # 64 MB of 4 KiB pages


def safe_url(url: str) -> str:
    """The URL with its password masked, for logs and errors."""
    return make_url(url).render_as_string(hide_password=True)


def json_text(value: Any) -> str:
    """JSON columns' text. orjson writes a sync's 400,000 label and data-error lists about 8x faster than
    the stdlib encoder (which was 2 % of the client's CPU); what it refuses (an int beyond 64 bits) goes
    to the stdlib. Dict keys that are not strings become strings, as the stdlib makes them."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets a reader (a report) run while a sync writes; foreign keys make deletes cascade.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # Chosen for bulk loads: in WAL mode NORMAL stays consistent after a crash (a power loss can only lose
    # the last commits, which the sync's watermark has not passed); a bigger page cache and in-memory temp
    # tables keep the sync's index updates and IN (...) lookups off the disk.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-65536")  # KiB: 64 MB
    cursor.execute("PRAGMA temp_store=MEMORY")
    # A checkpoint (WAL back into the database, with the only fsyncs of NORMAL) every 64 MB of WAL rather
    # than SQLite's 4 MB: a 200,000-issue sync rewrites the same index pages in every commit, and copying
    # them back every 4 MB took 8 s of the writer's time (the sync's serial stage); the file is cut back
    # to 64 MB after each checkpoint. Durability is unchanged: every commit is in the WAL either way.
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    cursor.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_PAGES * 4096}")
    cursor.close()


class StoreLocationError(ValueError):
    """The store's URL points where no database can be: the message names the place and the fix."""


def store_problem(exc: Exception) -> str:
    """What to print when the store cannot be opened: our own message, or only the type of a driver's
    error (whose message can hold the URL and its password)."""
    return str(exc) if isinstance(exc, StoreLocationError) else type(exc).__name__


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A typo in the path must not silently create a tree of folders and an empty store in it.
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                raise StoreLocationError(
                    f"the folder {folder} of the SQLite database does not exist: "
                    "create it (a writable folder), or fix the URL"
                )
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=json_text)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=json_text)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


class Store:
    """The database pmo-gates owns. Open one per process; it is cheap to share across threads."""

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if auto_migrate:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r})"
