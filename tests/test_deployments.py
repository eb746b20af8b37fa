"""Deployments: ``build_deployments`` (what ``pmo-gates serve`` serves), ``deployments/prefect.yaml`` (what
``prefect deploy`` registers) and the two agreeing; registration against the real session Prefect server,
read back; the JiraCredentials Block type registered with ``prefect block register``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from pmo_gates.flows.deployments import DEPLOYMENT_NAME, FLOWS, build_deployments, cron_for
from tests.fixtures_flows import make_settings

PREFECT_YAML = Path(__file__).resolve().parents[1] / "deployments" / "prefect.yaml"


def yaml_deployments() -> list[dict[str, Any]]:
    return YAML(typ="safe").load(PREFECT_YAML.read_text())["deployments"]


def schedule_of(deployment: Any) -> tuple[str, str]:
    inner = deployment.schedules[0].schedule
    return inner.cron, inner.timezone


def test_build_deployments_follows_the_config_schedules(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, schedules={"timezone": "Europe/Berlin", "gate_review": "30 6 * * 2", "sync": "*/15 * * * *"}
    )
    config = tmp_path / "pmo-gates.yaml"
    deployments = build_deployments(settings, config, "jira-prod")
    by_flow = {d.flow_name: d for d in deployments}
    assert sorted(by_flow) == sorted(spec.name for spec in FLOWS)
    assert schedule_of(by_flow["gate-review"]) == ("30 6 * * 2", "Europe/Berlin")
    assert schedule_of(by_flow["sync-jira"]) == ("*/15 * * * *", "Europe/Berlin")
    assert schedule_of(by_flow["delay-root-cause"]) == ("0 8 1 * *", "Europe/Berlin")
    for deployment in deployments:
        assert deployment.name == DEPLOYMENT_NAME
        assert deployment.parameters == {"config_path": str(config.resolve()), "credentials_block": "jira-prod"}
        assert deployment.concurrency_limit == 1
        assert deployment.entrypoint.startswith("pmo_gates.flows.")  # module path: works from any directory


def test_every_flow_accepts_the_deployment_parameters() -> None:
    for spec in FLOWS:
        names = set(spec.load().parameters.properties)
        assert {"config_path", "credentials_block"} <= names, spec.name


def test_prefect_yaml_matches_what_serve_builds(tmp_path: Path) -> None:
    """Same flows, same default crons and timezone: deploying and serving schedule the same runs."""
    settings = make_settings(tmp_path)
    from_yaml = {d["entrypoint"]: d for d in yaml_deployments()}
    assert sorted(from_yaml) == sorted(spec.entrypoint for spec in FLOWS)
    for spec in FLOWS:
        entry = from_yaml[spec.entrypoint]
        assert entry["schedules"] == [
            {"cron": cron_for(settings.schedules, spec.schedule_key), "timezone": settings.schedules.timezone}
        ], spec.name
        assert entry["concurrency_limit"] == 1
        assert entry["work_pool"]["name"] == "pmo-gates"
        assert set(entry["parameters"]) == {"config_path", "credentials_block"}


def test_serve_command_serves_every_deployment_without_pausing_on_shutdown(tmp_path: Path, monkeypatch) -> None:
    import prefect

    from pmo_gates.cli import app

    config = tmp_path / "pmo-gates.yaml"
    config.write_text(
        "jira: {url: 'https://example.atlassian.net'}\nportfolio: {projects: [ALPHA]}\n"
        "schedules: {timezone: America/New_York, corrective_actions: '0 5 * * 1-5'}\n"
    )
    served: dict[str, Any] = {}
    monkeypatch.setattr(prefect, "serve", lambda *d, **kw: served.update(deployments=d, **kw))
    result = CliRunner().invoke(app, ["serve", "--config", str(config), "--limit", "3"])
    assert result.exit_code == 0, result.output
    assert served["pause_on_shutdown"] is False and served["limit"] == 3
    by_flow = {d.flow_name: d for d in served["deployments"]}
    assert schedule_of(by_flow["corrective-actions"]) == ("0 5 * * 1-5", "America/New_York")
    assert "corrective-actions" in result.output and "America/New_York" in result.output


def test_serve_command_reports_a_bad_config(tmp_path: Path) -> None:
    from pmo_gates.cli import app

    config = tmp_path / "pmo-gates.yaml"
    config.write_text("jira: {url: 'https://example.atlassian.net'}\nportfolio: {projects: [ALPHA]}\nschedule: {}\n")
    result = CliRunner().invoke(app, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert "schedule" in result.output and "unknown key" in result.output


@pytest.mark.parametrize(
    ("schedules", "message"),
    [
        ({"gate_review": "0 99 * * *"}, "pmo-gates.yaml:3: schedules.gate_review: not a cron expression"),
        ({"timezone": "Mars/Olympus"}, "pmo-gates.yaml:3: schedules.timezone: not an IANA time zone"),
    ],
)
def test_bad_schedules_are_config_errors_naming_the_key(schedules: dict, message: str) -> None:
    """Refused when the config loads, at its file:line, before anything is deployed (issue 10)."""
    import json

    from pmo_gates.config import ConfigError, parse_settings

    text = (
        f"jira: {{url: 'http://127.0.0.1:9'}}\nportfolio: {{projects: [ALPHA]}}\nschedules: {json.dumps(schedules)}\n"
    )
    with pytest.raises(ConfigError) as raised:
        parse_settings(text, "pmo-gates.yaml")
    assert str(raised.value).startswith(message)


# ---- against the real Prefect server ---------------------------------------------------------------


def prefect_cli(args: list[str], api_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PREFECT_API_URL": api_url, **env}
    return subprocess.run(
        [sys.executable, "-m", "prefect", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=240
    )


@pytest.mark.prefect
def test_prefect_deploy_registers_every_flow_with_its_schedule(prefect_api: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    pool = prefect_cli(["work-pool", "create", "pmo-gates", "--type", "process", "--overwrite"], prefect_api, tmp_path)
    assert pool.returncode == 0, pool.stdout + pool.stderr
    done = prefect_cli(
        ["--no-prompt", "deploy", "--all"], prefect_api, PREFECT_YAML.parent, PMO_GATES_WORKDIR=str(tmp_path)
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with get_client(sync_client=True) as client:
        for entry in yaml_deployments():
            flow_name = next(spec.name for spec in FLOWS if spec.entrypoint == entry["entrypoint"])
            deployment = client.read_deployment_by_name(f"{flow_name}/{entry['name']}")
            schedules = [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules]
            assert schedules == [(s["cron"], s["timezone"], True) for s in entry["schedules"]], flow_name
            assert deployment.work_pool_name == "pmo-gates"
            assert deployment.parameters == entry["parameters"]
            assert deployment.global_concurrency_limit is not None
            assert deployment.global_concurrency_limit.limit == 1
            assert deployment.pull_steps == [
                {"prefect.deployments.steps.set_working_directory": {"directory": str(tmp_path)}}
            ]


@pytest.mark.prefect
def test_served_deployments_register_with_the_config_schedules(prefect_api: str, tmp_path: Path) -> None:
    """What ``pmo-gates serve`` registers when it starts, read back from the server."""
    from prefect.client.orchestration import get_client

    settings = make_settings(tmp_path, schedules={"timezone": "Asia/Tokyo", "delay_root_cause": "0 9 2 * *"})
    deployments = build_deployments(settings, tmp_path / "pmo-gates.yaml")
    with get_client(sync_client=True) as client:
        for deployment in deployments:
            deployment_id = deployment.apply()
            stored = client.read_deployment(deployment_id)
            assert [(s.schedule.cron, s.schedule.timezone) for s in stored.schedules] == [schedule_of(deployment)]
    by_flow = {d.flow_name: d for d in deployments}
    assert schedule_of(by_flow["delay-root-cause"]) == ("0 9 2 * *", "Asia/Tokyo")


@pytest.mark.prefect
def test_jira_credentials_block_registers_with_prefect(prefect_api: str, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    done = prefect_cli(["block", "register", "-m", "pmo_gates.connectors.credentials"], prefect_api, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    with get_client(sync_client=True) as client:
        block_type = client.read_block_type_by_slug("jira-credentials")
        schema = client.get_most_recent_block_schema_for_block_type(block_type.id)
    assert block_type.name == "Jira Credentials"
    assert schema is not None and "token" in schema.fields["properties"]
    assert "token" in schema.fields["secret_fields"]
