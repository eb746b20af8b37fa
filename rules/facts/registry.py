"""The fact registry: each fact is one plain function, registered with its name, type, unit and meaning.

A fact function computes one fact **for every project in scope at once** and returns
``{project_key: value}``; projects it leaves out get the registration's ``default`` (``None``, "unknown",
unless said otherwise). Several facts can share one computation through
:func:`pmo_gates.rules.facts.context.shared`.

Built-in facts live in ``pmo_gates.rules.facts.builtin``. Other packages add facts with a registry of
their own, exposed through the ``pmo_gates.facts`` entry point group::

    [project.entry-points."pmo_gates.facts"]
    acme = "acme_pmo.facts:registry"

:func:`default_registry` merges the built-in facts with every such plugin registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from pmo_gates.rules.catalog import FactCatalog, FactSpec, FactType
from pmo_gates.rules.registry import Registry

if TYPE_CHECKING:
    from pmo_gates.rules.facts.context import FactContext

FactFunction = Callable[["FactContext"], Mapping[str, Any]]
ENTRY_POINT_GROUP = "pmo_gates.facts"


@dataclass(frozen=True)
class FactDefinition:
    """A registered fact: its spec, the function computing it and the value for projects it omits."""

    spec: FactSpec
    function: FactFunction
    default: Any = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def details(self) -> str:
        """The function's docstring: the fact's edge cases, for the reference."""
        return " ".join((self.function.__doc__ or "").split())


class FactRegistry:
    """Facts by name. Registering a name twice is an error, so a fact cannot silently replace another."""

    def __init__(self, name: str = "facts") -> None:
        self.name = name
        self._definitions: Registry[FactDefinition] = Registry("fact")

    def register(
        self,
        name: str,
        *,
        type: FactType,
        description: str,
        unit: str = "",
        nullable: bool = True,
        choices: tuple[str, ...] | None = None,
        default: Any = None,
    ) -> Callable[[FactFunction], FactFunction]:
        """Decorator registering ``fn(ctx) -> {project_key: value}`` as the fact ``name``."""
        spec = FactSpec(name=name, type=type, unit=unit, description=description, nullable=nullable, choices=choices)
        if not description.strip() or "\n" in description:
            raise ValueError(f"fact {name!r}: description must be one non-empty line")
        if not nullable and default is None:
            raise ValueError(f"fact {name!r}: a non-nullable fact needs a default for projects it omits")
        default = spec.coerce(default)

        def decorator(function: FactFunction) -> FactFunction:
            self.add(FactDefinition(spec=spec, function=function, default=default))
            return function

        return decorator

    def add(self, definition: FactDefinition) -> None:
        if definition.name in self._definitions:
            raise ValueError(f"fact {definition.name!r} is already registered in {self.name}")
        self._definitions.add(definition.name, definition)

    def get(self, name: str) -> FactDefinition:
        definition = self._definitions.get(name)
        if definition is None:
            raise KeyError(self._definitions.unknown_message(name))
        return definition

    def unknown_message(self, name: str) -> str:
        return self._definitions.unknown_message(name)

    def names(self) -> list[str]:
        return self._definitions.names()

    def definitions(self) -> list[FactDefinition]:
        return [definition for _, definition in self._definitions.items()]

    def catalog(self) -> FactCatalog:
        return FactCatalog(definition.spec for definition in self.definitions())

    def merged(self, *others: FactRegistry, name: str | None = None) -> FactRegistry:
        """A new registry holding this one's facts and ``others``' (a name in two is an error)."""
        merged = FactRegistry(name or self.name)
        for registry in (self, *others):
            for definition in registry.definitions():
                if definition.name in merged:
                    raise ValueError(f"fact {definition.name!r} from {registry.name} is already registered")
                merged.add(definition)
        return merged

    def __contains__(self, name: object) -> bool:
        return name in self._definitions

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._definitions)

    def __repr__(self) -> str:
        return f"FactRegistry({self.name!r}, {len(self)} facts)"


def builtin_registry() -> FactRegistry:
    """The facts pmo-gates ships."""
    from pmo_gates.rules.facts.builtin import registry

    return registry


def plugin_registries() -> list[FactRegistry]:
    """The registries other installed packages expose through the ``pmo_gates.facts`` entry point."""
    registries = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            registry = point.load()
        except Exception as exc:
            raise ImportError(f"fact plugin {point.name!r} ({point.value}) failed to load: {exc}") from exc
        if not isinstance(registry, FactRegistry):
            raise TypeError(
                f"fact plugin {point.name!r} ({point.value}) is a {type(registry).__name__}, not a FactRegistry"
            )
        registries.append(registry)
    return registries


def default_registry() -> FactRegistry:
    """The built-in facts plus every installed plugin's."""
    return builtin_registry().merged(*plugin_registries(), name="facts")


def default_catalog() -> FactCatalog:
    """The specs of every registered fact: what rule expressions may read."""
    return default_registry().catalog()
