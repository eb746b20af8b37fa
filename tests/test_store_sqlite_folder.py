"""A SQLite URL naming a folder that does not exist is refused with a clear message, never created."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.store import Store
from pmo_gates.store.db import StoreLocationError


def test_missing_folder_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    with pytest.raises(StoreLocationError, match=r"does not exist: create it"):
        Store(f"sqlite:///{missing / 'store.db'}")
    assert not (tmp_path / "no").exists()


def test_existing_folder_still_works(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert store.dialect == "sqlite" and (tmp_path / "store.db").exists()
    finally:
        store.dispose()


def test_the_cli_says_which_folder_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "gone"
    config = tmp_path / "pmo-gates.yaml"
    config.write_text(
        "jira: {url: 'http://127.0.0.1:9'}\nportfolio: {projects: [ALPHA]}\n"
        f"database: {{url: 'sqlite:///{missing / 'store.db'}'}}\n"
    )
    monkeypatch.delenv("PMO_GATES_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["report", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert f"{missing}" in result.output and "does not exist" in result.output
    assert not missing.exists()
