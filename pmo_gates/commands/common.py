"""What several commands share: the config and the store opened with errors turned into exit codes and
messages that name what is wrong (never a token or a database password)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pmo_gates.config import Settings
    from pmo_gates.store import Store


def unwritable(path: Path, option: str) -> str | None:
    """Why ``path`` cannot be written (checked by writing a scratch file beside it), or None when it can.
    Checked before the work, so a long run does not fail at its last step."""
    if path.is_dir():
        return f"{option} {path} is a folder: name the file to write"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".pmo-gates-"):
            pass
    except OSError as exc:
        return f"{option} {path}: cannot write there ({exc.strerror or type(exc).__name__}); choose a writable path"
    return None


@contextmanager
def settings_and_store(config: Path, doing: str) -> Iterator[tuple[Settings, Store]]:
    """The loaded config and an open store, disposed afterwards. Exit 2 on a config or playbook error;
    exit 1 when the store cannot be opened, or the store, a fact or a file write fails while ``doing``
    the command's work."""
    # Imported when a command runs: registering the commands (``--help``) needs none of this.
    from sqlalchemy.exc import SQLAlchemyError

    from pmo_gates.config import ConfigError, load_settings
    from pmo_gates.rca.yamlfile import PlaybookError
    from pmo_gates.rules.facts.compute import FactError
    from pmo_gates.store import Store
    from pmo_gates.store.errors import describe_store_error, url_setting
    from pmo_gates.store.readiness import NothingToWorkOn

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    try:
        store = Store(settings.database_url())
    except Exception as exc:  # a driver error can hold the URL: describe_store_error masks the password
        typer.echo(describe_store_error(settings.database_url(), exc, setting=url_setting(config)), err=True)
        raise typer.Exit(1) from None
    try:
        yield settings, store
    except PlaybookError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:
        message = describe_store_error(settings.database_url(), exc, setting=url_setting(config), doing=doing)
        typer.echo(message, err=True)
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
