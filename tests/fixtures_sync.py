"""End-to-end helpers for the sync tests: a contract-checked sandbox, a sync against it, and counts of what
the sandbox serves versus what the store holds."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from pmo_gates.config import Settings
from pmo_gates.connectors.sync import SyncResult, sync_portfolio
from pmo_gates.sandbox import SandboxServer, Snapshot, generate_portfolio
from pmo_gates.store import Store
from pmo_gates.store.models import ChangelogItem, Issue, IssueLink, Person, Project, Worklog
from tests.fixtures_connector import EMAIL, TOKEN, FakeClock, connection, settings

TODAY = date(2026, 11, 2)
PAGE = 10
# The default pacing (10 requests a second) makes a ~12-request sync take 1.2 s of waiting. Tests about
# what a sync stores, not how it paces itself, lift it so running them on both flavours stays cheap.
UNPACED = {"sync": {"requests_per_second": 1000}}


@functools.cache
def portfolio(projects: int = 3, issues_per_project: int = 16, seed: int = 11) -> Snapshot:
    """About 50 issues in 3 projects: several pages at PAGE issues a page, built in milliseconds."""
    return generate_portfolio(projects=projects, issues_per_project=issues_per_project, seed=seed, today=TODAY)


@functools.cache
def contract() -> Any:
    from pmo_gates.sandbox.contract import JiraContract

    return JiraContract.load()


@contextmanager
def serve(snapshot: Snapshot, flavour: str, **kwargs: Any) -> Iterator[SandboxServer]:
    """A sandbox checking every exchange against Atlassian's OpenAPI description; asserts it stayed clean."""
    with SandboxServer(snapshot, flavour=flavour, auth=(EMAIL, TOKEN), validate=contract(), **kwargs) as sb:
        yield sb
        assert sb.contract_violations == []


def write_sandbox_config(
    tmp_path: Path, url: str, projects: list[str], *, flavour: str = "cloud", today: date | None = None, **jira: Any
) -> Path:
    """A config file for the CLI against a sandbox (token in ``PMO_GATES_TEST_TOKEN``; Cloud signs in with an
    e-mail, Data Center with the token alone); ``jira`` adds keys to its ``jira:`` section."""
    auth = {"token_env": "PMO_GATES_TEST_TOKEN"} | ({"email": EMAIL} if flavour == "cloud" else {})
    config: dict[str, Any] = {
        "jira": {"url": url, "flavour": flavour, "auth": auth, **jira},
        "portfolio": {"projects": projects},
        "database": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
        "reports": {"out_dir": str(tmp_path / "reports")},
    }
    if today is not None:
        config["today"] = today.isoformat()
    path = tmp_path / "pmo-gates.yaml"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")  # JSON is YAML
    return path


def project_keys(sb: SandboxServer) -> list[str]:
    return sorted(p["key"] for p in sb.state.projects())


def config(sb: SandboxServer, *, page_size: int = PAGE, **extra: Any) -> Settings:
    return settings(project_keys(sb), url=sb.url, page_size=page_size, **extra)


def run_sync(
    sb: SandboxServer,
    store: Store,
    *,
    full: bool = False,
    cfg: Settings | None = None,
    clock: FakeClock | None = None,
    **kwargs: Any,
) -> SyncResult:
    cfg = cfg or config(sb)
    conn = connection(
        sb.url, flavour=sb.flavour, email=EMAIL if sb.flavour == "cloud" else None, page_size=cfg.jira.page_size
    )
    clock = clock or FakeClock()
    return sync_portfolio(conn, store, cfg, full=full, sleep=clock.sleep, **kwargs)


def served(sb: SandboxServer) -> dict[str, int]:
    """What a complete sync of the sandbox must store."""
    issues = sb.state.issues()
    links = {str(link["id"]) for i in issues for link in i["fields"].get("issuelinks") or []}
    return {
        "issues": len(issues),
        "changelog_items": sum(
            len(h.get("items") or []) for i in issues for h in (i.get("changelog") or {}).get("histories") or []
        ),
        "worklogs": sum(len((i["fields"].get("worklog") or {}).get("worklogs") or []) for i in issues),
        "links": len(links),
        "projects": len(sb.state.projects()),
    }


def stored(store: Store) -> dict[str, int]:
    with store.session() as s:

        def count(model: Any) -> int:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

        return {
            "issues": count(Issue),
            "changelog_items": count(ChangelogItem),
            "worklogs": count(Worklog),
            "links": count(IssueLink),
            "projects": count(Project),
            "people": count(Person),
        }
