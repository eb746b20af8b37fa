"""The expression language: values, operators, null semantics, functions, and load-time errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pmo_gates.rules.expr import ExprError, FunctionRegistry, compile_expression, function_registry
from tests.fixtures_rules import CATALOG

TODAY = dt.date(2026, 11, 20)
FACTS: dict[str, Any] = {
    "phase": "execution",
    "project_manager": "Ada Lovelace",
    "has_charter": True,
    "spi": 0.8,
    "cpi": 1.1,
    "budget": 1000.0,
    "eac": 900.0,
    "open_blockers": 2,
    "schedule_slip_days": 21,
    "planned_start": dt.date(2026, 1, 1),
    "planned_end": dt.date(2026, 12, 31),
    "blocked_issue_keys": ["OPS-1", "OPS-7"],
}


def run(source: str, facts: dict[str, Any] | None = None, **options: Any) -> Any:
    return compile_expression(source, CATALOG, **options)(FACTS if facts is None else facts, TODAY)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("7 % 3", 1),
        ("-spi", -0.8),
        ("2 - -3", 5),
        ("spi < 0.9 && cpi >= 1", True),
        ("spi < 0.9 and cpi < 1", False),
        ("spi > 1 || cpi > 1", True),
        ("spi > 1 or cpi > 2", False),
        ("!has_charter", False),
        ("not has_charter", False),
        ("not phase == 'closed'", True),  # `not` binds looser than comparisons, as in Python
        ("phase in ['planning', 'execution']", True),
        ("phase not in ['planning', 'execution']", False),
        ("'OPS-7' in blocked_issue_keys", True),
        ("spi < 0.9 ? 'late' : 'fine'", "late"),
        ("spi < 0.5 ? 'a' : spi < 0.9 ? 'b' : 'c'", "b"),
        ("\"double\" == 'double'", True),
        ("'it\\'s' == \"it's\"", True),
        ("'caf\\u00e9' == 'café'", True),
        ("eac <= budget * (1 + 10 / 100)", True),
        ("date('2026-01-31')", dt.date(2026, 1, 31)),
        ("today()", TODAY),
        ("today() + days(14)", dt.date(2026, 12, 4)),
        ("today() - 20", dt.date(2026, 10, 31)),
        ("3 + today()", dt.date(2026, 11, 23)),
        ("planned_end - planned_start", 364),
        ("days_between(planned_start, planned_end)", 364),
        ("planned_end > today()", True),
        ("min(spi, cpi, 0.5)", 0.5),
        ("max(spi, cpi)", 1.1),
        ("abs(-3)", 3),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(spi * 100 / 3, 2)", 26.67),
        ("size(blocked_issue_keys)", 2),
        ("blocked_issue_keys.size()", 2),
        ("size('abc')", 3),
        ("lower('ABC') == 'abc'", True),
        ("upper(phase)", "EXECUTION"),
        ("phase.startsWith('exec')", True),
        ("startsWith(phase, 'plan')", False),
        ("phase.endsWith('tion')", True),
        ("project_manager.contains('Love')", True),
        ("'x' + 'y'", "xy"),
        ("[1, 2] == [1, 2]", True),
        ("blocked_issue_keys == ['OPS-1', 'OPS-7']", True),
        ("[] == blocked_issue_keys", False),
        ("has(spi)", True),
        ("is_null(spi)", False),
        ("coalesce(spi, 1)", 0.8),
        ("settings.limit * 2", 28),
        ("settings.cutoff > planned_start", True),
    ],
)
def test_values(source: str, expected: Any) -> None:
    settings = {"limit": 14, "cutoff": dt.date(2026, 6, 1)}
    assert run(source, settings=settings) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Anything computed from an unknown fact is unknown ...
        ("spi >= 0.9", None),
        ("spi + 1", None),
        ("-spi", None),
        ("!(spi > 1)", None),
        ("phase == 'execution'", None),
        ("phase != 'execution'", None),
        ("phase in ['execution']", None),
        ("round(spi)", None),
        ("phase.startsWith('x')", None),
        ("spi > 1 ? 1 : 2", None),
        ("planned_end - today()", None),
        ("planned_end + 3", None),
        # ... except the null tests, defaults and Kleene logic.
        ("spi == null", True),
        ("spi != null", False),
        ("null == spi", True),
        ("has(spi)", False),
        ("is_null(spi)", True),
        ("coalesce(spi, cpi, 0.5)", 0.5),
        ("spi > 1 && false", False),
        ("false && spi > 1", False),
        ("spi > 1 && true", None),
        ("spi > 1 || true", True),
        ("spi > 1 || false", None),
        ("true ? 1 : spi", 1),
        ("true ? spi : 1", None),
    ],
)
def test_null_semantics(source: str, expected: Any) -> None:
    assert run(source, {}) == expected


def test_division_by_zero_is_unknown() -> None:
    assert run("spi / cpi", {"spi": 1.0, "cpi": 0}) is None
    assert run("spi % cpi", {"spi": 1.0, "cpi": 0}) is None
    assert run("spi / 0", {"spi": 1.0}) is None
    assert run("spi / 2", {"spi": 1.0}) == 0.5


def test_dates_outside_the_calendar_are_unknown() -> None:
    assert run("today() + 10000000") is None
    assert run("date(phase)") is None  # text that is not a date gives null (a literal is checked at load)


def test_fractional_days_truncate_toward_zero() -> None:
    assert run("today() + 1.9") == dt.date(2026, 11, 21)
    assert run("today() - 1.9") == dt.date(2026, 11, 19)


def test_a_missing_non_nullable_fact_is_unknown_too() -> None:
    assert run("has_charter", {}) is None
    assert run("open_blockers == 0", {}) is None


def test_compiled_expression_reports_what_it_reads() -> None:
    compiled = compile_expression("spi > 1 && phase == 'execution' && spi < 2", CATALOG)
    assert compiled.facts == ("spi", "phase")
    assert not compiled.uses_today
    assert compile_expression("today() > planned_end", CATALOG).uses_today


def test_today_must_be_given_when_used() -> None:
    compiled = compile_expression("today() > planned_end", CATALOG)
    with pytest.raises(ValueError, match="uses today"):
        compiled(FACTS)


def test_generated_code_has_no_builtins() -> None:
    compiled = compile_expression("size(blocked_issue_keys) > 1", CATALOG)
    assert compiled.fn.__globals__["__builtins__"] == {}
    assert set(compiled.fn.__globals__) == {"__builtins__", "h_size", "expression"}


def err(source: str, **options: Any) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expression(source, CATALOG, **options)
    return info.value


@pytest.mark.parametrize(
    ("source", "message", "line", "col"),
    [
        ("spii > 1", "unknown fact 'spii' (did you mean 'spi'?)", 1, 1),
        ("phase == 'x' &&\n  has_chartr", "unknown fact 'has_chartr' (did you mean 'has_charter'?)", 2, 3),
        ("planned_end == 'x'", "cannot compare date with string using '=='", 1, 13),
        ("spi && true", "'&&' needs bool operands, got number", 1, 1),
        ("!spi", "'!'/'not' needs a bool, got number", 1, 2),
        ("-phase", "unary '-' needs a number, got string", 1, 2),
        ("phase < 3", "cannot order string and number with '<'", 1, 7),
        ("true < false", "cannot order bool and bool with '<'", 1, 6),
        ("round()", "round(number[, number]) -> number takes 1-2 arguments, got 0", 1, 1),
        ("abs(1, 2)", "abs(number) -> number takes 1 arguments, got 2", 1, 1),
        ("min(1)", "min(number, number, ...) -> number takes 2+ arguments, got 1", 1, 1),
        ("size(3)", "argument 1 of size() must be list or string, got number", 1, 6),
        ("days_between(planned_end, 'x')", "argument 2 of days_between() must be date, got string", 1, 27),
        ("coalesce(spi, 'x')", "argument 2 of coalesce() must be T, got string", 1, 15),
        ("spi.startsWith('x')", "argument 1 of startsWith() must be string, got number", 1, 1),
        ("abs.x", "'abs' is a function: write abs(...)", 1, 1),
        ("days_between.x", "'days_between' is a function: write days_between(...)", 1, 1),
        ("spi.days_between(spi)", "days_between() is a function, not a method: write days_between(x, ...)", 1, 1),
        ("phase.size", "field access ('.size') is only for settings.<name>", 1, 7),
        ("settings.limt", "unknown setting 'limt' (did you mean 'limit'?)", 1, 10),
        ("settings", "write settings.<name> to use a setting", 1, 1),
        ("date('31/01/2026')", "date('31/01/2026') is not a date: write date('YYYY-MM-DD')", 1, 1),
        ("'a' in 'abc'", "'in' works on lists; for text use contains(text, part)", 1, 5),
        ("1 in spi", "'in' needs a list on the right, got number", 1, 6),
        ("1 in ['a']", "cannot look for a number in a list[string]", 1, 3),
        ("[1, 'a']", "list items must all have one type, found number and string", 1, 5),
        ("spi > 1 ? 1 : 'a'", "both branches of '? :' must have one type, got number and string", 1, 11),
        ("spi ? 1 : 2", "the condition before '?' must be a bool, got number", 1, 1),
        ("spi + null", "'+' with null is always null; use coalesce(x, default)", 1, 5),
        ("phase * 2", "'*' is not defined for string and number", 1, 7),
        ("today() + today()", "'+' is not defined for date and date", 1, 9),
        ("1 < 2 < 3", "comparisons cannot be chained; combine them with '&&'", 1, 7),
        ("spi >", "expected a value, found end of expression", 1, 6),
        ("(spi > 1", "expected ')' to close '(', found end of expression", 1, 9),
        ("spi > 1)", "unexpected ')' after a complete expression", 1, 8),
        ("spi = 1", "use '==' to compare", 1, 5),
        ("spi > 1 & true", "use '&&' (or 'and')", 1, 9),
        ("spi > 1 | true", "use '||' (or 'or')", 1, 9),
        ("'abc", "unterminated string", 1, 1),
        ("", "expression is empty", 1, 1),
        ("spi", "expression must give a bool, but gives a number", 1, 1),
    ],
)
def test_errors_have_positions(source: str, message: str, line: int, col: int) -> None:
    from pmo_gates.rules.expr.types import BOOL

    error = err(source, settings={"limit": 3}, expect=BOOL if source == "spi" else None)
    assert (error.message, error.line, error.col) == (message, line, col)


def test_custom_function_registry() -> None:
    registry = function_registry.copy()

    @registry.register("clamp", ["number", "number", "number"], "number")
    def clamp(value: float, low: float, high: float) -> float:
        """Limit value to [low, high]."""
        return max(low, min(high, value))

    compiled = compile_expression("clamp(spi * 2, 0, 1)", CATALOG, functions=registry)
    assert compiled(FACTS) == 1
    assert compiled({}) is None  # nulls propagate without calling the function
    assert "clamp" not in function_registry  # the default registry is untouched
    with pytest.raises(ExprError, match="unknown function 'clamp'"):
        compile_expression("clamp(spi, 0, 1)", CATALOG)


def test_registry_refuses_unsafe_or_duplicate_names() -> None:
    registry = FunctionRegistry()
    with pytest.raises(ValueError, match="letters and digits"):
        registry.register("_hidden", [], "number")(lambda: 1)
    registry.register("one", [], "number")(lambda: 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("one", [], "number")(lambda: 1)
