"""Hostile rule files from the adversarial run: each ends in a ``path:line:col`` error, never a traceback,
and nothing a setting holds is pasted into generated code."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmo_gates.rules.expr import ExprError
from pmo_gates.rules.expr.lexer import tokenize
from pmo_gates.rules.models import Outcome
from tests.fixtures_rules import TODAY, load, load_errors, write


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def rule_file(check: str, setting: str = "1", extra: str = "") -> str:
    return (
        "pack: establishment\n"
        f"settings:\n  limit: {setting}\n{extra}"
        "rules:\n"
        "  - id: over-limit\n"
        "    title: T\n"
        "    description: D\n"
        "    severity: high\n"
        f"    check: {check}\n"
    )


@pytest.mark.parametrize("setting", [".nan", ".NaN", ".inf", "-.inf", ".Inf", "1e400", "-1e999"])
def test_non_finite_settings_are_refused_at_load(tmp_path: Path, setting: str) -> None:
    # A .nan threshold used to validate, then every comparison with it was false: a mandatory rule
    # silently 'unknown' or failing at run time.
    errors = load_errors([write(tmp_path, "r.yaml", rule_file("cpi > settings.limit", setting))])
    assert errors == [
        "r.yaml:3:10: settings.limit: not a finite number (.nan, .inf and overflowing numbers are not accepted)"
    ]


@pytest.mark.parametrize(("setting", "problem"), [("1e16", "is larger than 1e+15"), ("-99999999999999999", "larger")])
def test_settings_obey_the_literal_bounds(tmp_path: Path, setting: str, problem: str) -> None:
    errors = load_errors([write(tmp_path, "r.yaml", rule_file("cpi > settings.limit", setting))])
    assert len(errors) == 1 and errors[0].startswith("r.yaml:3:10: setting 'limit' ") and problem in errors[0]


def test_huge_integers_are_refused_before_python_parses_them(tmp_path: Path) -> None:
    for digits in (40, 4300, 5000):
        errors = load_errors([write(tmp_path, "r.yaml", rule_file("cpi > settings.limit", "9" * digits))])
        assert errors == ["r.yaml:3:10: settings.limit: number is written with more than 32 characters"]


@pytest.mark.parametrize("digit", ["²", "①", "٣", "३", "３", "߃", "𝟙"])  # noqa: RUF001
def test_only_ascii_digits_are_numbers(tmp_path: Path, digit: str) -> None:
    errors = load_errors([write(tmp_path, "r.yaml", rule_file(f"cpi > {digit}"))])
    assert errors == [
        f"r.yaml:9:18: check: {digit!r} (U+{ord(digit):04X}) is not an ASCII digit: write numbers with 0-9"
    ]
    with pytest.raises(ExprError):
        tokenize(f"1{digit}")


def test_lone_surrogate_escapes_are_refused() -> None:
    with pytest.raises(ExprError, match="is not a character"):
        tokenize("phase == '\\ud800'")


def test_recursive_alias_is_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    errors = load_errors([write(tmp_path, "r.yaml", "pack: establishment\nsettings: &s\n  x: *s\n")])
    assert errors == ["r.yaml:3:6: YAML aliases (*name) are not accepted: write the value out in full"]


def test_deep_nesting_is_an_error_not_a_recursion_error(tmp_path: Path) -> None:
    text = rule_file("cpi > settings.limit", extra="waivers: " + "[" * 5000 + "]" * 5000 + "\n")
    errors = load_errors([write(tmp_path, "r.yaml", text)])
    assert errors == ["r.yaml:4:59: nested more than 50 levels deep"]


def test_settings_are_referenced_not_pasted_into_generated_code(tmp_path: Path) -> None:
    label = "x" * 1000
    checks = " || ".join(["phase == settings.limit"] * 60)
    rule_set = load([write(tmp_path, "r.yaml", rule_file(f"'{checks}'", f"'{label}'"))])
    compiled = rule_set.rules["over-limit"]
    assert label not in compiled.python and "s_limit" in compiled.python
    assert compiled.outcome({"phase": label}, TODAY) is Outcome.PASS
    assert compiled.outcome({"phase": "execution"}, TODAY) is Outcome.FAIL


def test_numbers_and_dates_settings_still_work_by_reference(tmp_path: Path) -> None:
    text = rule_file("cpi > settings.limit && planned_end < settings.cutoff", "0.9", "  cutoff: 2026-12-31\n")
    compiled = load([write(tmp_path, "r.yaml", text)]).rules["over-limit"]
    import datetime as dt

    assert compiled.outcome({"cpi": 1.2, "planned_end": dt.date(2026, 12, 1)}, TODAY) is Outcome.PASS
    assert compiled.outcome({"cpi": 0.5, "planned_end": dt.date(2026, 12, 1)}, TODAY) is Outcome.FAIL


def test_a_file_that_is_not_a_rule_file_is_not_quoted(tmp_path: Path) -> None:
    errors = load_errors([write(tmp_path, "secrets.yaml", "db_password: hunter2\naws_key: AKIA\n")])
    assert len(errors) == 1 and errors[0].startswith("secrets.yaml:1:1: not a rule file")
    assert "db_password" not in errors[0] and "hunter2" not in errors[0]


def test_binary_file_is_an_error_naming_the_position(tmp_path: Path) -> None:
    path = tmp_path / "logo.yaml"
    path.write_bytes(b"pack: establishment\n\x89PNG\x00\xff")
    assert load_errors([path]) == ["logo.yaml:2:1: not a UTF-8 text file"]
