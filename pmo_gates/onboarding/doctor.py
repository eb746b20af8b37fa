"""``pmo-gates doctor``: every check in order; Jira checks stop early when Jira cannot be reached or
refuses the credentials, the local checks run regardless."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pmo_gates.config import RetryConfig, Settings
from pmo_gates.connectors.client import build_client
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.connectors.errors import JiraAuthError, JiraConfigError, JiraConnectorError
from pmo_gates.onboarding import jira_checks
from pmo_gates.onboarding.local_checks import check_prefect, check_store
from pmo_gates.onboarding.reach import probe_server
from pmo_gates.onboarding.report import Check, DoctorReport

# Doctor answers in seconds: one attempt per request and short waits (a sync retries, doctor reports).
FAST_RETRY = RetryConfig(max_attempts=2, max_total_seconds=15, max_wait_seconds=5, initial_wait_seconds=0.5)


def fast_connection(settings: Settings, env: Mapping[str, str]) -> JiraConnection:
    connection = JiraConnection.from_settings(settings, env)
    return connection.model_copy(update={"retry": FAST_RETRY, "connect_timeout": min(connection.connect_timeout, 5.0)})


def run_doctor(settings: Settings, env: Mapping[str, str] | None = None) -> DoctorReport:
    env = os.environ if env is None else env
    report = DoctorReport()
    _jira(settings, env, report)
    check_store(env.get("PMO_GATES_DATABASE_URL") or settings.database.url, report)
    check_prefect(env, report)
    return report


def _jira(settings: Settings, env: Mapping[str, str], report: DoctorReport) -> None:
    reach, _info = probe_server(settings.jira.url, timeout=min(settings.jira.connect_timeout, 5.0))
    report.add(reach)
    if reach.status == "fail":
        return
    try:
        connection = fast_connection(settings, env)
    except JiraConfigError as exc:
        report.add(
            Check(
                id="jira.auth",
                status="fail",
                detail=str(exc),
                fix=f"export {settings.jira.auth.token_env}=<token>",
                blocking=True,
            )
        )
        return
    client = None
    try:
        try:
            client = build_client(connection)
        except JiraAuthError as exc:  # serverInfo with the credentials: the flavour is read first
            report.add(jira_checks.auth_failure(exc, settings))
            return
        if jira_checks.check_auth(client, report, settings) is None:
            return
        projects = jira_checks.check_projects(client, report, settings)
        keys = sorted(projects)
        jira_checks.check_permissions(client, report, keys)
        matches = jira_checks.check_fields(client, report, settings)
        usable = jira_checks.check_anchor_type(client, report, settings, projects)
        if usable:
            jira_checks.check_anchors(client, report, settings, usable, matches)
    except JiraConnectorError as exc:
        report.add(Check(id="jira", status="fail", detail=f"Jira request failed: {exc}", blocking=True))
    finally:
        if client is not None:
            client.close()
