"""One writer per portfolio at a time: plan + apply run under a lock held in the shared database.

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a dedicated connection. The
  ledger commits item by item on other connections while the lock is held, and if the worker dies its
  connection closes and PostgreSQL releases the lock: no stale lock to clean up.
- SQLite: an exclusive ``flock`` on a file beside the database. ``BEGIN IMMEDIATE`` would also serialise
  workers, but it would block this worker's own ledger commits on other connections; a file lock has the
  same effect across processes without that, and the OS releases it when the process dies.
  (An in-memory database lives in one process and one connection: there is nothing to share.)

Two workers started together: the second waits, then plans against the ledger the first wrote, and plans
nothing that is already done.
"""

from __future__ import annotations

import fcntl
import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from pmo_gates.store import Store


class LockTimeout(RuntimeError):
    """Another pmo-gates worker held the portfolio lock for longer than we were willing to wait."""


def lock_id(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` (one per lock name)."""
    return int.from_bytes(hashlib.sha256(f"pmo-gates:{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def portfolio_lock(
    store: Store, name: str = "corrective-actions", *, timeout: float = 600, poll: float = 0.2
) -> Iterator[None]:
    """Hold the lock ``name`` for the duration of the block; raise ``LockTimeout`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    if store.dialect == "postgresql":
        key = lock_id(name)
        with store.engine.connect() as conn:
            while not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
                conn.rollback()
                if time.monotonic() > deadline:
                    raise LockTimeout(f"another worker holds the {name!r} lock (waited {timeout:g} s)")
                time.sleep(poll)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
        return
    database = make_url(store.url).database
    if store.dialect != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = Path(f"{database}.{name}.lock")
    with path.open("a+") as handle:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeout(
                        f"another worker holds the {name!r} lock on {path} (waited {timeout:g} s)"
                    ) from None
                time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
