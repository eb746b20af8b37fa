"""Static types of expression values, and their mapping from fact types."""

from __future__ import annotations

from dataclasses import dataclass

from pmo_gates.rules.catalog import FactType


@dataclass(frozen=True)
class ExprType:
    """A value type: ``number``, ``string``, ``bool``, ``date``, ``null`` or ``list[<elem>]``.

    ``null`` is the type of the literal ``null`` only; whether a value *may* be null at run time is
    tracked separately (the checker's ``nullable`` flag), since any fact may be unknown.
    """

    kind: str
    elem: ExprType | None = None

    def __str__(self) -> str:
        return f"list[{self.elem}]" if self.kind == "list" else self.kind

    @property
    def is_list(self) -> bool:
        return self.kind == "list"


NUMBER = ExprType("number")
STRING = ExprType("string")
BOOL = ExprType("bool")
DATE = ExprType("date")
NULL = ExprType("null")


def list_of(elem: ExprType) -> ExprType:
    return ExprType("list", elem)


EMPTY_LIST = list_of(NULL)  # the type of ``[]``: a list of anything

FROM_FACT_TYPE = {
    FactType.NUMBER: NUMBER,
    FactType.INTEGER: NUMBER,
    FactType.BOOL: BOOL,
    FactType.STRING: STRING,
    FactType.DATE: DATE,
    FactType.STRING_LIST: list_of(STRING),
}


def unify(left: ExprType, right: ExprType) -> ExprType | None:
    """The common type of two values that may stand in the same place, or None if there is none.

    ``null`` unifies with anything; ``list[null]`` (an empty list) with any list.
    """
    if left == right:
        return left
    if left == NULL:
        return right
    if right == NULL:
        return left
    if left.is_list and right.is_list:
        assert left.elem is not None and right.elem is not None
        elem = unify(left.elem, right.elem)
        return list_of(elem) if elem is not None else None
    return None


def parse_type(text: str) -> ExprType:
    """Parse a type name as written in function signatures: ``number``, ``list[string]`` ..."""
    text = text.strip()
    if text.startswith("list[") and text.endswith("]"):
        return list_of(parse_type(text[5:-1]))
    simple = {"number": NUMBER, "string": STRING, "bool": BOOL, "date": DATE, "null": NULL}
    if text not in simple:
        raise ValueError(f"unknown type {text!r}")
    return simple[text]
