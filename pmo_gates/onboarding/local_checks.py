"""Doctor's checks that need no Jira: the store (reachable, migrated to the newest revision) and the
Prefect API (reachable, when an API URL is set in the environment or the active Prefect profile)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

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
    fix = "check database.url (or PMO_GATES_DATABASE_URL), e.g. sqlite:///pmo-gates.db or postgresql+psycopg://user@host/db"
    try:
        parsed = make_url(url)
        shown = safe_url(url)
    except Exception:
        report.add(
            Check(id="store", status="fail", detail="database.url is not a SQLAlchemy URL", fix=fix, blocking=True)
        )
        return
    is_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    if is_file and not Path(str(parsed.database)).exists():
        report.add(
            Check(
                id="store", status="ok", detail=f"{shown} does not exist yet: the first command creates and migrates it"
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


def prefect_api_url(env: Mapping[str, str]) -> tuple[str, str] | None:
    """The Prefect API URL flows would use and where it is set: the environment, else the active profile
    of ``$PREFECT_HOME/profiles.toml`` (read directly: importing Prefect takes seconds)."""
    url = (env.get("PREFECT_API_URL") or "").strip()
    if url:
        return url.rstrip("/"), "PREFECT_API_URL"
    home = Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    try:
        profiles = tomllib.loads((home / "profiles.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = env.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    value = ((profiles.get("profiles") or {}).get(name) or {}).get("PREFECT_API_URL")
    return (str(value).rstrip("/"), f"PREFECT_API_URL of profile {name!r}") if value else None


def check_prefect(env: Mapping[str, str], report: DoctorReport, *, timeout: float = 5.0) -> None:
    found = prefect_api_url(env)
    if found is None:
        report.add(
            Check(
                id="prefect",
                status="skip",
                detail="no Prefect API URL is configured: flows start a temporary local Prefect server",
            )
        )
        return
    url, where = found
    fix = f"start the server (`prefect server start`), or fix or unset the {where}"
    try:
        response = requests.get(f"{url}/health", timeout=(timeout, timeout))
    except requests.exceptions.RequestException as exc:
        report.add(
            Check(
                id="prefect",
                status="fail",
                detail=f"Prefect API at {where} = {url} is unreachable ({type(exc).__name__}): flows and "
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
                detail=f"Prefect API at {where} = {url} answered HTTP {response.status_code} to /health",
                fix=fix + " (the URL ends in /api)",
            )
        )
        return
    report.add(Check(id="prefect", status="ok", detail=f"Prefect API at {url} is healthy"))
