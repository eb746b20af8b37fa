"""Store errors for people: which database, what went wrong, what to change (never the password)."""

from __future__ import annotations

import os
import re

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from pmo_gates.store.db import StoreLocationError

DATABASE_URL_ENV = "PMO_GATES_DATABASE_URL"
_CREDENTIALS = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def masked(url: str) -> str:
    """The URL with its password masked; a URL SQLAlchemy cannot parse is masked by pattern."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _CREDENTIALS.sub(r"\1***@", url)


def url_setting(config: object | None = None) -> str:
    """Where the database URL came from: the environment variable, or ``database.url`` (in ``config``)."""
    if os.environ.get(DATABASE_URL_ENV):
        return DATABASE_URL_ENV
    return f"database.url in {config}" if config else "database.url"


def _driver_message(exc: BaseException, url: str) -> str:
    detail = getattr(exc, "orig", None) or exc
    text = " ".join(str(detail).split("\n")[0].split())
    try:
        password = make_url(url).password
    except ArgumentError:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return _CREDENTIALS.sub(r"\1***@", text)[:300]


def describe_store_error(url: str, exc: BaseException, *, setting: str = "database.url", doing: str = "") -> str:
    """One line: the store (password masked), what failed and what to do about it."""
    shown = masked(url)
    if isinstance(exc, StoreLocationError):
        return f"{setting}: {exc}"
    scheme = url.split(":", 1)[0].lower()
    if isinstance(exc, NoSuchModuleError) and scheme == "postgres":
        return f"{setting}: {shown} uses the scheme postgres://, which SQLAlchemy does not know: write postgresql://"
    if isinstance(exc, NoSuchModuleError):
        return f"{setting}: {shown} names a database driver that is not installed ({_driver_message(exc, url)})"
    if isinstance(exc, ArgumentError):
        return (
            f"{setting}: {shown} is not a database URL; use e.g. sqlite:///pmo-gates.db or "
            "postgresql+psycopg://user@host/db"
        )
    if isinstance(exc, ImportError):
        return (
            f"{setting}: {shown} needs a database driver that is not installed ({exc}); pmo-gates supports "
            "sqlite:/// and postgresql+psycopg://"
        )
    what = f"store error while {doing}" if doing else "cannot open the store"
    if isinstance(exc, SQLAlchemyError):
        reason = _driver_message(exc, url)
    elif isinstance(exc, OSError):
        reason = f"{exc.strerror or type(exc).__name__}" + (f": {exc.filename}" if exc.filename else "")
    else:
        reason = f"{type(exc).__name__}: {_driver_message(exc, url)}"
    if scheme.startswith("sqlite"):
        hint = "check that its folder exists and is writable"
    else:
        hint = "check that the database server is running and reachable, and the user, password and database name"
    return f"{what} {shown}: {reason}; {hint} ({setting})"
