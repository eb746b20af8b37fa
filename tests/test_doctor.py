"""``pmo-gates doctor``: every gap between a Jira and what gate reviews need, each with its fix."""

from __future__ import annotations

import json
import socket
import time

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.sandbox import SandboxServer
from tests.fixtures_onboarding import EMAIL, TOKEN, TOKEN_ENV, bare_small, small, write_config
from tests.fixtures_sandbox import FLAVOURS, contract


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PMO_GATES_DATABASE_URL", raising=False)


def doctor(config, *extra: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["doctor", "--config", str(config), "--json", *extra])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def by_id(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


def keys(snapshot) -> list[str]:
    return [p.key for p in snapshot.projects]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_ready_jira_passes(tmp_path, flavour) -> None:
    with SandboxServer(small(), flavour=flavour, auth=(EMAIL, TOKEN), validate=contract()) as sb:
        config = write_config(tmp_path, sb.url, keys(small()))
        if flavour == "dc":
            config.write_text(config.read_text().replace(f"email: {EMAIL}, ", ""))  # DC: a PAT, no e-mail
        code, report = doctor(config)
        checks = by_id(report)
        assert code == 0 and report["ok"] and report["blocking"] == []
        for key in ("jira.reachable", "jira.auth", "portfolio.projects", "anchor.issue_type", "field.phase", "store"):
            assert checks[key]["status"] == "ok", checks[key]
        for project in keys(small()):
            assert checks[f"anchor.{project}"]["status"] in ("ok", "warn")
        assert checks["permission.ADD_COMMENTS"]["status"] == "ok"
        assert sb.contract_violations == []


def test_a_bare_jira_gets_every_gap_listed_with_a_fix(tmp_path) -> None:
    with SandboxServer(bare_small(), auth=(EMAIL, TOKEN), validate=contract()) as sb:
        code, report = doctor(write_config(tmp_path, sb.url, keys(bare_small())))
        checks = by_id(report)
        assert code == 1 and not report["ok"]
        assert checks["field.phase"]["status"] == "fail" and checks["field.phase"]["blocking"]
        assert "init --create-fields" in checks["field.phase"]["fix"]
        for field in ("planned_end", "budget", "project_manager"):
            assert checks[f"field.{field}"]["status"] == "warn"
        assert checks["field.story_points"]["status"] == "ok"  # Jira Software's own field is still there
        for project in keys(bare_small()):
            anchor = checks[f"anchor.{project}"]
            assert anchor["status"] == "fail" and anchor["blocking"]
            assert f"--create-anchors {project}" in anchor["fix"]
        assert set(report["blocking"]) == {"field.phase", *(f"anchor.{p}" for p in keys(bare_small()))}
        assert sb.contract_violations == []


def test_near_miss_field_names_are_suggested(tmp_path) -> None:
    with SandboxServer(small(), auth=(EMAIL, TOKEN)) as sb:
        extra = "fields:\n  planned_end: Planed End\n  budget: budget\n"
        code, report = doctor(write_config(tmp_path, sb.url, keys(small()), extra=extra))
        checks = by_id(report)
        assert checks["field.planned_end"]["status"] == "warn"
        assert "'Planned End'" in checks["field.planned_end"]["fix"]
        assert checks["field.budget"]["status"] == "warn" and "fields.budget: Budget" in checks["field.budget"]["fix"]
        assert code == 0  # neither blocks a review


def test_missing_permissions_are_named_per_project(tmp_path) -> None:
    with SandboxServer(small(), auth=(EMAIL, TOKEN)) as sb:
        sb.state.site.denied_permissions.update({"ADD_COMMENTS", "TRANSITION_ISSUES"})
        code, report = doctor(write_config(tmp_path, sb.url, keys(small())))
        checks = by_id(report)
        assert code == 1 and report["blocking"] == ["permission.ADD_COMMENTS"]
        assert all(p in checks["permission.ADD_COMMENTS"]["detail"] for p in keys(small()))
        assert checks["permission.TRANSITION_ISSUES"]["status"] == "warn"
        assert checks["permission.BROWSE_PROJECTS"]["status"] == "ok"


def test_unknown_projects_and_a_wrong_token_are_reported(tmp_path, monkeypatch) -> None:
    with SandboxServer(small(), auth=(EMAIL, TOKEN)) as sb:
        code, report = doctor(write_config(tmp_path, sb.url, [*keys(small()), "NOPE"]))
        assert code == 1 and "NOPE" in by_id(report)["portfolio.projects"]["detail"]
        monkeypatch.setenv(TOKEN_ENV, "wrong-token")
        code, report = doctor(write_config(tmp_path, sb.url, keys(small())))
        auth = by_id(report)["jira.auth"]
        assert code == 1 and auth["status"] == "fail" and "401" in auth["detail"] and TOKEN_ENV in auth["fix"]
        assert "wrong-token" not in json.dumps(report)


def test_a_refused_connection_fails_fast_and_names_jira_url(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    url = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    result = CliRunner().invoke(app, ["doctor", "--config", str(write_config(tmp_path, url, ["A"]))])
    assert time.monotonic() - began < 5
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"cannot connect to jira.url {url}: connection refused" in result.output
    assert "fix: check jira.url" in result.output


def test_store_and_prefect_problems(tmp_path, monkeypatch) -> None:
    with SandboxServer(small(), auth=(EMAIL, TOKEN)) as sb:
        monkeypatch.setenv("PMO_GATES_DATABASE_URL", "postgresql+psycopg://pmo:s3cret@127.0.0.1:1/nope")
        monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:1/api")
        code, report = doctor(write_config(tmp_path, sb.url, keys(small())))
        checks = by_id(report)
        assert code == 1 and checks["store"]["status"] == "fail" and checks["store"]["blocking"]
        assert "s3cret" not in json.dumps(report) and "127.0.0.1:1/nope" in checks["store"]["detail"]
        assert checks["prefect"]["status"] == "fail" and not checks["prefect"]["blocking"]
        assert "PREFECT_API_URL" in checks["prefect"]["detail"]


def test_a_store_behind_the_newest_migration_is_a_warning(tmp_path, monkeypatch) -> None:
    from sqlalchemy import text

    from pmo_gates.store import Store

    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    store.dispose()
    with SandboxServer(small(), auth=(EMAIL, TOKEN)) as sb:
        code, report = doctor(write_config(tmp_path, sb.url, keys(small())))
        store_check = by_id(report)["store"]
        assert store_check["status"] == "warn" and "0001" in store_check["detail"] and code == 0


def test_data_center_gaps_are_found_the_same_way(tmp_path) -> None:
    with SandboxServer(bare_small(), flavour="dc", auth=(EMAIL, TOKEN), validate=contract()) as sb:
        config = write_config(tmp_path, sb.url, keys(bare_small()))
        config.write_text(config.read_text().replace(f"email: {EMAIL}, ", ""))  # DC: a PAT, no e-mail
        code, report = doctor(config)
        checks = by_id(report)
        assert code == 1 and checks["jira.auth"]["status"] == "ok"
        assert "Jira Data Center" in checks["jira.auth"]["detail"]
        assert checks["field.phase"]["status"] == "fail"
        assert all(checks[f"anchor.{p}"]["status"] == "fail" for p in keys(bare_small()))
        assert checks["permission.BROWSE_PROJECTS"]["status"] == "ok"


def test_a_project_without_the_anchor_issue_type_is_named(tmp_path) -> None:
    snapshot = small()
    first = snapshot.projects[0]
    types = [t for t in first.model_extra["issueTypes"] if t["name"] != "Project"]
    stripped = first.model_copy(update={"issueTypes": types})
    stripped.__pydantic_extra__["issueTypes"] = types
    anchors = {i["key"] for i in snapshot.issues if i["fields"]["issuetype"]["name"] == "Project"}
    changed = snapshot.model_copy(
        update={
            "projects": [stripped, *snapshot.projects[1:]],
            "issues": [
                i for i in snapshot.issues if not (i["key"] in anchors and i["key"].startswith(first.key + "-"))
            ],
        }
    )
    with SandboxServer(changed, auth=(EMAIL, TOKEN)) as sb:
        code, report = doctor(write_config(tmp_path, sb.url, keys(snapshot)))
        checks = by_id(report)
        assert code == 1 and checks["anchor.issue_type"]["status"] == "fail"
        assert first.key in checks["anchor.issue_type"]["detail"] and first.key in checks["anchor.issue_type"]["fix"]
        assert f"anchor.{first.key}" not in checks  # its anchors are not looked for
        assert all(checks[f"anchor.{p}"]["status"] in ("ok", "warn") for p in keys(snapshot)[1:])


def test_a_stale_prefect_api_url_in_the_active_profile_is_found(tmp_path, monkeypatch) -> None:
    home = tmp_path / "prefect-home"
    home.mkdir()
    (home / "profiles.toml").write_text(
        'active = "team"\n[profiles.default]\n[profiles.team]\nPREFECT_API_URL = "http://127.0.0.1:1/api"\n'
    )
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    with SandboxServer(small(), auth=(EMAIL, TOKEN)) as sb:
        code, report = doctor(write_config(tmp_path, sb.url, keys(small())))
        prefect = by_id(report)["prefect"]
        assert prefect["status"] == "fail" and "profile 'team'" in prefect["detail"]
        assert "http://127.0.0.1:1/api" in prefect["detail"] and code == 0


def test_a_database_url_that_is_no_url_is_reported_not_raised(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PMO_GATES_DATABASE_URL", "not a url at all")
    with SandboxServer(small(), auth=(EMAIL, TOKEN)) as sb:
        code, report = doctor(write_config(tmp_path, sb.url, keys(small())))
        store = by_id(report)["store"]
        assert code == 1 and store["status"] == "fail" and "not a SQLAlchemy URL" in store["detail"]
