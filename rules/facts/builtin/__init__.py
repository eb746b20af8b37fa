"""The facts pmo-gates ships, one module per subject; importing this package registers them all."""

from pmo_gates.rules.facts.registry import FactRegistry

registry = FactRegistry("built-in facts")

# Imported for their registrations, after ``registry`` exists (they import it from here).
from pmo_gates.rules.facts.builtin import (  # noqa: E402
    activity,
    delay,
    dependencies,
    evm,
    flow,
    governance,
    lifecycle,
    people,
    progress,
    risk,
    schedule,
    scope,
)

__all__ = [
    "activity",
    "delay",
    "dependencies",
    "evm",
    "flow",
    "governance",
    "lifecycle",
    "people",
    "progress",
    "registry",
    "risk",
    "schedule",
    "scope",
]
