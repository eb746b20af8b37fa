"""Every pmo-gates flow as a scheduled deployment, built from the config file's ``schedules``.

``pmo-gates serve`` serves these in one process; ``deployments/prefect.yaml`` describes the same set for
``prefect deploy`` and a work pool (a test keeps the two in agreement). Entrypoints are module paths, so a
run loads the installed package whatever the working directory is.

Example::

    from prefect import serve
    serve(*build_deployments(load_settings("pmo-gates.yaml"), "pmo-gates.yaml"), pause_on_shutdown=False)
"""

from __future__ import annotations

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

DEPLOYMENT_NAME = "pmo-gates"
TAGS = ["pmo-gates"]


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


def schedule_for(schedules: ScheduleConfig, key: str) -> Schedule:
    """The cron schedule of ``schedules.<key>`` in ``schedules.timezone``; a bad value is a ConfigError."""
    try:
        ZoneInfo(schedules.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"schedules.timezone: unknown time zone {schedules.timezone!r} (use an IANA name)") from None
    cron = cron_for(schedules, key)
    try:
        return Cron(cron, timezone=schedules.timezone)
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
) -> list[RunnerDeployment]:
    """One deployment per flow, each on its cron in ``settings.schedules.timezone``, one run at a time."""
    parameters = deployment_parameters(Path(config_path).resolve(), credentials_block)
    deployments = []
    for spec in specs:
        flow = spec.load()
        deployments.append(
            flow.to_deployment(
                name=DEPLOYMENT_NAME,
                schedules=[schedule_for(settings.schedules, spec.schedule_key)],
                parameters=parameters,
                concurrency_limit=1,
                description=spec.description,
                tags=TAGS,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return deployments
