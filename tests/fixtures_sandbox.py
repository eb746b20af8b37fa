"""Shared helpers for the sandbox's own tests: snapshots, the contract, a jira client to a sandbox."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from jira import JIRA

from pmo_gates.sandbox import Snapshot, generate_portfolio, sample_portfolio_path

EMAIL = "pmo-bot@example.com"
TOKEN = "sandbox-token-for-tests-7f3a"
TODAY = date(2026, 11, 2)

FLAVOURS = ("cloud", "dc")
# Jira Cloud's search trails writes by seconds. The end-to-end tests run with the sandbox's index lag on,
# so nothing we build can rely on finding a write of ours through JQL search at once.
STRICT_INDEX_LAG = 2.0


@functools.cache
def sample() -> Snapshot:
    """The bundled sample (10 projects); never mutated (the state is copy-on-write)."""
    return Snapshot.load(sample_portfolio_path())


@functools.cache
def small(seed: int = 5) -> Snapshot:
    """Three projects of about 12 issues: enough for every state and JQL case, built in milliseconds."""
    return generate_portfolio(projects=3, issues_per_project=12, seed=seed, today=TODAY)


@functools.cache
def contract() -> Any:
    from pmo_gates.sandbox.contract import JiraContract

    return JiraContract.load()


def jira_client(url: str, *, token: str = TOKEN, email: str = EMAIL, cloud: bool = True) -> JIRA:
    """The real ``jira`` client as the connector configures it (no hidden retries, bounded timeouts)."""
    if cloud:
        return JIRA(server=url, basic_auth=(email, token), max_retries=0, timeout=(5, 30), get_server_info=True)
    return JIRA(server=url, token_auth=token, max_retries=0, timeout=(5, 30), get_server_info=True)
