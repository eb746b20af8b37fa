"""Static checks of a parsed expression: names, types, arity and literal arguments.

Fills each node's ``type`` and ``nullable`` so the code generator knows where null checks are needed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pmo_gates.rules.catalog import FactCatalog
from pmo_gates.rules.expr import ast
from pmo_gates.rules.expr.errors import ExprError
from pmo_gates.rules.expr.functions import FunctionRegistry, FunctionSpec
from pmo_gates.rules.expr.types import (
    BOOL,
    DATE,
    EMPTY_LIST,
    FROM_FACT_TYPE,
    NULL,
    NUMBER,
    STRING,
    ExprType,
    list_of,
    parse_type,
    unify,
)
from pmo_gates.rules.registry import did_you_mean

SETTINGS = "settings"


@dataclass
class Checked:
    type: ExprType
    nullable: bool
    facts: list[str] = field(default_factory=list)  # in order of first use
    settings: list[str] = field(default_factory=list)
    uses_today: bool = False


def check(
    node: ast.Node,
    source: str,
    catalog: FactCatalog,
    functions: FunctionRegistry,
    settings: Mapping[str, Any] | None = None,
    *,
    assume_known: bool = False,
) -> Checked:
    """Type ``node`` in place. ``assume_known`` types it as if every fact were known (not null), for
    the compiler's fast path taken when they all are."""
    checker = _Checker(source, catalog, functions, settings or {}, assume_known)
    checker.visit(node)
    assert node.type is not None
    return Checked(node.type, node.nullable, checker.facts, checker.settings_used, checker.uses_today)


def setting_type(value: Any) -> ExprType | None:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, str):
        return STRING
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return DATE
    return None


class _Checker:
    def __init__(
        self,
        source: str,
        catalog: FactCatalog,
        functions: FunctionRegistry,
        settings: Mapping[str, Any],
        assume_known: bool,
    ) -> None:
        self.assume_known = assume_known
        self.source = source
        self.catalog = catalog
        self.functions = functions
        self.settings = settings
        self.facts: list[str] = []
        self.settings_used: list[str] = []
        self.uses_today = False

    def error(self, message: str, pos: int) -> ExprError:
        return ExprError(message, self.source, pos)

    def visit(self, node: ast.Node) -> None:
        method = getattr(self, f"_{type(node).__name__.lower()}")
        node.type, node.nullable = method(node)

    def _literal(self, node: ast.Literal) -> tuple[ExprType, bool]:
        value = node.value
        if value is None:
            return NULL, True
        if isinstance(value, bool):
            return BOOL, False
        if isinstance(value, str):
            return STRING, False
        return NUMBER, False

    def _listlit(self, node: ast.ListLit) -> tuple[ExprType, bool]:
        elem = NULL
        for item in node.items:
            self.visit(item)
            assert item.type is not None
            joined = unify(elem, item.type)
            if joined is None:
                raise self.error(f"list items must all have one type, found {elem} and {item.type}", item.pos)
            elem = joined
        return (list_of(elem) if node.items else EMPTY_LIST), False

    def _name(self, node: ast.Name) -> tuple[ExprType, bool]:
        name = node.name
        spec = self.catalog.get(name)
        if spec is None:
            if name == SETTINGS:
                raise self.error("write settings.<name> to use a setting", node.pos)
            if name in self.functions:
                raise self.error(f"{name!r} is a function: write {name}(...)", node.pos)
            raise self.error(self.catalog.unknown_message(name), node.pos)
        if name not in self.facts:
            self.facts.append(name)
        # Any fact may be missing from a project's mapping, whatever the catalog says: always nullable.
        return FROM_FACT_TYPE[spec.type], not self.assume_known

    def _member(self, node: ast.Member) -> tuple[ExprType, bool]:
        obj = node.obj
        assert obj is not None
        if not (isinstance(obj, ast.Name) and obj.name == SETTINGS and SETTINGS not in self.catalog):
            self.visit(obj)  # an unknown name there is the more useful error
            raise self.error(f"field access ('.{node.attr}') is only for settings.<name>", node.attr_pos)
        if node.attr not in self.settings:
            message = f"unknown setting {node.attr!r}{did_you_mean(node.attr, self.settings)}"
            raise self.error(message, node.attr_pos)
        value = self.settings[node.attr]
        kind = setting_type(value)
        if kind is None:
            raise self.error(f"setting {node.attr!r} is not a number, string, bool or date", node.attr_pos)
        node.value = value
        if node.attr not in self.settings_used:
            self.settings_used.append(node.attr)
        return kind, False

    def _call(self, node: ast.Call) -> tuple[ExprType, bool]:
        spec = self.functions.get(node.name)
        if spec is None:
            raise self.error(self.functions.unknown_message(node.name), node.pos)
        if node.method and not spec.method:
            raise self.error(f"{node.name}() is a function, not a method: write {node.name}(x, ...)", node.pos)
        count, required = len(node.args), spec.required
        most = None if spec.variadic else len(spec.arg_types)
        if count < required or (most is not None and count > most):
            wanted = f"{required}" if most == required else f"{required}+" if most is None else f"{required}-{most}"
            raise self.error(f"{spec.signature()} takes {wanted} arguments, got {count}", node.pos)
        binding: dict[str, ExprType] = {}
        for index, arg in enumerate(node.args):
            self.visit(arg)
            assert arg.type is not None
            pattern = spec.arg_types[min(index, len(spec.arg_types) - 1)]
            if not _matches(pattern, arg.type, binding):
                raise self.error(
                    f"argument {index + 1} of {node.name}() must be {pattern.replace('|', ' or ')}, got {arg.type}",
                    arg.pos,
                )
        if spec.check_literals is not None:
            literals = [a.value if isinstance(a, ast.Literal) else None for a in node.args]
            problem = spec.check_literals(literals)
            if problem:
                raise self.error(problem, node.pos)
        if node.name == "today":
            self.uses_today = True
        returns = binding.get("T", NULL) if spec.return_type == "T" else parse_type(spec.return_type)
        return returns, _result_nullable(spec, [a.nullable for a in node.args])

    def _unary(self, node: ast.Unary) -> tuple[ExprType, bool]:
        assert node.operand is not None
        self.visit(node.operand)
        want = BOOL if node.op == "!" else NUMBER
        if node.operand.type != want:
            what = "'!'/'not' needs a bool" if node.op == "!" else "unary '-' needs a number"
            raise self.error(f"{what}, got {node.operand.type}", node.operand.pos)
        return want, node.operand.nullable

    def _binary(self, node: ast.Binary) -> tuple[ExprType, bool]:
        left, right = node.left, node.right
        assert left is not None and right is not None
        self.visit(left)
        self.visit(right)
        lt, rt = left.type, right.type
        assert lt is not None and rt is not None
        nullable = left.nullable or right.nullable
        op = node.op
        if op in ("==", "!="):
            if unify(lt, rt) is None:
                raise self.error(f"cannot compare {lt} with {rt} using {op!r}", node.op_pos)
            if lt == NULL or rt == NULL:
                return BOOL, False  # `x == null` is the null test itself
            return BOOL, nullable
        if op in ("in", "not in"):
            if rt == STRING:
                raise self.error(f"{op!r} works on lists; for text use contains(text, part)", node.op_pos)
            if not rt.is_list or rt == NULL:
                raise self.error(f"{op!r} needs a list on the right, got {rt}", right.pos)
            assert rt.elem is not None
            if unify(lt, rt.elem) is None:
                raise self.error(f"cannot look for a {lt} in a {rt}", node.op_pos)
            return BOOL, nullable
        if NULL in (lt, rt):
            raise self.error(f"{op!r} with null is always null; use coalesce(x, default)", node.op_pos)
        if op in ("<", "<=", ">", ">="):
            if lt != rt or lt not in (NUMBER, STRING, DATE):
                raise self.error(f"cannot order {lt} and {rt} with {op!r}", node.op_pos)
            return BOOL, nullable
        result = _arithmetic(op, lt, rt)
        if result is None:
            raise self.error(f"{op!r} is not defined for {lt} and {rt}", node.op_pos)
        if op in ("/", "%") and not (isinstance(right, ast.Literal) and right.value != 0):
            nullable = True  # division by zero gives null
        if result == DATE:
            nullable = True  # a date outside years 1..9999 gives null
        return result, nullable

    def _logical(self, node: ast.Logical) -> tuple[ExprType, bool]:
        spelled = "&&" if node.op == "and" else "||"
        for operand in node.operands:
            self.visit(operand)
            if operand.type != BOOL:
                raise self.error(f"{spelled!r} needs bool operands, got {operand.type}", operand.pos)
        return BOOL, any(o.nullable for o in node.operands)

    def _conditional(self, node: ast.Conditional) -> tuple[ExprType, bool]:
        cond, then, other = node.cond, node.then, node.other
        assert cond is not None and then is not None and other is not None
        for part in (cond, then, other):
            self.visit(part)
        if cond.type != BOOL:
            raise self.error(f"the condition before '?' must be a bool, got {cond.type}", cond.pos)
        assert then.type is not None and other.type is not None
        joined = unify(then.type, other.type)
        if joined is None:
            raise self.error(f"both branches of '? :' must have one type, got {then.type} and {other.type}", then.pos)
        return joined, cond.nullable or then.nullable or other.nullable


def _arithmetic(op: str, lt: ExprType, rt: ExprType) -> ExprType | None:
    if lt == NUMBER and rt == NUMBER:
        return NUMBER
    if op == "+":
        if lt == STRING and rt == STRING:
            return STRING
        if {lt, rt} == {DATE, NUMBER}:
            return DATE
    if op == "-":
        if lt == DATE and rt == NUMBER:
            return DATE
        if lt == DATE and rt == DATE:
            return NUMBER
    return None


def _matches(pattern: str, actual: ExprType, binding: dict[str, ExprType]) -> bool:
    for alternative in (part.strip() for part in pattern.split("|")):
        if alternative == "any" or actual == NULL:
            return True
        if alternative == "list" and actual.is_list:
            return True
        if alternative in ("T", "list[T]"):
            candidate = actual if alternative == "T" else (actual.elem if actual.is_list else None)
            if candidate is None:
                continue
            bound = binding.get("T")
            joined = candidate if bound is None else unify(bound, candidate)
            if joined is not None:
                binding["T"] = joined
                return True
            continue
        if alternative != "list" and unify(parse_type(alternative), actual) is not None:
            return True
    return False


def _result_nullable(spec: FunctionSpec, args: list[bool]) -> bool:
    if spec.nulls == "handled":
        if spec.nullable_if_all_null:
            return all(args)
        return spec.returns_null
    return spec.returns_null or any(args)
