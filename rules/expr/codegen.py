"""Python source generated from a *checked* AST, implementing the language's null semantics inline.

Nothing of the user's text reaches the output verbatim: fact names are validated identifiers turned
into locals ``f_<name>``, literals go through ``repr`` (or become constants in the function's globals),
operators come from a fixed table, and calls go to whitelisted helpers ``h_<name>``. Generated names
never start with an underscore and never collide: ``f_`` facts, ``t<n>`` temporaries, ``k<n>``
constants, ``s_`` settings, ``h_`` helpers, ``facts_``/``today_`` parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pmo_gates.rules.expr import ast
from pmo_gates.rules.expr.functions import FunctionRegistry
from pmo_gates.rules.expr.runtime import HELPERS
from pmo_gates.rules.expr.types import DATE, NULL, NUMBER

SAFE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def fact_local(name: str) -> str:
    if not SAFE_NAME.match(name):  # the catalog already guarantees this; keep the guarantee local too
        raise ValueError(f"unsafe fact name {name!r}")
    return f"f_{name}"


def setting_global(name: str) -> str:
    if not SAFE_NAME.match(name):  # the lexer already guarantees this
        raise ValueError(f"unsafe setting name {name!r}")
    return f"s_{name}"


@dataclass
class Generated:
    code: str  # one Python expression
    constants: dict[str, Any] = field(default_factory=dict)
    helpers: dict[str, Any] = field(default_factory=dict)


class CodeGen:
    """Generates code for one or more expressions sharing a namespace (a rule's applies and check)."""

    def __init__(self, functions: FunctionRegistry) -> None:
        self.functions = functions
        self.temps = 0
        self.constants: dict[str, Any] = {}
        self.helpers: dict[str, Any] = {}

    def temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def constant(self, value: Any) -> str:
        name = f"k{len(self.constants) + 1}"
        self.constants[name] = value
        return name

    def expression(self, node: ast.Node) -> str:
        return getattr(self, f"_{type(node).__name__.lower()}")(node)

    # -- null guards --------------------------------------------------------------------------------
    def _guarded(self, operands: list[ast.Node], body: Any) -> str:
        """``body(codes)`` wrapped so the result is None when any nullable operand is None."""
        checks: list[str] = []
        codes: list[str] = []
        for node in operands:
            code = self.expression(node)
            if node.nullable:
                if _simple(node):
                    checks.append(f"{code} is None")
                else:
                    name = self.temp()
                    checks.append(f"({name} := {code}) is None")
                    code = name
            codes.append(code)
        result = body(codes)
        if not checks:
            return result
        return f"(None if {' or '.join(checks)} else {result})"

    # -- nodes --------------------------------------------------------------------------------------
    def _literal(self, node: ast.Literal) -> str:
        value = node.value
        if value is None or isinstance(value, bool | str):
            return repr(value)
        return f"({value!r})" if value < 0 else repr(value)

    def _listlit(self, node: ast.ListLit) -> str:
        return "[" + ", ".join(self.expression(item) for item in node.items) + "]"

    def _name(self, node: ast.Name) -> str:
        return fact_local(node.name)

    def _member(self, node: ast.Member) -> str:
        # By reference, never by pasting the value's text: a long string setting used in many rules
        # would otherwise be copied into every generated function (280 uses of 2 MB = gigabytes).
        name = setting_global(node.attr)
        self.constants[name] = node.value
        return name

    def _call(self, node: ast.Call) -> str:
        spec = self.functions.get(node.name)
        assert spec is not None
        if spec.inline is not None:
            codes = [self.expression(a) for a in node.args]
            if spec.nulls == "handled":  # `'x' is None` is legal but CPython warns about it: use a name
                codes = [
                    f"({self.temp()} := {c})" if isinstance(a, ast.Literal) else c
                    for a, c in zip(node.args, codes, strict=True)
                ]
            return f"({spec.inline(codes, self.temp)})"
        helper = f"h_{spec.name}"
        self.helpers[helper] = spec.impl
        if spec.nulls == "handled":
            return f"{helper}({', '.join(self.expression(a) for a in node.args)})"
        return self._guarded(node.args, lambda codes: f"{helper}({', '.join(codes)})")

    def _unary(self, node: ast.Unary) -> str:
        assert node.operand is not None
        op = "not " if node.op == "!" else "-"
        return self._guarded([node.operand], lambda codes: f"({op}{codes[0]})")

    def _binary(self, node: ast.Binary) -> str:
        left, right, op = node.left, node.right, node.op
        assert left is not None and right is not None
        if op in ("==", "!=") and NULL in (left.type, right.type):
            other = right if left.type == NULL else left
            if not other.nullable:  # never null: the test is a constant
                return repr(op == "!=")
            test = "is" if op == "==" else "is not"
            return f"({self.expression(other)} {test} None)"
        if op in ("in", "not in") and _literal_set(right):
            assert isinstance(right, ast.ListLit)
            members = self.constant(frozenset(item.value for item in right.items))  # type: ignore[attr-defined]
            return self._guarded([left], lambda codes: f"({codes[0]} {op} {members})")
        if op in ("==", "!=") and left.type is not None and left.type.is_list:
            self.helpers["h_list_eq"] = _helper("h_list_eq")
            neg = "not " if op == "!=" else ""
            return self._guarded([left, right], lambda c: f"({neg}h_list_eq({c[0]}, {c[1]}))")
        if op in ("/", "%") and not (isinstance(right, ast.Literal) and right.value != 0):
            return self._divide(node)
        if op in ("+", "-") and DATE in (left.type, right.type):
            return self._date_arithmetic(node)
        return self._guarded([left, right], lambda codes: f"({codes[0]} {op} {codes[1]})")

    def _divide(self, node: ast.Binary) -> str:
        assert node.left is not None and node.right is not None
        right = node.right
        divisor = self.temp()

        def body(codes: list[str]) -> str:
            if _simple(right) or right.nullable:  # already a name, literal or guard temporary
                return f"(None if {codes[1]} == 0 else {codes[0]} {node.op} {codes[1]})"
            return f"(None if ({divisor} := {codes[1]}) == 0 else {codes[0]} {node.op} {divisor})"

        return self._guarded([node.left, right], body)

    def _date_arithmetic(self, node: ast.Binary) -> str:
        assert node.left is not None and node.right is not None
        left, right = node.left, node.right
        if left.type == DATE and right.type == DATE:
            self.helpers["h_day_diff"] = _helper("h_day_diff")
            return self._guarded([left, right], lambda c: f"h_day_diff({c[0]}, {c[1]})")
        self.helpers["h_add_days"] = _helper("h_add_days")
        if left.type == NUMBER:  # number + date
            return self._guarded([left, right], lambda c: f"h_add_days({c[1]}, {c[0]})")
        sign = "" if node.op == "+" else "-"
        return self._guarded([left, right], lambda c: f"h_add_days({c[0]}, {sign}{c[1]})")

    def _logical(self, node: ast.Logical) -> str:
        codes = [self.expression(o) for o in node.operands]
        word = node.op  # 'and' | 'or'
        if not node.nullable:
            return "(" + f" {word} ".join(codes) + ")"
        # Kleene logic: for 'and', any False decides; otherwise any None makes it None; else True.
        decisive, other = ("False", "True") if word == "and" else ("True", "False")
        firsts: list[str] = []
        nulls: list[str] = []
        for operand, code in zip(node.operands, codes, strict=True):
            if operand.nullable:
                if _simple(operand):
                    firsts.append(f"{code} is {decisive}")
                    nulls.append(f"{code} is None")
                else:
                    name = self.temp()
                    firsts.append(f"({name} := {code}) is {decisive}")
                    nulls.append(f"{name} is None")
            else:
                firsts.append(f"not {code}" if word == "and" else code)
        return f"({decisive} if ({' or '.join(firsts)}) else (None if ({' or '.join(nulls)}) else {other}))"

    def _conditional(self, node: ast.Conditional) -> str:
        assert node.cond is not None and node.then is not None and node.other is not None
        then, other = self.expression(node.then), self.expression(node.other)
        return self._guarded([node.cond], lambda codes: f"({then} if {codes[0]} else {other})")


def _simple(node: ast.Node) -> bool:
    return isinstance(node, ast.Name | ast.Literal)


def _literal_set(node: ast.Node) -> bool:
    return (
        isinstance(node, ast.ListLit)
        and bool(node.items)
        and all(isinstance(item, ast.Literal) and item.value is not None for item in node.items)
    )


def _helper(name: str) -> Any:
    return HELPERS[name]
