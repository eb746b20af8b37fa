"""``pmo-gates sync`` and ``pmo-gates snapshot export`` against the sandbox, and the export round trip:
a snapshot exported from the sandbox serves the same portfolio again."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.config import load_settings
from pmo_gates.connectors.export import export_snapshot
from pmo_gates.sandbox import Snapshot
from tests.fixtures_connector import TOKEN, FakeClock, connection
from tests.fixtures_sync import portfolio, project_keys, run_sync, serve, served, stored, write_sandbox_config

ENV = {"PMO_GATES_TEST_TOKEN": TOKEN}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_sync_command_prints_the_result_as_json(runner, tmp_path, flavour):
    with serve(portfolio(), flavour) as sb:
        cfg = write_sandbox_config(tmp_path, sb.url, project_keys(sb), flavour=flavour, page_size=10)
        result = runner.invoke(app, ["sync", "--config", str(cfg), "--json"], env=ENV)
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["mode"] == "full" and data["issues_upserted"] == served(sb)["issues"]
        again = runner.invoke(app, ["sync", "--config", str(cfg)], env=ENV)
        assert again.exit_code == 0 and "incremental" in again.stdout and "issues stored" in again.stdout
        assert TOKEN not in result.output + again.output


def test_sync_command_reports_config_errors_clearly(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("jira:\n  url: ftp://nowhere\nportfolio:\n  projects: [A]\n")
    result = runner.invoke(app, ["sync", "--config", str(bad)], env=ENV)
    assert result.exit_code == 2 and "bad.yaml:2: jira.url: must start with http:// or https://" in result.output

    good = write_sandbox_config(tmp_path, "http://127.0.0.1:9", ["A"], page_size=10)
    result = runner.invoke(app, ["sync", "--config", str(good)], env={})
    assert result.exit_code == 2 and "PMO_GATES_TEST_TOKEN is not set" in result.output

    missing = runner.invoke(app, ["sync", "--config", str(tmp_path / "nope.yaml")], env=ENV)
    assert missing.exit_code == 2 and "config file not found" in missing.output


def test_sync_command_reports_jira_failures_without_secrets(runner, tmp_path):
    with serve(portfolio(), "cloud") as sb:
        cfg = write_sandbox_config(tmp_path, sb.url, project_keys(sb), page_size=10)
        result = runner.invoke(app, ["sync", "--config", str(cfg)], env={"PMO_GATES_TEST_TOKEN": "wrong-token-123"})
        assert result.exit_code == 1
        assert "HTTP 401" in result.output and "wrong-token-123" not in result.output


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_export_round_trip(runner, tmp_path, flavour, sqlite_store):
    out = tmp_path / "exported.json"
    with serve(portfolio(), flavour) as sb:
        cfg = write_sandbox_config(tmp_path, sb.url, project_keys(sb), flavour=flavour, page_size=10)
        result = runner.invoke(app, ["snapshot", "export", "--config", str(cfg), "--out", str(out), "--json"], env=ENV)
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        original = served(sb)
        assert sb.requests.writes() == []
    snap = Snapshot.load(out)
    assert summary["issues"] == len(snap.issues) == original["issues"]
    assert {p.key for p in snap.projects} == set(project_keys(sb))
    assert snap.users and snap.fields and snap.issue_link_types
    # Served again, the export is the same portfolio: a sync stores the same rows.
    with serve(snap, flavour) as again:
        run_sync(again, sqlite_store, full=True)
        have = stored(sqlite_store)
        assert {k: have[k] for k in original} == original


def test_export_completes_truncated_histories(tmp_path):
    from pmo_gates.sandbox import SandboxLimits

    with serve(portfolio(), "cloud", limits=SandboxLimits(search_changelog_histories=1)) as sb:
        settings = load_settings(write_sandbox_config(tmp_path, sb.url, project_keys(sb), page_size=10))
        conn = connection(sb.url, page_size=10)
        result = export_snapshot(conn, settings, tmp_path / "out.json", sleep=FakeClock().sleep)
        want = {i["key"]: len(i["changelog"]["histories"]) for i in sb.state.issues()}
    snap = Snapshot.load(tmp_path / "out.json")
    assert {i["key"]: len(i["changelog"]["histories"]) for i in snap.issues} == want
    assert result.http_requests["POST /rest/api/2/changelog/bulkfetch"] >= 1
