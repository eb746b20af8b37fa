"""The config file is bounded and validated at load: hostile YAML, values that would crash later, files
that are not ours. Every refusal names ``file:line`` and never quotes a file that is not a config."""

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


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "cfg.yaml")
    return str(caught.value)


def test_aliases_are_refused_before_they_expand() -> None:
    # 9 ** 8 = 43 million strings from 500 bytes: the old loader grew past 5 GB on this.
    bomb = "lol:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 9):
        prev, name = chr(96 + level), chr(97 + level)
        bomb += f"  {name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
    message = _error(GOOD + bomb)
    assert message.startswith("cfg.yaml:8:") and "aliases" in message


def test_a_recursive_alias_is_refused() -> None:
    assert _error(GOOD + "reports: &r\n  x: *r\n").startswith("cfg.yaml:7:6: YAML aliases")


def test_deep_nesting_is_refused_with_a_position() -> None:
    assert _error(GOOD + "x: " + "[" * 5000 + "]" * 5000 + "\n").startswith("cfg.yaml:6:")


@pytest.mark.parametrize(
    ("snippet", "key"),
    [
        ("jira:\n  read_timeout: .inf\n", "read"),
        ("jira:\n  connect_timeout: .nan\n", "connect"),
        ("jira:\n  read_timeout: 1e400\n", "read"),
        ("jira:\n  read_timeout: 1e300\n", "jira.read_timeout"),
        ("sync:\n  full_sync_every_days: 999999999\n", "sync.full_sync_every_days"),
        ("schedules:\n  timezone: Mars/Olympus\n", "schedules.timezone"),
        ("schedules:\n  sync: not a cron\n", "schedules.sync"),
        ("schedules:\n  gate_review: '61 * * * *'\n", "schedules.gate_review"),
        ("schedules:\n  portfolio_report: 'H * * * *'\n", "schedules.portfolio_report"),
    ],
)
def test_values_that_would_crash_later_are_refused_at_load(snippet: str, key: str) -> None:
    section, body = snippet.split("\n", 1)
    text = GOOD.replace(f"{section}\n", f"{section}\n{body}") if section in GOOD else GOOD + snippet
    message = _error(text)
    assert message.startswith("cfg.yaml:") and key in message, message
    assert "Traceback" not in message


def test_valid_schedules_and_timezones_still_load() -> None:
    text = GOOD + "schedules:\n  timezone: Europe/Paris\n  sync: '*/15 * * * *'\n  gate_review: '@daily'\n"
    settings = parse_settings(text, "cfg.yaml")
    assert settings.schedules.timezone == "Europe/Paris" and settings.schedules.sync == "*/15 * * * *"


def test_a_file_that_is_not_a_config_is_not_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "secrets.yaml"
    secret.write_text("db_password: hunter2\naws_secret_key: AKIAEXAMPLE\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(secret)
    message = str(caught.value)
    assert "not a pmo-gates config" in message
    assert "db_password" not in message and "hunter2" not in message and "aws_secret_key" not in message


def test_binary_and_non_utf8_files_are_errors_not_tracebacks(tmp_path: Path) -> None:
    binary = tmp_path / "image.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(ConfigError, match=r"image.yaml:1:1: not a UTF-8 text file"):
        load_settings(binary)
    control = tmp_path / "control.yaml"
    control.write_text("jira: \x00\x01\x02 s3cret\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(control)
    assert "s3cret" not in str(caught.value) and str(caught.value).startswith(f"{control}:")


def test_passwd_like_file_is_refused_without_its_lines(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(passwd)
    assert "root" not in str(caught.value).replace(str(passwd), "") and "alice" not in str(caught.value)


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(GOOD + "# " + "x" * 2_000_000 + "\n")
    with pytest.raises(ConfigError, match=r"big.yaml:1:1: file is larger than"):
        load_settings(big)


def test_jql_cannot_break_out_of_the_project_bound() -> None:
    for jql in ("status = Open) OR (project = SECRET", "x = 1)) OR ((project = SECRET", "a = b ORDER BY key"):
        message = _error(GOOD.replace("  projects: [ALPHA]\n", f"  projects: [ALPHA]\n  jql: '{jql}'\n"))
        assert message.startswith("cfg.yaml:6: portfolio.jql: "), message
    text = GOOD.replace("  projects: [ALPHA]\n", "  projects: [ALPHA]\n  jql: 'summary ~ \"a)\" AND (x = 1)'\n")
    assert parse_settings(text).portfolio.jql == 'summary ~ "a)" AND (x = 1)'
