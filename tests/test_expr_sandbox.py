"""Attempts to escape the expression sandbox: every one is rejected at load time, before evaluation."""

from __future__ import annotations

import pytest

from pmo_gates.rules.expr import ExprError, compile_expression
from pmo_gates.rules.expr.limits import MAX_DEPTH, MAX_LIST_ITEMS, MAX_SOURCE_CHARS
from pmo_gates.rules.templates import TemplateError, parse_template
from tests.fixtures_rules import CATALOG

ESCAPES = [
    # dunder walks and attribute access
    ("__import__('os').system('id')", "names may not start with '_'"),
    ("''.__class__.__mro__[1].__subclasses__()", "names may not start with '_'"),
    ("phase.__class__", "names may not start with '_'"),
    ("phase.__len__()", "names may not start with '_'"),
    ("settings.__dict__", "names may not start with '_'"),
    ("__builtins__", "names may not start with '_'"),
    ("_", "names may not start with '_'"),
    ("phase.upper", "field access ('.upper') is only for settings.<name>"),
    ("phase.format('{0.__class__}')", "unknown function 'format'"),
    ("phase.startsWith.func_globals", "field access ('.startsWith') is only for settings.<name>"),
    ("size.im_self", "'size' is a function: write size(...)"),
    # calls outside the whitelist
    ("eval('1')", "'eval' is a reserved word"),
    ("exec('import os')", "'exec' is a reserved word"),
    ("open('/etc/passwd')", "unknown function 'open'"),
    ("getattr(phase, 'upper')", "unknown function 'getattr'"),
    ("globals()", "unknown function 'globals'"),
    ("type(phase)", "unknown function 'type'"),
    ("compile('1', 'x', 'eval')", "unknown function 'compile'"),
    ("chr(95) + chr(95)", "unknown function 'chr'"),
    # the generated code's own names are not reachable
    ("h_size(phase)", "unknown function 'h_size'"),
    ("f_phase", "unknown fact 'f_phase' (did you mean 'phase'?)"),
    ("facts_", "unknown fact 'facts_'"),
    ("today_", "unknown fact 'today_'"),
    ("k1", "unknown fact 'k1'"),
    # statements, imports, lambdas, comprehensions
    ("import os", "'import' is a reserved word"),
    ("phase; import os", "unexpected character ';'"),
    ("phase\nimport os", "'import' is a reserved word"),
    ("lambda: 1", "'lambda' is a reserved word"),
    ("[x for x in blocked_issue_keys]", "'for' is a reserved word"),
    ("[k.upper() for k in blocked_issue_keys]", "'for' is a reserved word"),
    ("phase if true else phase", "'if' is a reserved word"),
    ("{'a': 1}", "unexpected character '{'"),
    ("`id`", "unexpected character '`'"),
    ("phase = 'x'", "use '==' to compare"),
    ("'''x'''", "triple-quoted strings are not supported"),
    ("'\\x5f\\x5f'", "unknown escape '\\x'"),
    # work bombs
    ("9 ** 9 ** 9", "the power operator '**' is not supported"),
    ("'a' * 1000000", "'*' is not defined for string and number"),
    ("[1] * 1000000", "'*' is not defined for list[number] and number"),
    ("1" + "0" * 30, "number literal is longer than 24 digits"),
    ("10000000000000000", "number literal 10000000000000000 is larger than 1e+15"),
    ("1e400", "malformed number '1e'"),
    ("0x10", "malformed number '0x'"),
    ("(" * 200 + "1" + ")" * 200, f"expression is nested more than {MAX_DEPTH} levels deep"),
    ("!" * 300 + "true", f"expression is nested more than {MAX_DEPTH} levels deep"),
    ("-" * 300 + "spi", f"expression is nested more than {MAX_DEPTH} levels deep"),
    (" + ".join(["spi"] * 80), f"expression is nested more than {MAX_DEPTH} levels deep"),
    ("[" + ", ".join(["1"] * (MAX_LIST_ITEMS + 1)) + "]", f"list has more than {MAX_LIST_ITEMS} items"),
    ("'" + "a" * 1001 + "'", "string literal is longer than 1000 characters"),
    ("spi > 1 || " * 400 + "true", f"expression is longer than {MAX_SOURCE_CHARS} characters"),
    ("max(" + ", ".join(["1"] * 17) + ")", "more than 16 arguments"),
    ("round(spi, 1000000)", "round() keeps 0 to 10 decimal digits"),
    ("date('../../etc/passwd')", "is not a date"),
]


@pytest.mark.parametrize(("source", "message"), ESCAPES, ids=[f"escape-{i}" for i in range(len(ESCAPES))])
def test_escape_is_rejected_at_load(source: str, message: str) -> None:
    with pytest.raises(ExprError) as info:
        compile_expression(source, CATALOG)
    assert message in info.value.message


def test_there_are_at_least_thirty_attempts() -> None:
    assert len(ESCAPES) >= 30


TEMPLATE_TRICKS = [
    "{facts.__class__}",
    "{facts.spi.__class__}",
    "{rule.__init__.__globals__}",
    "{project.__class__.__mro__}",
    "{0}",
    "{}",
    "{project!r}",
    "{project:>1000000}",
    "{facts[spi]}",
    "{__import__}",
    "{project",
    "project}",
]


@pytest.mark.parametrize("template", TEMPLATE_TRICKS)
def test_template_tricks_are_rejected(template: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(template)
