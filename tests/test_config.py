"""The config file: validated when it loads, every mistake named by file:line and key; secrets stay out."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmo_gates.config import ConfigError, load_settings, parse_settings

GOOD = """\
jira:
  url: https://example.atlassian.net
  auth: {email: pmo@example.com}
portfolio:
  projects: [ALPHA]
"""


def test_defaults_fill_everything_but_jira_and_portfolio() -> None:
    settings = parse_settings(GOOD, "pmo-gates.yaml")
    assert settings.jira.flavour == "auto" and settings.jira.markup == "wiki"
    assert settings.database.url == "sqlite:///pmo-gates.db"
    assert settings.schedules.portfolio_report == "0 9 * * 1"


def test_every_error_names_file_line_and_key_at_once() -> None:
    text = GOOD.replace("  projects: [ALPHA]\n", "  projects: [ALPHA]\n  colour: blue\n") + (
        "sync:\n  overlap_minutes: -1\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "pmo-gates.yaml")
    lines = str(caught.value).splitlines()
    assert "pmo-gates.yaml:6: portfolio.colour: unknown key" in lines
    assert any(line.startswith("pmo-gates.yaml:8: sync.overlap_minutes: ") for line in lines)
    assert len(lines) == 2


def test_yaml_syntax_errors_give_line_and_column() -> None:
    with pytest.raises(ConfigError, match=r"^cfg.yaml:2:\d+: YAML syntax error"):
        parse_settings("jira:\n  url: x: y: z\nportfolio: {}\n", "cfg.yaml")


def test_a_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(GOOD.replace("https://example", "https://bot:s3cret@example"), "c.yaml")
    assert "jira.url: must not embed credentials" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_adf_needs_cloud() -> None:
    with pytest.raises(ConfigError, match=r"jira.markup: adf needs Jira Cloud"):
        parse_settings(GOOD.replace("  auth:", "  flavour: dc\n  markup: adf\n  auth:"), "c.yaml")
    cloud = GOOD.replace("  auth:", "  flavour: cloud\n  markup: adf\n  auth:")
    assert parse_settings(cloud, "c.yaml").jira.markup == "adf"


def test_adf_with_flavour_auto_is_refused_at_load_with_file_and_line() -> None:
    # auto could detect a Data Center, which has no REST v3: the ADF writes would all fail at run time.
    with pytest.raises(ConfigError) as caught:
        parse_settings(GOOD.replace("  auth:", "  markup: adf\n  auth:"), "c.yaml")
    (line,) = str(caught.value).splitlines()
    assert line.startswith("c.yaml:3: jira.markup: adf needs Jira Cloud")
    assert "flavour: cloud" in line


def test_facts_section_reaches_the_fact_parameters() -> None:
    text = GOOD + "facts:\n  wip_limit: 3\n  default_hourly_rate: 90\nfields:\n  phase: Stage\n"
    params = parse_settings(text).fact_params()
    assert (params.wip_limit, params.default_hourly_rate) == (3, 90)
    assert params.phase_field_names == ("Stage",) and params.anchor_issue_type == "Project"
    with pytest.raises(ConfigError, match=r"facts\.anchor_issue_type: unknown key"):
        parse_settings(GOOD + "facts:\n  anchor_issue_type: Epic\n")


def test_database_url_from_the_environment_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = parse_settings(GOOD)
    monkeypatch.setenv("PMO_GATES_DATABASE_URL", "postgresql+psycopg://pmo@db/pmo")
    assert settings.database_url() == "postgresql+psycopg://pmo@db/pmo"


def test_token_comes_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = parse_settings(GOOD)
    monkeypatch.delenv("PMO_GATES_JIRA_TOKEN", raising=False)
    assert settings.jira.auth.token() is None
    monkeypatch.setenv("PMO_GATES_JIRA_TOKEN", "tok-123")
    token = settings.jira.auth.token()
    assert token is not None and token.get_secret_value() == "tok-123" and "tok-123" not in repr(settings)
    with pytest.raises(ConfigError, match=r"jira.auth.token: unknown key"):
        parse_settings(GOOD.replace("auth: {email: pmo@example.com}", "auth: {token: abc}"))


def test_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml")


def test_report_thresholds_are_config_keys() -> None:
    options = parse_settings(GOOD + "reports:\n  stale_days: 3\n  reopen_alert: 0.2\n").reports.options()
    assert (options.stale_days, options.reopen_alert, options.on_time_target_pct) == (3, 0.2, 80)
    with pytest.raises(ConfigError, match=r"reports\.reopen_alert: "):
        parse_settings(GOOD + "reports:\n  reopen_alert: 2\n")
