"""Parse, check and compile expressions into plain Python functions, once, at load time.

Each expression is compiled with two bodies: a fast one, typed as if every fact it reads were known,
taken when they all are (the common case, with almost no null checks), and a general one implementing
the null semantics in full.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pmo_gates.rules.catalog import FactCatalog
from pmo_gates.rules.expr import builtins as _builtins  # noqa: F401  (registers the built-in functions)
from pmo_gates.rules.expr.ast import Node
from pmo_gates.rules.expr.checker import Checked, check
from pmo_gates.rules.expr.codegen import CodeGen, fact_local
from pmo_gates.rules.expr.errors import ExprError
from pmo_gates.rules.expr.functions import FunctionRegistry, function_registry
from pmo_gates.rules.expr.parser import parse
from pmo_gates.rules.expr.types import ExprType

FactsFunction = Callable[[Mapping[str, Any], "dt.date | None"], Any]


@dataclass(frozen=True)
class CheckedExpression:
    """A parsed and type-checked expression, ready to be compiled alone or with others."""

    source: str
    node: Node  # typed with every fact possibly null
    known: Node  # the same tree typed as if every fact were known
    info: Checked

    @property
    def type(self) -> ExprType:
        return self.info.type

    @property
    def nullable(self) -> bool:
        return self.info.nullable

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(self.info.facts)

    @property
    def uses_today(self) -> bool:
        return self.info.uses_today


@dataclass(frozen=True)
class CompiledExpression:
    """An expression compiled to ``fn(facts, today)``; calling it returns its value (None = unknown)."""

    source: str
    type: ExprType
    nullable: bool
    facts: tuple[str, ...]  # the facts it reads, in order of first use
    uses_today: bool
    python: str  # the generated source, for debugging and tests
    fn: FactsFunction

    def __call__(self, facts: Mapping[str, Any], today: dt.date | None = None) -> Any:
        if today is None and self.uses_today:
            raise ValueError(f"{self.source!r} uses today(): pass the evaluation date")
        return self.fn(facts, today)


def check_expression(
    source: str,
    catalog: FactCatalog,
    *,
    functions: FunctionRegistry | None = None,
    settings: Mapping[str, Any] | None = None,
    expect: ExprType | None = None,
) -> CheckedExpression:
    """Parse and type-check ``source``; raises :class:`ExprError` with the position of the problem."""
    if not isinstance(source, str):
        raise ExprError(f"an expression must be text, got {type(source).__name__}")
    registry = functions or function_registry
    node = parse(source)
    info = check(node, source, catalog, registry, settings)
    if expect is not None and info.type != expect:
        raise ExprError(f"expression must give a {expect}, but gives a {info.type}", source, 0)
    known = parse(source)
    check(known, source, catalog, registry, settings, assume_known=True)
    return CheckedExpression(source, node, known, info)


def compile_expression(
    source: str,
    catalog: FactCatalog,
    *,
    functions: FunctionRegistry | None = None,
    settings: Mapping[str, Any] | None = None,
    expect: ExprType | None = None,
) -> CompiledExpression:
    """Parse, check and compile ``source`` into a function of one project's facts."""
    registry = functions or function_registry
    checked = check_expression(source, catalog, functions=registry, settings=settings, expect=expect)
    gen = CodeGen(registry)
    fast, slow = gen.expression(checked.known), gen.expression(checked.node)
    body = split_on_known(checked.facts, [f"return {fast}"], [f"return {slow}"])
    fn, python = build_function(gen, checked.facts, body, name="expression")
    info = checked.info
    return CompiledExpression(source, info.type, info.nullable, checked.facts, info.uses_today, python, fn)


def split_on_known(facts: Sequence[str], fast: list[str], slow: list[str]) -> list[str]:
    """Body lines running ``fast`` when every fact read is known, else ``slow``."""
    if not facts:
        return fast
    test = " and ".join(f"{fact_local(fact)} is not None" for fact in facts)
    return [f"if {test}:", *(f"    {line}" for line in fast), *slow]


def build_function(gen: CodeGen, facts: Sequence[str], body: list[str], *, name: str) -> tuple[FactsFunction, str]:
    """Compile ``def name(facts_, today_)`` reading ``facts`` into locals, then ``body``.

    The function's globals hold only the helpers and constants the generator asked for, with empty
    builtins: generated code cannot reach anything else even by mistake.
    """
    lines = [f"def {name}(facts_, today_):"]
    lines += [f"    {fact_local(fact)} = facts_.get({fact!r})" for fact in facts]
    lines += [f"    {line}" for line in body]
    python = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {"__builtins__": {}, **gen.helpers, **gen.constants}
    with warnings.catch_warnings():  # e.g. `(t1 := 'x') is None` after constant folding: harmless
        warnings.simplefilter("ignore", SyntaxWarning)
        code = compile(python, f"<pmo-gates {name}>", "exec")
    exec(code, namespace)  # our generated code only
    return namespace[name], python


OUTCOMES = ("pass", "fail", "not_applicable", "unknown")


def compile_outcome(
    applies: CheckedExpression | None,
    check: CheckedExpression,
    outcomes: Mapping[str, Any],
    *,
    functions: FunctionRegistry | None = None,
) -> tuple[FactsFunction, str]:
    """One function giving a rule's outcome: ``outcomes[...]`` for pass, fail, not_applicable, unknown.

    ``applies`` false -> not_applicable, null -> unknown; then ``check`` true -> pass, false -> fail,
    null -> unknown. ``applies`` None means the rule always applies.
    """
    gen = CodeGen(functions or function_registry)
    for key in OUTCOMES:
        gen.constants[f"o_{key}"] = outcomes[key]

    def body(applies_node: Node | None, check_node: Node) -> list[str]:
        lines: list[str] = []
        if applies_node is not None:
            code = gen.expression(applies_node)
            if applies_node.nullable:
                lines += [
                    f"a = {code}",
                    "if a is not True:",
                    "    return o_not_applicable if a is False else o_unknown",
                ]
            else:
                lines += [f"if not {code}:", "    return o_not_applicable"]
        code = gen.expression(check_node)
        if check_node.nullable:
            lines += [f"c = {code}", "return o_pass if c is True else o_fail if c is False else o_unknown"]
        else:
            lines += [f"return o_pass if {code} else o_fail"]
        return lines

    facts = list(applies.facts if applies is not None else ())
    facts += [fact for fact in check.facts if fact not in facts]
    fast = body(applies.known if applies is not None else None, check.known)
    slow = body(applies.node if applies is not None else None, check.node)
    return build_function(gen, facts, split_on_known(facts, fast, slow), name="rule")
