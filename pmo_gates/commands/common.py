"""What several commands share: the config and the store opened with errors turned into exit codes and
messages that name what is wrong (never a token or a database password)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from pmo_gates.config import ConfigError, Settings, load_settings
from pmo_gates.rca.yamlfile import PlaybookError
from pmo_gates.rules.facts.compute import FactError
from pmo_gates.store import Store, safe_url
from pmo_gates.store.db import store_problem
from pmo_gates.store.readiness import NothingToWorkOn


@contextmanager
def settings_and_store(config: Path, doing: str) -> Iterator[tuple[Settings, Store]]:
    """The loaded config and an open store, disposed afterwards. Exit 2 on a config or playbook error;
    exit 1 when the store cannot be opened, or the store, a fact or a file write fails while ``doing``
    the command's work."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        store = Store(settings.database_url())
    except Exception as exc:  # a driver error can hold the URL: print the safe form
        typer.echo(f"cannot open the store {safe_url(settings.database_url())}: {store_problem(exc)}", err=True)
        raise typer.Exit(1) from None
    try:
        yield settings, store
    except PlaybookError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:  # the message can name the server: say what failed, not where
        typer.echo(f"store error while {doing}: {type(exc).__name__}", err=True)
        raise typer.Exit(1) from None
    except NothingToWorkOn as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except FactError as exc:
        typer.echo(f"a fact could not be computed while {doing}: {exc}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:  # e.g. a report folder that cannot be written
        where = f" {exc.filename}" if exc.filename else ""
        typer.echo(f"cannot write{where} while {doing}: {exc.strerror or type(exc).__name__}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.dispose()
