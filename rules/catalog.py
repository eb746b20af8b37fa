"""The fact catalog: the names, types and units of the facts that rule expressions may read.

This module is the contract between the facts computed from the store (``pmo_gates.rules.facts``)
and the rule language (``pmo_gates.rules.expr``). Facts reach the rules as
``Mapping[str, Mapping[str, Any]]``: project key -> fact name -> value, where ``None`` means
"unknown" (not computable from the data we have).

Value conventions, per :class:`FactType`:

- ``number``: ``int`` or ``float`` (never ``bool``). Durations are numbers of days.
- ``integer``: ``int`` (never ``bool``).
- ``bool``: ``bool``.
- ``string``: ``str``.
- ``date``: ``datetime.date`` (a ``datetime`` is accepted and reduced to its date).
- ``list[string]``: a list or tuple of ``str`` (e.g. the keys of failed checks).

Example::

    >>> catalog = FactCatalog([FactSpec(name="spi", type=FactType.NUMBER, description="EV / PV")])
    >>> catalog.did_you_mean("sp")
    'spi'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pmo_gates.rules.registry import closest, did_you_mean

FACT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class FactType(StrEnum):
    """The type of a fact's value (see the module docstring for the Python value of each)."""

    NUMBER = "number"
    INTEGER = "integer"
    BOOL = "bool"
    STRING = "string"
    DATE = "date"
    STRING_LIST = "list[string]"


class FactSpec(BaseModel):
    """What one fact is: its name, type, unit and meaning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="snake_case name, as written in rule expressions")
    type: FactType = Field(description="type of the value; None is always allowed when nullable")
    unit: str = Field(default="", description="unit for humans, e.g. 'days', 'EUR', '%' (0-100), 'ratio'")
    description: str = Field(default="", description="one sentence a PMO lead understands")
    nullable: bool = Field(default=True, description="whether the value may be None (unknown)")
    choices: tuple[str, ...] | None = Field(
        default=None, description="for string facts with a closed set of values, e.g. the phase"
    )

    @field_validator("name")
    @classmethod
    def _snake_case(cls, name: str) -> str:
        if not FACT_NAME.match(name):
            raise ValueError(f"fact name {name!r} is not snake_case")
        return name

    def coerce(self, value: Any) -> Any:
        """Return ``value`` in this fact's canonical Python type, or raise ``ValueError`` saying why.

        Accepts the loose forms found in YAML examples and JSON: an ISO ``'2026-01-31'`` string for a
        date, an integral float for an integer. ``None`` passes when the fact is nullable.
        """
        if value is None:
            if self.nullable:
                return None
            raise ValueError(f"fact {self.name!r} may not be null")
        kind = self.type
        if kind is FactType.BOOL:
            if isinstance(value, bool):
                return value
        elif kind is FactType.NUMBER:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        elif kind is FactType.INTEGER:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, float) and value.is_integer():
                return int(value)
        elif kind is FactType.STRING:
            if isinstance(value, str):
                if self.choices is not None and value not in self.choices:
                    raise ValueError(f"fact {self.name!r} must be one of {list(self.choices)}, got {value!r}")
                return value
        elif kind is FactType.DATE:
            if isinstance(value, dt.datetime):
                return value.date()
            if isinstance(value, dt.date):
                return value
            if isinstance(value, str):
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"fact {self.name!r} wants a date 'YYYY-MM-DD', got {value!r}") from None
        elif kind is FactType.STRING_LIST and (
            isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
        ):
            return list(value)
        raise ValueError(f"fact {self.name!r} is a {kind.value}, got {type(value).__name__} {value!r}")


class FactCatalog(Mapping[str, FactSpec]):
    """All known facts by name; read-only once built."""

    def __init__(self, specs: Iterable[FactSpec] = ()) -> None:
        self._specs: dict[str, FactSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"fact {spec.name!r} is declared twice")
            self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> FactSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"FactCatalog({len(self._specs)} facts)"

    def did_you_mean(self, name: str) -> str | None:
        """The closest known fact name to ``name``, or None when nothing is close."""
        return closest(name, self._specs)

    def unknown_message(self, name: str) -> str:
        """The error text for an unknown fact, with a suggestion when one is close."""
        return f"unknown fact {name!r}{did_you_mean(name, self._specs)}"

    def coerce_facts(self, facts: Mapping[str, Any]) -> dict[str, Any]:
        """Check and convert one project's facts; raises ``ValueError`` naming the first bad fact."""
        out: dict[str, Any] = {}
        for name, value in facts.items():
            spec = self._specs.get(name)
            if spec is None:
                raise ValueError(self.unknown_message(name))
            out[name] = spec.coerce(value)
        return out

    def merged(self, other: Iterable[FactSpec]) -> FactCatalog:
        """A new catalog with ``other``'s specs added (a name in both is an error)."""
        return FactCatalog([*self._specs.values(), *other])
