"""Bad data is stored as far as it is valid and reported by key and field; bad configuration fails with a
clear message; the token never appears in a message, a log line or the store."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text

from pmo_gates.config import Settings
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.connectors.errors import JiraAuthError, JiraConfigError
from pmo_gates.connectors.sync import sync_portfolio
from pmo_gates.sandbox import CF, SandboxServer
from pmo_gates.store.models import Base, Issue, Project, SyncRun
from tests.fixtures_connector import EMAIL, TOKEN, FakeClock, connection
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sync import UNPACED, config, contract, portfolio, run_sync, serve, served, stored

LEGACY_SPRINT = (
    "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=7,rapidViewId=3,state=ACTIVE,name=Legacy 7,goal=]"
)


def _broken_portfolio():
    """The test portfolio with bad values planted in known places."""
    snap = portfolio().model_copy(deep=True)
    by_key = {i["key"]: i for i in snap.issues}
    anchor = next(i for i in snap.issues if i["fields"]["issuetype"]["name"] == "Project")
    anchor["fields"][CF["Budget"]] = "about a million"
    anchor["fields"][CF["Planned End"]] = "end of Q3"
    anchor["fields"][CF["PMO Phase"]] = {"value": "Gardening", "id": "1"}
    story = next(i for i in snap.issues if i["fields"]["issuetype"]["name"] == "Story")
    story["fields"]["summary"] = "Nul\x00 byte and emoji \U0001f680 and RTL \u202eabc"
    story["fields"][CF["Story Points"]] = "five"
    story["fields"]["duedate"] = "someday"
    story["fields"][CF["Sprint"]] = [LEGACY_SPRINT]
    story["fields"]["customfield_99999"] = {"weird": ["\u0007", None, 1e308]}
    other = next(i for i in snap.issues if i["key"] not in (anchor["key"], story["key"]))
    other["fields"]["priority"] = {"id": "9", "name": "P" * 50}
    return snap, by_key, anchor["key"], story["key"], other["key"]


def test_bad_values_are_stored_as_far_as_valid_and_reported_by_key(store, sandbox_flavour):
    snap, _, anchor, story, other = _broken_portfolio()
    with serve(snap, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as sb:
        result = run_sync(sb, store, full=True, cfg=config(sb, **UNPACED))
        want, have = served(sb), stored(store)
        assert {k: have[k] for k in want} == want  # nothing was dropped
    problems = {(e.key, e.field) for e in result.data_errors}
    assert {
        (anchor, "budget"),
        (anchor, "planned_end"),
        (anchor, "phase"),
        (story, "summary"),
        (story, "story_points"),
        (story, "duedate"),
        (other, "priority"),
    } <= problems
    assert result.data_errors_total == len(result.data_errors)
    project_key = anchor.split("-")[0]
    with store.session() as s:
        project = s.get(Project, project_key)
        assert project.budget is None and project.planned_end is None and project.phase is None
        assert project.planned_start is not None and project.hourly_rate is not None  # the rest is kept
        row = s.scalars(select(Issue).where(Issue.key == story)).one()
        assert row.summary == "Nul byte and emoji \U0001f680 and RTL \u202eabc"
        assert row.story_points is None and row.due_date is None and row.sprint == "Legacy 7"
        assert any(e.startswith("story_points: not a number") for e in row.data_errors)
        assert s.scalar(select(Issue.priority).where(Issue.key == other)) == "P" * 32


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_unknown_configured_field_warns_and_the_sync_goes_on(sqlite_store, flavour):
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = config(sb, fields={"budget": "Budgett", "charter": "Project Charter"}, **UNPACED)
        result = run_sync(sb, sqlite_store, full=True, cfg=cfg)
        assert any("fields.budget" in w and "'Budgett'" in w for w in result.warnings)
        assert any("fields.charter" in w for w in result.warnings)
        with sqlite_store.session() as s:
            projects = s.scalars(select(Project)).all()
        assert projects and all(p.budget is None and p.charter_url is None for p in projects)
        assert all(p.planned_end is not None for p in projects)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_unknown_project_is_left_out_with_a_warning(sqlite_store, flavour):
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = config(sb, **UNPACED)
        cfg = cfg.model_copy(
            update={"portfolio": cfg.portfolio.model_copy(update={"projects": [*cfg.portfolio.projects, "NOPE"]})}
        )
        result = run_sync(sb, sqlite_store, full=True, cfg=cfg)
        assert any("NOPE" in w for w in result.warnings)
        assert stored(sqlite_store)["issues"] == served(sb)["issues"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_invalid_portfolio_jql_is_a_config_error(sqlite_store, flavour):
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        cfg = config(sb, **UNPACED)
        cfg = cfg.model_copy(update={"portfolio": cfg.portfolio.model_copy(update={"jql": "status = = Done"})})
        with pytest.raises(JiraConfigError, match=r"portfolio\.projects and portfolio\.jql"):
            run_sync(sb, sqlite_store, full=True, cfg=cfg)


def test_missing_token_variable_is_a_config_error():
    settings = Settings.model_validate(
        {"jira": {"url": "https://x.example", "auth": {"token_env": "NO_SUCH_VAR"}}, "portfolio": {"projects": ["A"]}}
    )
    with pytest.raises(JiraConfigError, match="NO_SUCH_VAR is not set"):
        JiraConnection.from_settings(settings, env={})
    conn = JiraConnection.from_settings(settings, env={"NO_SUCH_VAR": TOKEN})
    assert TOKEN not in repr(conn) and TOKEN not in str(conn.model_dump())


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_token_never_leaks(store, flavour, caplog):
    caplog.set_level(logging.DEBUG)
    right = (EMAIL, "the-right-token")
    with SandboxServer(portfolio(), flavour=flavour, auth=right, validate=contract(), index_lag=STRICT_INDEX_LAG) as sb:
        cfg = config(sb)
        conn = connection(sb.url, flavour=flavour, email=EMAIL if flavour == "cloud" else None)
        with pytest.raises(JiraAuthError) as info:
            sync_portfolio(conn, store, cfg, full=True, sleep=FakeClock().sleep)
        assert sb.contract_violations == []
    message = str(info.value)
    assert "HTTP 401" in message and "token" in message
    with store.session() as s:
        run = s.scalars(select(SyncRun)).one()
        assert run.status == "failed" and "HTTP 401" in run.error
    for text_ in (message, repr(info.value), caplog.text, _everything_stored(store)):
        assert TOKEN not in text_


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_successful_sync_stores_no_secret(sqlite_store, caplog, flavour):
    caplog.set_level(logging.DEBUG)
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        result = run_sync(sb, sqlite_store, full=True, cfg=config(sb, **UNPACED))
    assert TOKEN not in _everything_stored(sqlite_store) and TOKEN not in caplog.text
    assert TOKEN not in result.model_dump_json()


def _everything_stored(store) -> str:
    """Every row of every table, as text."""
    parts = []
    with store.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table.name}"'))]
    return "\n".join(parts)
