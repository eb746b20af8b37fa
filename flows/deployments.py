"""Every pmo-gates flow as a scheduled deployment, built from the config file's ``schedules``.

The config's ``schedules`` section (crons and one timezone) is the single source of truth for both ways
of deploying:

- ``pmo-gates serve`` serves ``build_deployments(...)`` in one process, as deployments named
  ``<flow>/pmo-gates-serve``;
- ``pmo-gates deployments`` writes ``prefect.yaml`` (``render_prefect_yaml``) for ``prefect deploy`` and a
  process work pool, as deployments named ``<flow>/pmo-gates``. The shipped ``deployments/prefect.yaml``
  is this file rendered from the default schedules (a test keeps them equal).

The two name sets differ, so serving never overwrites the pool deployments (their pull steps, parameters
and work pool) and a scheduled run is picked up by exactly one of them. Entrypoints are module paths, so a
run loads the installed package whatever the working directory is.

Example::

    from prefect import serve
    serve(*build_deployments(load_settings("pmo-gates.yaml"), "pmo-gates.yaml"), pause_on_shutdown=False)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect import Flow
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, Schedule
from prefect.types.entrypoint import EntrypointType
from prefect.utilities.importtools import import_object
from pydantic import BaseModel, ConfigDict

from pmo_gates.config import ConfigError, ScheduleConfig, Settings

POOL_DEPLOYMENT_NAME = "pmo-gates"
SERVE_DEPLOYMENT_NAME = "pmo-gates-serve"
DEFAULT_POOL = "pmo-gates"
# Kept for callers of the old name: the pool deployments' name.
DEPLOYMENT_NAME = POOL_DEPLOYMENT_NAME
TAGS = ["pmo-gates"]
# What a pool deployment passes by default: the config file relative to PMO_GATES_WORKDIR on the worker, and
# the name of a saved JiraCredentials Block.
POOL_CONFIG_PATH = "pmo-gates.yaml"
POOL_CREDENTIALS_BLOCK = "jira"


class FlowSpec(BaseModel):
    """One flow: its Prefect name, where it lives and which ``schedules`` key times it."""

    model_config = ConfigDict(frozen=True)

    name: str
    entrypoint: str
    schedule_key: str
    description: str

    def load(self) -> Flow[..., Any]:
        flow = import_object(self.entrypoint)
        if not isinstance(flow, Flow):
            raise TypeError(f"{self.entrypoint} is not a Prefect flow")
        return flow


FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec(
        name="sync-jira",
        entrypoint="pmo_gates.flows.sync.sync_jira",
        schedule_key="sync",
        description="Sync the portfolio from Jira into the store (incremental).",
    ),
    FlowSpec(
        name="gate-review",
        entrypoint="pmo_gates.flows.gate_review.gate_review",
        schedule_key="gate_review",
        description="Score every project against its gate, record decisions, comment in Jira.",
    ),
    FlowSpec(
        name="corrective-actions",
        entrypoint="pmo_gates.flows.corrective_actions.corrective_actions",
        schedule_key="corrective_actions",
        description="Plan corrective-action tickets, optionally wait for approval, apply the plan.",
    ),
    FlowSpec(
        name="delay-root-cause",
        entrypoint="pmo_gates.flows.delay_root_cause.delay_root_cause",
        schedule_key="delay_root_cause",
        description="Monthly root-cause analysis of delayed projects, with comments and corrective actions.",
    ),
    FlowSpec(
        name="portfolio-report",
        entrypoint="pmo_gates.flows.portfolio_report.portfolio_report",
        schedule_key="portfolio_report",
        description="Portfolio reports: ranking, resources, cost, goals, quality, trends.",
    ),
)


def cron_for(schedules: ScheduleConfig, key: str) -> str:
    value = getattr(schedules, key, None)
    if not value:
        raise ConfigError(f"schedules.{key}: no cron configured")
    return str(value)


def check_timezone(schedules: ScheduleConfig) -> str:
    try:
        ZoneInfo(schedules.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"schedules.timezone: unknown time zone {schedules.timezone!r} (use an IANA name)") from None
    return schedules.timezone


def schedule_for(schedules: ScheduleConfig, key: str) -> Schedule:
    """The cron schedule of ``schedules.<key>`` in ``schedules.timezone``; a bad value is a ConfigError."""
    timezone = check_timezone(schedules)
    cron = cron_for(schedules, key)
    try:
        return Cron(cron, timezone=timezone)
    except ValueError:
        raise ConfigError(f"schedules.{key}: invalid cron expression {cron!r}") from None


def deployment_parameters(config_path: str | Path, credentials_block: str | None) -> dict[str, Any]:
    """The parameters every scheduled run gets: where the config is, and which Block holds the token."""
    return {"config_path": str(config_path), "credentials_block": credentials_block}


def build_deployments(
    settings: Settings,
    config_path: str | Path,
    credentials_block: str | None = None,
    *,
    specs: tuple[FlowSpec, ...] = FLOWS,
    name: str = SERVE_DEPLOYMENT_NAME,
) -> list[RunnerDeployment]:
    """What ``pmo-gates serve`` serves: one deployment per flow named ``<flow>/pmo-gates-serve``, each on its
    cron in ``settings.schedules.timezone``, one run at a time."""
    parameters = deployment_parameters(Path(config_path).resolve(), credentials_block)
    deployments = []
    for spec in specs:
        flow = spec.load()
        deployments.append(
            flow.to_deployment(
                name=name,
                schedules=[schedule_for(settings.schedules, spec.schedule_key)],
                parameters=parameters,
                concurrency_limit=1,
                description=spec.description,
                tags=TAGS,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments


# ---- prefect.yaml ------------------------------------------------------------------------------------

_HEADER = """\
# Every pmo-gates flow as a Prefect deployment on its schedule, run by workers of a process work pool.
# GENERATED by `pmo-gates deployments` from the config's `schedules` section: do not edit by hand.
# Regenerate after changing the crons or the timezone in pmo-gates.yaml:
#
#   pmo-gates deployments --config pmo-gates.yaml --output prefect.yaml
#
# Deploy (once per Prefect server, then whenever this file changes):
#
#   prefect work-pool create {pool} --type process
#   prefect block register -m pmo_gates.connectors.credentials   # then save a Jira Credentials block "jira"
#   prefect --no-prompt deploy --all --prefect-file prefect.yaml
#   PMO_GATES_WORKDIR=/srv/pmo-gates prefect worker start --pool {pool}   # on each machine that runs flows
#
# Flow code is loaded by module path from the pmo-gates installed on the worker. Each run reads
# PMO_GATES_WORKDIR from the *worker's* environment when it starts, changes into that folder and reads
# `config_path` there, so relative paths in the config (rules, reports, SQLite) resolve on the worker.
# `pmo-gates serve` registers the same flows as `<flow>/pmo-gates-serve`, so the two never overwrite each other.
"""


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value)


def render_prefect_yaml(
    schedules: ScheduleConfig, *, pool: str = DEFAULT_POOL, specs: tuple[FlowSpec, ...] = FLOWS
) -> str:
    """``prefect.yaml`` for a process work pool, with the crons and timezone of ``schedules``."""
    timezone = check_timezone(schedules)
    lines = [
        _HEADER.format(pool=pool),
        "name: pmo-gates",
        "prefect-version: 3.8.8",
        "",
        "build: null",
        "push: null",
        "# No pull step: prefect deploy would resolve an env var template here, on the deploying machine; the run",
        "# reads PMO_GATES_WORKDIR itself, on the worker. `[]` (not null) stops prefect deploy adding its own.",
        "pull: []",
        "",
        "definitions:",
        "  work_pools:",
        "    process_pool: &process_pool",
        f"      name: {_q(pool)}",
        "      work_queue_name: default",
        "      job_variables: {}",
        "  parameters: &parameters",
        "    # Relative to PMO_GATES_WORKDIR on the worker (resolved when the run starts).",
        f"    config_path: {_q(POOL_CONFIG_PATH)}",
        "    # Name of a saved JiraCredentials Block; null reads the token from the env var the config names.",
        f"    credentials_block: {_q(POOL_CREDENTIALS_BLOCK)}",
        "  tags: &tags",
        *[f"    - {_q(tag)}" for tag in TAGS],
        "",
        "deployments:",
    ]
    for spec in specs:
        cron = str(schedule_for(schedules, spec.schedule_key).cron)  # type: ignore[attr-defined]
        lines += [
            f"  - name: {_q(POOL_DEPLOYMENT_NAME)}",
            f"    entrypoint: {_q(spec.entrypoint)}",
            f"    description: {_q(spec.description)}",
            "    tags: *tags",
            "    parameters: *parameters",
            "    work_pool: *process_pool",
            "    concurrency_limit: 1",
            "    schedules:",
            f"      - cron: {_q(cron)}",
            f"        timezone: {_q(timezone)}",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"
