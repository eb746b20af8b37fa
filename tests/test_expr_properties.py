"""Property tests: compiled expressions agree with a plain tree-walking interpreter of the documented
semantics, and no input makes the compiler fail with anything but ExprError."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pmo_gates.rules.expr import ExprError, compile_expression
from pmo_gates.rules.expr import ast as A
from pmo_gates.rules.expr.parser import parse
from tests.fixtures_rules import CATALOG

TODAY = dt.date(2026, 11, 20)
SETTINGS = {"limit": 14, "cutoff": dt.date(2026, 6, 1), "label": "ops"}
PROPERTY = settings(
    max_examples=int(os.environ.get("PMO_GATES_EXPR_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- the reference interpreter ------------------------------------------------------------------------


def reference(node: A.Node, facts: dict[str, Any], today: dt.date) -> Any:
    """The documented semantics, written for clarity rather than speed."""
    ev = lambda n: reference(n, facts, today)  # noqa: E731
    if isinstance(node, A.Literal):
        return node.value
    if isinstance(node, A.Name):
        return facts.get(node.name)
    if isinstance(node, A.Member):
        return SETTINGS[node.attr]
    if isinstance(node, A.ListLit):
        return [ev(item) for item in node.items]
    if isinstance(node, A.Unary):
        value = ev(node.operand)
        if value is None:
            return None
        return (not value) if node.op == "!" else -value
    if isinstance(node, A.Logical):
        values = [ev(o) for o in node.operands]
        decisive = node.op == "or"  # True decides 'or', False decides 'and'
        if any(v is decisive for v in values):
            return decisive
        return None if any(v is None for v in values) else not decisive
    if isinstance(node, A.Conditional):
        cond = ev(node.cond)
        if cond is None:
            return None
        return ev(node.then) if cond else ev(node.other)
    if isinstance(node, A.Binary):
        return _binary(node, ev)
    if isinstance(node, A.Call):
        return _call(node.name, [ev(a) for a in node.args], today)
    raise AssertionError(node)


def _binary(node: A.Binary, ev: Any) -> Any:
    op = node.op
    left_null = isinstance(node.left, A.Literal) and node.left.value is None
    right_null = isinstance(node.right, A.Literal) and node.right.value is None
    if op in ("==", "!=") and (left_null or right_null):
        value = ev(node.right if left_null else node.left)
        return (value is None) == (op == "==")
    left, right = ev(node.left), ev(node.right)
    if left is None or right is None:
        return None
    if op == "==":
        return list(left) == list(right) if isinstance(left, list) else left == right
    if op == "!=":
        return list(left) != list(right) if isinstance(left, list) else left != right
    if op in ("<", "<=", ">", ">="):
        return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
    if op == "in":
        return any(left == item for item in right)
    if op == "not in":
        return not any(left == item for item in right)
    if isinstance(left, dt.date) or isinstance(right, dt.date):
        if isinstance(left, dt.date) and isinstance(right, dt.date):
            return (left - right).days
        day, count = (left, right) if isinstance(left, dt.date) else (right, left)
        count = int(count) if op == "+" else -int(count)
        try:
            return day + dt.timedelta(days=count)
        except OverflowError:
            return None
    if op in ("/", "%") and right == 0:
        return None
    return {"+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
            "/": lambda: left / right, "%": lambda: left % right}[op]()  # fmt: skip


def _call(name: str, args: list[Any], today: dt.date) -> Any:
    if name == "today":
        return today
    if name == "has":
        return args[0] is not None
    if name == "is_null":
        return args[0] is None
    if name == "coalesce":
        return next((a for a in args if a is not None), None)
    if any(a is None for a in args):
        return None
    if name == "round":
        digits = int(args[1]) if len(args) > 1 else 0
        if isinstance(args[0], int):
            return args[0]
        value = Decimal(repr(args[0])).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        return int(value) if digits == 0 else float(value)
    simple = {
        "days": lambda n: n,
        "min": lambda *v: min(v),
        "max": lambda *v: max(v),
        "abs": abs,
        "size": len,
        "lower": str.lower,
        "upper": str.upper,
        "startsWith": str.startswith,
        "endsWith": str.endswith,
        "contains": lambda s, p: p in s,
        "days_between": lambda a, b: (b - a).days,
        "date": dt.date.fromisoformat,
    }
    return simple[name](*args)


# -- well-typed random expressions --------------------------------------------------------------------

NUM_FACTS = ["spi", "cpi", "budget", "open_blockers", "schedule_slip_days"]
num_literal = st.one_of(st.integers(0, 20), st.sampled_from(["0.5", "1.25", "0.9", "100.0"])).map(str)
str_literal = st.sampled_from(["'execution'", "'plan'", '"ion"', "'OPS-1'", "''", "'x\\'y'"])
date_literal = st.sampled_from(["date('2026-01-31')", "date('2026-11-20')", "today()", "settings.cutoff"])


@functools.cache
def typed(kind: str, depth: int) -> st.SearchStrategy[str]:
    leaves = {
        "number": st.one_of(num_literal, st.sampled_from([*NUM_FACTS, "settings.limit"])),
        "bool": st.sampled_from(["true", "false", "has_charter", "has_project_manager"]),
        "string": st.one_of(str_literal, st.sampled_from(["phase", "project_manager", "settings.label"])),
        "date": st.one_of(date_literal, st.sampled_from(["planned_start", "planned_end"])),
        "list": st.sampled_from(["blocked_issue_keys", "['OPS-1', 'OPS-2']", "[]"]),
    }[kind]
    if depth <= 0:
        return leaves
    sub = lambda k: typed(k, depth - 1)  # noqa: E731
    fmt = lambda template, *parts: st.tuples(*parts).map(lambda xs: template.format(*xs))  # noqa: E731
    either = lambda k: st.one_of(sub(k), st.just("null")) if k != "list" else sub(k)  # noqa: E731
    options: dict[str, list[st.SearchStrategy[str]]] = {
        "number": [
            fmt("({} {} {})", sub("number"), st.sampled_from(["+", "-", "*", "/", "%"]), sub("number")),
            fmt("-({})", sub("number")),
            fmt("min({}, {})", sub("number"), sub("number")),
            fmt("max({}, {}, {})", sub("number"), sub("number"), sub("number")),
            fmt("abs({})", sub("number")),
            fmt("round({})", sub("number")),
            fmt("round({}, 2)", sub("number")),
            fmt("coalesce({}, {})", sub("number"), sub("number")),
            fmt("size({})", sub("list")),
            fmt("{}.size()", sub("string")),
            fmt("days_between({}, {})", sub("date"), sub("date")),
            fmt("({} - {})", sub("date"), sub("date")),
            fmt("({} ? {} : {})", sub("bool"), sub("number"), sub("number")),
            fmt("days({})", sub("number")),
        ],
        "bool": [
            fmt("({} {} {})", sub("number"), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), sub("number")),
            fmt("({} {} {})", sub("string"), st.sampled_from(["<", "==", "!="]), sub("string")),
            fmt("({} {} {})", sub("date"), st.sampled_from([">", "<=", "=="]), sub("date")),
            fmt("({} == null)", sub("number")),
            fmt("(null != {})", sub("string")),
            fmt("has({})", sub("date")),
            fmt("is_null({})", sub("number")),
            fmt("({} {} {})", sub("bool"), st.sampled_from(["&&", "||", "and", "or"]), sub("bool")),
            fmt("({} && {} && {})", sub("bool"), sub("bool"), sub("bool")),
            fmt("({} || {} || {})", sub("bool"), sub("bool"), sub("bool")),
            fmt("!{}", sub("bool")),
            fmt("(not {})", sub("bool")),
            fmt("({} in {})", sub("string"), sub("list")),
            fmt("({} not in ['execution', 'plan'])", sub("string")),
            fmt("({} in [1, 2.5, {}])", sub("number"), sub("number")),
            fmt("{}.startsWith({})", sub("string"), sub("string")),
            fmt("contains({}, {})", sub("string"), sub("string")),
            fmt("({} == {})", sub("list"), sub("list")),
            fmt("({} ? {} : {})", sub("bool"), sub("bool"), sub("bool")),
            fmt("coalesce({}, {})", either("bool"), sub("bool")),
        ],
        "string": [
            fmt("lower({})", sub("string")),
            fmt("{}.upper()", sub("string")),
            fmt("({} + {})", sub("string"), sub("string")),
            fmt("({} ? {} : {})", sub("bool"), sub("string"), either("string")),
        ],
        "date": [
            fmt("({} + {})", sub("date"), sub("number")),
            fmt("({} - days({}))", sub("date"), sub("number")),
            fmt("({} + {})", sub("number"), sub("date")),
            fmt("coalesce({}, {})", sub("date"), sub("date")),
        ],
        "list": [fmt("({} ? {} : {})", sub("bool"), sub("list"), sub("list"))],
    }
    return st.one_of(leaves, *options[kind])


maybe = lambda values: st.one_of(st.none(), values)  # noqa: E731
facts_strategy = st.fixed_dictionaries(
    {},
    optional={
        "phase": maybe(st.sampled_from(["planning", "execution", "closure"])),
        "project_manager": maybe(st.sampled_from(["Ada", "plan", ""])),
        "has_charter": maybe(st.booleans()),
        "has_project_manager": maybe(st.booleans()),
        "spi": maybe(st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 3))),
        "cpi": maybe(st.sampled_from([0, 0.5, 1.0, 1.25])),
        "budget": maybe(st.integers(-1000, 100000)),
        "open_blockers": maybe(st.integers(0, 5)),
        "schedule_slip_days": maybe(st.integers(-30, 90)),
        "planned_start": maybe(st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31))),
        "planned_end": maybe(st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31))),
        "blocked_issue_keys": maybe(st.lists(st.sampled_from(["OPS-1", "OPS-2", "ENG-3"]), max_size=3)),
    },
)


def same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return left == right or (left != left and right != right)
    return (type(left) is type(right) and left == right) or (left == right and not isinstance(left, bool))


@PROPERTY
@given(source=st.one_of(*(typed(k, 3) for k in ("number", "bool", "string", "date", "list"))), facts=facts_strategy)
def test_compiled_agrees_with_reference(source: str, facts: dict[str, Any]) -> None:
    try:
        compiled = compile_expression(source, CATALOG, settings=SETTINGS)
    except ExprError as exc:
        # Only the bounds may reject a well-typed expression.
        assert "nested more than" in exc.message, (source, exc)
        return
    try:
        expected = reference(parse_checked(source), facts, TODAY)
    except (OverflowError, ValueError):
        assume(False)  # e.g. huge ints in round(): outside what the reference models
        return
    actual = compiled(facts, TODAY)
    assert same(actual, expected), (source, facts, actual, expected)


def parse_checked(source: str) -> A.Node:
    return parse(source)


@PROPERTY
@given(
    st.text(
        alphabet=st.sampled_from(list("spichase_()[]'\"!&|=<>+-*/%?:.,0123456789 \n\tnotandinul\\{}@#$;")), max_size=80
    )
)
def test_random_text_only_raises_expr_error(text: str) -> None:
    with contextlib.suppress(ExprError):
        compile_expression(text, CATALOG, settings=SETTINGS)


TOKENS = ["spi", "phase", "(", ")", "[", "]", ",", "&&", "||", "!", "not", "in", "==", "<", "+", "-", "*", "/",
          "?", ":", ".", "size", "startsWith", "'x'", "1", "2.5", "null", "true", "today", "settings", "limit",
          "coalesce", "date", "'2026-01-01'"]  # fmt: skip


@PROPERTY
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_random_token_soup_only_raises_expr_error(tokens: list[str]) -> None:
    source = " ".join(tokens)
    try:
        compiled = compile_expression(source, CATALOG, settings=SETTINGS)
    except ExprError:
        return
    compiled({"spi": 1.0, "phase": "execution"}, TODAY)  # whatever compiles also runs


@PROPERTY
@given(source=typed("bool", 3), data=st.data())
def test_mutated_expressions_only_raise_expr_error(source: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(source)))
    junk = data.draw(st.sampled_from(["", "(", ")", "'", "&&", ".", "__class__", "]", "?", "**", "1e9", "\\"]))
    cut = data.draw(st.integers(0, 3))
    mutated = source[:position] + junk + source[position + cut :]
    try:
        compiled = compile_expression(mutated, CATALOG, settings=SETTINGS)
    except ExprError:
        return
    compiled({}, TODAY)
