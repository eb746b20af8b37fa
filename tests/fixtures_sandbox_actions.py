"""A sandbox Jira with the sample portfolio synced into a store, and a client to it, for the corrective
action end-to-end tests."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from pmo_gates.actions.run import Inputs
from pmo_gates.config import RetryConfig, Settings
from pmo_gates.connectors.client import JiraClient, build_client
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.store import Store
from pmo_gates.store.models import Person, Project
from tests.fixtures_actions import facts as base_facts
from tests.fixtures_actions import rule_set, settings

TOKEN = "sandbox-secret-token-0123456789"
EMAIL = "pmo-bot@example.com"


def connection(url: str, flavour: str = "cloud") -> JiraConnection:
    return JiraConnection(
        url=url,
        email=EMAIL if flavour == "cloud" else None,
        token=SecretStr(TOKEN),
        flavour=flavour,  # type: ignore[arg-type]
        retry=RetryConfig(max_attempts=4, initial_wait_seconds=0.01, max_wait_seconds=5),
    )


def client_for(url: str, flavour: str = "cloud") -> JiraClient:
    return build_client(connection(url, flavour), sleep=lambda _s: None)


@dataclass
class World:
    """Everything one end-to-end test works with."""

    sandbox: Any
    store: Store
    settings: Settings
    projects: list[str]
    anchors: dict[str, str]
    rules: Any
    flavour: str

    def client(self) -> JiraClient:
        return client_for(self.sandbox.url, self.flavour)

    def inputs(self, today: date, **overrides: dict) -> Inputs:
        """Facts for every sample project (all passing), with ``overrides`` per project key."""
        values = base_facts(**{key: overrides.get(key, {}) for key in self.projects})
        return Inputs(
            today=today, rule_set=self.rules, facts=values, evaluation=evaluate(self.rules, values, today=today)
        )

    def our_tickets(self) -> list[dict]:
        """Issues in the sandbox carrying our label (what "no duplicate" is counted on)."""
        label = self.settings.actions.label
        return [i for i in self.sandbox.state.issues() if label in (i.get("fields", {}).get("labels") or [])]


@contextmanager
def world(store: Store, tmp_path, flavour: str = "cloud", *, index_lag: float = 0.0, **actions: Any) -> Iterator[World]:
    from pmo_gates.connectors.sync import sync_portfolio
    from pmo_gates.sandbox import SandboxServer, sample_portfolio_path

    contract = _contract()
    with SandboxServer(sample_portfolio_path(), flavour=flavour, validate=contract, index_lag=index_lag) as sandbox:
        cfg = settings(sandbox.url, **actions)
        projects = sorted(p["key"] for p in sandbox.state.projects())
        cfg = cfg.model_copy(update={"portfolio": cfg.portfolio.model_copy(update={"projects": projects})})
        sync_portfolio(connection(sandbox.url, flavour), store, cfg, full=True)
        with store.session() as session:
            anchors = {p.key: p.anchor_issue_key for p in session.query(Project) if p.anchor_issue_key}
            # The PMO lead must be a real account: Jira rejects an unknown assignee.
            lead = session.scalars(select(Person.account_id).where(Person.active).order_by(Person.account_id)).first()
        cfg = cfg.model_copy(update={"actions": cfg.actions.model_copy(update={"pmo_lead": lead})})
        yield World(sandbox, store, cfg, projects, anchors, rule_set(tmp_path), flavour)
        assert sandbox.contract_violations == []


@functools.cache
def _contract() -> Any:
    """Atlassian's OpenAPI file as a validator (loaded once: it takes a fraction of a second)."""
    from pmo_gates.sandbox.contract import JiraContract

    return JiraContract.load()
