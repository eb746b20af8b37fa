"""Doctor's checks that need no Jira: the store (reachable, migrated to the newest revision) and the
Prefect API (reachable, when ``PREFECT_API_URL`` is set)."""

from __future__ import annotations

from collections.abc import Mapping

import requests
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from pmo_gates.onboarding.report import Check, DoctorReport
from pmo_gates.store.db import MIGRATIONS, make_engine, safe_url


def head_revision() -> str | None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def check_store(url: str, report: DoctorReport) -> None:
    shown = safe_url(url)
    fix = "check database.url (or PMO_GATES_DATABASE_URL), e.g. sqlite:///pmo-gates.db or postgresql+psycopg://user@host/db"
    try:
        parsed = make_url(url)
    except Exception:
        report.add(
            Check(id="store", status="fail", detail="database.url is not a SQLAlchemy URL", fix=fix, blocking=True)
        )
        return
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from pathlib import Path

        if not Path(parsed.database).exists():
            report.add(
                Check(
                    id="store",
                    status="ok",
                    detail=f"{shown} does not exist yet: the first command creates and migrates it",
                )
            )
            return
    engine = None
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:
        reason = (
            str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200] if str(exc) else type(exc).__name__
        )
        reason = reason.replace(parsed.password or "\0", "***") if parsed.password else reason
        report.add(
            Check(id="store", status="fail", detail=f"cannot open the store {shown}: {reason}", fix=fix, blocking=True)
        )
        return
    finally:
        if engine is not None:
            engine.dispose()
    head = head_revision()
    if current == head:
        report.add(Check(id="store", status="ok", detail=f"{shown} reachable, schema at the newest revision ({head})"))
    elif current is None:
        report.add(Check(id="store", status="ok", detail=f"{shown} reachable and empty: the first command migrates it"))
    else:
        report.add(
            Check(
                id="store",
                status="warn",
                detail=f"{shown} is at schema revision {current}, this version's newest is {head}",
                fix="the next pmo-gates command migrates it (a newer pmo-gates wrote it if the revision is unknown)",
            )
        )


def check_prefect(env: Mapping[str, str], report: DoctorReport, *, timeout: float = 5.0) -> None:
    url = (env.get("PREFECT_API_URL") or "").rstrip("/")
    if not url:
        report.add(
            Check(
                id="prefect",
                status="skip",
                detail="PREFECT_API_URL is not set: flows start a temporary local Prefect server",
            )
        )
        return
    fix = "start the server (`prefect server start`), or fix or unset PREFECT_API_URL"
    try:
        response = requests.get(f"{url}/health", timeout=(timeout, timeout))
    except requests.exceptions.RequestException as exc:
        report.add(
            Check(
                id="prefect",
                status="fail",
                detail=f"Prefect API at PREFECT_API_URL={url} is unreachable ({type(exc).__name__}): flows and "
                "`serve` will fail",
                fix=fix,
            )
        )
        return
    if response.status_code != 200:
        report.add(
            Check(
                id="prefect",
                status="fail",
                detail=f"Prefect API at PREFECT_API_URL={url} answered HTTP {response.status_code} to /health",
                fix=fix + " (the URL ends in /api)",
            )
        )
        return
    report.add(Check(id="prefect", status="ok", detail=f"Prefect API at {url} is healthy"))
