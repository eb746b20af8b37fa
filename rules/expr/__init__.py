"""The rule expression language: a small, safe, CEL-like language over project facts.

Source text is lexed and parsed into our own AST, type-checked against a :class:`FactCatalog`, then
turned into Python source generated from the checked AST (never from user text) and compiled once.

    >>> from pmo_gates.rules.catalog import FactCatalog, FactSpec
    >>> catalog = FactCatalog([FactSpec(name="spi", type="number")])
    >>> check = compile_expression("spi >= 0.9", catalog)
    >>> check({"spi": 0.95}), check({"spi": 0.5}), check({})
    (True, False, None)
"""

from pmo_gates.rules.expr.compiler import CompiledExpression, compile_expression
from pmo_gates.rules.expr.errors import ExprError
from pmo_gates.rules.expr.functions import FunctionRegistry, FunctionSpec, function_registry
from pmo_gates.rules.expr.types import ExprType

__all__ = [
    "CompiledExpression",
    "ExprError",
    "ExprType",
    "FunctionRegistry",
    "FunctionSpec",
    "compile_expression",
    "function_registry",
]
