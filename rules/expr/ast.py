"""The expression AST. Nodes keep their source span; the type checker fills ``type`` and ``nullable``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pmo_gates.rules.expr.types import ExprType


@dataclass(eq=False)
class Node:
    pos: int  # offset of the node's first character in the expression source
    type: ExprType | None = field(default=None, init=False, repr=False)
    nullable: bool = field(default=True, init=False, repr=False)

    def children(self) -> list[Node]:
        return []


@dataclass(eq=False)
class Literal(Node):
    value: Any = None  # int | float | str | bool | None


@dataclass(eq=False)
class ListLit(Node):
    items: list[Node] = field(default_factory=list)

    def children(self) -> list[Node]:
        return self.items


@dataclass(eq=False)
class Name(Node):
    name: str = ""


@dataclass(eq=False)
class Member(Node):
    """``settings.<name>``: the only field access the language has."""

    obj: Node | None = None
    attr: str = ""
    attr_pos: int = 0
    value: Any = field(default=None, init=False, repr=False)  # the setting's value, set by the checker

    def children(self) -> list[Node]:
        return [self.obj] if self.obj is not None else []


@dataclass(eq=False)
class Call(Node):
    """A whitelisted function call; for ``s.startsWith(x)`` the receiver is ``args[0]`` and ``method`` is set."""

    name: str = ""
    args: list[Node] = field(default_factory=list)
    method: bool = False

    def children(self) -> list[Node]:
        return self.args


@dataclass(eq=False)
class Unary(Node):
    op: str = ""  # '!' (also 'not') or '-'
    operand: Node | None = None

    def children(self) -> list[Node]:
        return [self.operand] if self.operand is not None else []


@dataclass(eq=False)
class Binary(Node):
    op: str = ""  # arithmetic, comparison, 'in', 'not in'
    left: Node | None = None
    right: Node | None = None
    op_pos: int = 0

    def children(self) -> list[Node]:
        return [n for n in (self.left, self.right) if n is not None]


@dataclass(eq=False)
class Logical(Node):
    """A chain ``a && b && c`` (op 'and') or ``a || b || c`` (op 'or'), flattened."""

    op: str = ""
    operands: list[Node] = field(default_factory=list)

    def children(self) -> list[Node]:
        return self.operands


@dataclass(eq=False)
class Conditional(Node):
    cond: Node | None = None
    then: Node | None = None
    other: Node | None = None

    def children(self) -> list[Node]:
        return [n for n in (self.cond, self.then, self.other) if n is not None]


def depth(node: Node) -> int:
    """Height of the tree below ``node`` (a leaf is 1), computed without recursion."""
    best = 0
    stack = [(node, 1)]
    while stack:
        current, level = stack.pop()
        best = max(best, level)
        stack.extend((child, level + 1) for child in current.children())
    return best


def walk(node: Node) -> list[Node]:
    """Every node of the tree, parents first."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.children()))
    return out
