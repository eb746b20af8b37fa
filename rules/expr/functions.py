"""The whitelist of functions an expression may call, as a registry users can extend.

    >>> from pmo_gates.rules.expr.functions import function_registry
    >>> @function_registry.register("clamp", ["number", "number", "number"], "number")
    ... def clamp(value, low, high):
    ...     return max(low, min(high, value))

Argument types are type names (``number``, ``string``, ``bool``, ``date``, ``list[string]``), ``any``,
a union ``list|string``, or the type variable ``T`` (all ``T`` arguments share one type, and a return
type ``T`` is that type). By default a null argument makes the result null without calling the
function (``nulls="propagate"``); ``nulls="handled"`` passes nulls in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pmo_gates.rules.registry import Registry

FUNCTION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")

# inline(args_code, new_temp) -> Python expression code; for functions that are cheaper written inline.
Inline = Callable[[list[str], Callable[[], str]], str]
# check_literals(args) -> error message or None; args are the literal values (None when not a literal).
LiteralCheck = Callable[[list[Any]], "str | None"]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arg_types: tuple[str, ...]
    return_type: str
    impl: Callable[..., Any] | None = None
    doc: str = ""
    min_args: int | None = None  # default: len(arg_types)
    variadic: bool = False  # the last argument type repeats
    method: bool = False  # also callable as ``receiver.name(args)``
    nulls: Literal["propagate", "handled"] = "propagate"
    returns_null: bool = False  # may give null even for non-null arguments (e.g. a malformed date)
    nullable_if_all_null: bool = False  # handled-null functions like coalesce: null only if all args are
    inline: Inline | None = field(default=None, compare=False)
    check_literals: LiteralCheck | None = field(default=None, compare=False)

    @property
    def required(self) -> int:
        return len(self.arg_types) if self.min_args is None else self.min_args

    def signature(self) -> str:
        args = list(self.arg_types)
        optional = args[self.required :]
        text = ", ".join(args[: self.required])
        if optional:
            text += "".join(f"[, {arg}]" for arg in optional)
        if self.variadic:
            text += ", ..."
        return f"{self.name}({text}) -> {self.return_type}"


class FunctionRegistry(Registry[FunctionSpec]):
    def __init__(self) -> None:
        super().__init__("function")

    def register(  # type: ignore[override]
        self, name: str, arg_types: list[str] | tuple[str, ...], return_type: str, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator registering ``impl`` under ``name``; options are :class:`FunctionSpec` fields."""

        def decorator(impl: Callable[..., Any]) -> Callable[..., Any]:
            self.add_function(
                FunctionSpec(
                    name=name,
                    arg_types=tuple(arg_types),
                    return_type=return_type,
                    impl=impl,
                    doc=options.pop("doc", None) or (impl.__doc__ or "").strip(),
                    **options,
                )
            )
            return impl

        return decorator

    def add_function(self, spec: FunctionSpec) -> None:
        if not FUNCTION_NAME.match(spec.name):
            raise ValueError(f"function name {spec.name!r} must be letters and digits (no leading '_')")
        if spec.impl is None and spec.inline is None:
            raise ValueError(f"function {spec.name!r} needs an implementation")
        self.add(spec.name, spec)

    def copy(self) -> FunctionRegistry:
        """A registry with the same functions, to extend without touching this one (tests, plugins)."""
        other = FunctionRegistry()
        for _name, spec in self.items():
            other.add_function(spec)
        return other


function_registry = FunctionRegistry()
"""The default registry: the built-in functions (see ``builtins.py``) plus any a plugin registers."""
