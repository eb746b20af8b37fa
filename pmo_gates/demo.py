"""``pmo-gates demo`` as a plain function: the whole product on a sandbox Jira, through Prefect.

A sandbox serves the bundled sample portfolio (or a snapshot file) on a free loopback port, guarded by a
token generated for this run and never printed. A work folder gets a config file naming that sandbox and a
SQLite store; the flows then run one after another, exactly as deployed: ``sync-jira`` -> ``gate-review``
-> ``delay-root-cause`` -> ``corrective-actions`` -> ``portfolio-report`` (approval off). Prefect is
whatever the environment names (``PREFECT_API_URL``), else a temporary local server that Prefect starts
and stops itself; flow heartbeats are off, since a demo run has nothing to crash-detect.

Example::

    with DemoSession(out_dir=Path("pmo-gates-demo")) as session:
        first = session.run()
        again = session.run()  # same sandbox, same store: nothing new is written to Jira
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from ruamel.yaml import YAML

from pmo_gates.config import Settings, load_settings
from pmo_gates.defaults import DEFAULT_DEMO_OUT
from pmo_gates.reachability import prefect_api_problem
from pmo_gates.sandbox import SandboxServer, Snapshot, sample_portfolio_path

DEMO_EMAIL = "pmo-demo@example.com"
TOKEN_ENV = "PMO_GATES_DEMO_TOKEN"
DEFAULT_OUT = DEFAULT_DEMO_OUT
# A temporary Prefect server takes ~20 s to start on a small machine; Prefect's default wait is shorter.
EPHEMERAL_STARTUP_SECONDS = 120

WORK_MARKER = ".pmo-gates-demo"

Progress = Callable[[str], None]


class DemoError(Exception):
    """The demo cannot start (a bad output folder, a Prefect API that does not answer); the message names
    the option or setting and says what to change."""


class DemoResult(BaseModel):
    """What ``pmo-gates demo --json`` prints (``to_json``), plus where things are."""

    sync: dict[str, Any]
    reviews: list[dict[str, Any]]
    rca: list[dict[str, Any]]
    actions: dict[str, Any]
    reports: dict[str, Any]
    sandbox: dict[str, Any] = Field(default_factory=dict, description="Sandbox requests and our tickets in it.")
    prefect_api: str = Field(description="The Prefect API the flows ran against ('ephemeral' when temporary).")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def demo_config(
    snapshot: Snapshot, sandbox_url: str, work_dir: Path, out_dir: Path, flavour: str = "cloud"
) -> dict[str, Any]:
    """The config file of the demo: every sample project, the snapshot's own date as 'today'."""
    users = sorted((u for u in snapshot.users if u.active and u.accountId), key=lambda u: u.accountId or "")
    # Cloud knows the PMO lead by accountId, Data Center by login name (and a PAT, no e-mail, signs in).
    lead = (users[0].accountId if flavour == "cloud" else users[0].name) if users else None
    email = DEMO_EMAIL if flavour == "cloud" else None
    return {
        "jira": {"url": sandbox_url, "flavour": flavour, "auth": {"email": email, "token_env": TOKEN_ENV}},
        "portfolio": {"projects": sorted(p.key for p in snapshot.projects)},
        "database": {"url": f"sqlite:///{(work_dir / 'pmo-gates.db').resolve()}"},
        # Jira rejects an unknown assignee: the PMO lead must be one of the sandbox's accounts.
        "actions": {"approval": False, "pmo_lead": lead},
        "reports": {"out_dir": str((out_dir / "reports").resolve())},
        "today": snapshot.exported_at.date().isoformat(),
    }


@contextmanager
def _env_var(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextmanager
def quiet_prefect() -> Iterator[str]:
    """Prefect for an interactive run: no heartbeats, time for an ephemeral server to start, quiet console."""
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.logging.handlers import PrefectConsoleHandler
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    problem = prefect_api_problem()
    if problem:
        raise DemoError(problem)
    updates: dict[Any, Any] = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    if not PREFECT_API_URL.value():
        # Prefect starts a temporary server with these settings: give it time, and no analytics heartbeat
        # (it only competes with the demo for the SQLite file).
        updates[PREFECT_SERVER_ANALYTICS_ENABLED] = False
        if PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value() < EPHEMERAL_STARTUP_SECONDS:
            updates[PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS] = EPHEMERAL_STARTUP_SECONDS
    # The demo prints its own progress: Prefect's run logs still reach the Prefect API, only the console
    # copy is limited to warnings.
    ensure_logging_setup()
    consoles = [h for h in logging.getLogger().handlers if isinstance(h, PrefectConsoleHandler)]
    levels = [h.level for h in consoles]
    for handler in consoles:
        handler.setLevel(logging.WARNING)
    try:
        with temporary_settings(updates=updates):
            yield PREFECT_API_URL.value() or "ephemeral"
    finally:
        for handler, level in zip(consoles, levels, strict=True):
            handler.setLevel(level)


class DemoSession:
    """A running sandbox + work folder + config; ``run()`` runs every flow once against them."""

    def __init__(
        self,
        seed: Path | None = None,
        out_dir: Path = DEFAULT_OUT,
        progress: Progress | None = None,
        flavour: str = "cloud",
        index_lag: float = 0.0,
    ):
        self.flavour = flavour
        self.index_lag = index_lag
        self.snapshot = Snapshot.load(seed or sample_portfolio_path())
        self.out_dir = Path(out_dir)
        self.work_dir = self.out_dir / "work"
        self.progress = progress or (lambda _message: None)
        self._stack = ExitStack()
        self.sandbox: SandboxServer | None = None
        self.settings: Settings | None = None
        self.prefect_api = ""

    def __enter__(self) -> DemoSession:
        token = secrets.token_urlsafe(24)
        try:
            self.sandbox = self._stack.enter_context(
                SandboxServer(self.snapshot, flavour=self.flavour, auth=(DEMO_EMAIL, token), index_lag=self.index_lag)
            )
            self._fresh_work_dir()
            config_path = self.work_dir / "pmo-gates.yaml"
            with config_path.open("w", encoding="utf-8") as handle:
                YAML().dump(
                    demo_config(self.snapshot, self.sandbox.url, self.work_dir, self.out_dir, self.flavour), handle
                )
            self.settings = load_settings(config_path)
            self._stack.enter_context(_env_var(TOKEN_ENV, token))
            self.prefect_api = self._stack.enter_context(quiet_prefect())
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def _fresh_work_dir(self) -> None:
        """A fresh sandbox holds none of the tickets an older store remembers: start the store afresh too,
        but only ever delete a folder an earlier demo made."""
        marker = self.work_dir / WORK_MARKER
        try:
            if self.work_dir.exists():
                if not marker.exists() and any(self.work_dir.iterdir()):
                    raise DemoError(
                        f"--out: {self.work_dir} exists and was not made by pmo-gates demo: choose another --out"
                    )
                shutil.rmtree(self.work_dir)
            self.work_dir.mkdir(parents=True)
            marker.write_text("made by pmo-gates demo; deleted and remade by the next demo run\n", encoding="utf-8")
        except OSError as exc:
            raise DemoError(
                f"--out {self.out_dir}: cannot write there ({exc.strerror or type(exc).__name__}); "
                "choose a writable folder"
            ) from None

    def run(self) -> DemoResult:
        from pmo_gates.flows.corrective_actions import corrective_actions
        from pmo_gates.flows.delay_root_cause import delay_root_cause
        from pmo_gates.flows.gate_review import gate_review
        from pmo_gates.flows.portfolio_report import portfolio_report
        from pmo_gates.flows.sync import sync_jira

        if self.sandbox is None or self.settings is None:
            raise RuntimeError("use DemoSession as a context manager")
        settings = self.settings
        where = "a temporary local Prefect server" if self.prefect_api == "ephemeral" else self.prefect_api
        self.progress(f"Syncing {len(self.snapshot.projects)} projects from the sandbox Jira (Prefect: {where})")
        synced = sync_jira(settings=settings)
        self.progress("Gate reviews")
        reviewed = gate_review(settings=settings)
        self.progress("Delay root-cause analysis")
        analysed = delay_root_cause(settings=settings)
        self.progress("Corrective actions")
        acted = corrective_actions(settings=settings)
        self.progress("Portfolio reports")
        bundle = portfolio_report(settings=settings)
        runs = {
            "gate-review": reviewed.actions,
            "delay-root-cause": analysed.actions,
            "corrective-actions": acted.actions,
        }
        return DemoResult(
            sync={
                "mode": synced.mode,
                "projects": synced.projects,
                "issues": synced.issues_upserted + synced.issues_unchanged,
                "changelog_entries": synced.changelog_items,
                "worklogs": synced.worklogs,
                "http_requests": synced.http_requests_total,
            },
            reviews=reviewed.reviews,
            rca=analysed.projects,
            actions=combine_actions(runs),
            reports={
                "out_dir": bundle.out_dir,
                "html": bundle.html,
                "charts": bundle.charts,
            },
            sandbox=self.sandbox_summary(),
            prefect_api=self.prefect_api,
        )

    def sandbox_summary(self) -> dict[str, Any]:
        assert self.sandbox is not None and self.settings is not None
        label = self.settings.actions.label
        ours = [i["key"] for i in self.sandbox.state.issues() if label in (i.get("fields", {}).get("labels") or [])]
        return {"requests": len(self.sandbox.requests), "our_tickets": sorted(ours), "flavour": self.flavour}


def combine_actions(by_flow: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Planned and applied changes (by operation) over every flow that wrote to Jira, the tickets created
    and every issue written to (tickets, and anchor issues that got comments)."""
    planned: Counter[str] = Counter()
    applied: Counter[str] = Counter()
    for summary in by_flow.values():
        planned.update(summary["planned"])
        applied.update(summary["applied_ops"])
    return {
        "planned": dict(planned),
        "applied": dict(applied),
        "tickets_created": sorted({key for s in by_flow.values() for key in s["created"]}),
        "issues_written": sorted({key for s in by_flow.values() for key in s["tickets"]}),
        "create_calls": sum(s["create_calls"] for s in by_flow.values()),
        "failed": [f for s in by_flow.values() for f in s["failed"]],
        "by_flow": by_flow,
    }


def run_demo(
    seed: Path | None = None,
    out_dir: Path = DEFAULT_OUT,
    progress: Progress | None = None,
    flavour: str = "cloud",
    index_lag: float = 0.0,
) -> DemoResult:
    with DemoSession(seed, out_dir, progress, flavour=flavour, index_lag=index_lag) as session:
        return session.run()
