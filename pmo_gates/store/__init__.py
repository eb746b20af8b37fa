"""The store: SQLAlchemy models, migrations (Alembic) and bulk upserts. SQLite by default, PostgreSQL for teams."""

from pmo_gates.store.db import Store, migrate, safe_url
from pmo_gates.store.upsert import upsert

__all__ = ["Store", "migrate", "safe_url", "upsert"]
