"""Shared by the doctor / init tests: a sandbox (full or bare portfolio) and a config file pointing at it."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from pmo_gates.sandbox import Snapshot
from pmo_gates.sandbox.bare import without_pmo_setup
from tests.fixtures_sandbox import EMAIL, TOKEN, small

TOKEN_ENV = "PMO_TEST_ONBOARDING_TOKEN"


@functools.cache
def bare_small() -> Snapshot:
    return without_pmo_setup(small())


@functools.cache
def bare_small_with_fields() -> Snapshot:
    """A Data Center site before pmo-gates whose admin has created the PMO fields by hand: no anchors."""
    return without_pmo_setup(small(), keep_fields=True)


def write_config(
    tmp_path: Path, url: str, projects: list[str], *, extra: str = "", name: str = "pmo-gates.yaml"
) -> Path:
    config = tmp_path / name
    config.write_text(
        "jira:\n"
        f"  url: {url}\n"
        f"  auth: {{email: {EMAIL}, token_env: {TOKEN_ENV}}}\n"
        "  connect_timeout: 3\n"
        f"portfolio:\n  projects: {json.dumps(projects)}\n"
        f"database:\n  url: sqlite:///{tmp_path / 'store.db'}\n" + extra,
        encoding="utf-8",
    )
    return config


__all__ = ["EMAIL", "TOKEN", "TOKEN_ENV", "bare_small", "bare_small_with_fields", "small", "write_config"]
