"""Computing facts: every requested fact for every project in scope, in a bounded number of queries."""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmo_gates.rules.facts.context import FactContext, FactParams
from pmo_gates.rules.facts.registry import FactDefinition, FactRegistry, default_registry
from pmo_gates.store import Store
from pmo_gates.store.models import Project

# Floats are rounded so that SQLite and PostgreSQL (which sum floats in different orders) give equal facts.
DECIMALS = 6


class FactError(ValueError):
    """Facts could not be computed: an unknown fact or project, or a fact function that failed."""


def compute_facts(
    store: Store,
    *,
    today: date,
    projects: Iterable[str] | None = None,
    params: FactParams | None = None,
    only: Iterable[str] | None = None,
    registry: FactRegistry | None = None,
) -> dict[str, dict[str, Any]]:
    """Facts by project key, then fact name (None: unknown), for ``projects`` (default: all in the store).

    ``only`` restricts the facts computed; ``registry`` defaults to the built-in facts plus plugins.
    """
    with store.session() as session:
        return compute_facts_in_session(
            session, today=today, projects=projects, params=params, only=only, registry=registry
        )


def compute_facts_in_session(
    session: Session,
    *,
    today: date,
    projects: Iterable[str] | None = None,
    params: FactParams | None = None,
    only: Iterable[str] | None = None,
    registry: FactRegistry | None = None,
) -> dict[str, dict[str, Any]]:
    """:func:`compute_facts` inside a session the caller already holds."""
    if isinstance(today, datetime) or not isinstance(today, date):
        raise FactError(f"today must be a date, got {type(today).__name__} {today!r}")
    registry = registry if registry is not None else default_registry()
    definitions = select_definitions(registry, only)
    keys, everything = project_scope(session, projects)
    ctx = FactContext(
        session=session, projects=keys, today=today, params=params or FactParams(), all_projects=everything
    )
    return evaluate(ctx, definitions)


def select_definitions(registry: FactRegistry, only: Iterable[str] | None) -> list[FactDefinition]:
    if only is None:
        return registry.definitions()
    names = list(dict.fromkeys([only] if isinstance(only, str) else only))
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise FactError("; ".join(registry.unknown_message(name) for name in unknown))
    return [registry.get(name) for name in names]


def project_scope(session: Session, projects: Iterable[str] | None) -> tuple[tuple[str, ...], bool]:
    """The sorted project keys in scope, and whether that is every project in the store."""
    if projects is None:
        return tuple(session.scalars(select(Project.key).order_by(Project.key))), True
    wanted = sorted(set([projects] if isinstance(projects, str) else projects))
    found = set(session.scalars(select(Project.key).where(Project.key.in_(wanted)))) if wanted else set()
    missing = [key for key in wanted if key not in found]
    if missing:
        raise FactError(f"unknown project key(s) (not in the store; sync first?): {', '.join(missing)}")
    return tuple(wanted), False


def evaluate(ctx: FactContext, definitions: Sequence[FactDefinition]) -> dict[str, dict[str, Any]]:
    """Run each definition once for all projects and assemble project -> fact -> value."""
    table: dict[str, dict[str, Any]] = {key: {} for key in ctx.projects}
    for definition in definitions:
        try:
            values = definition.function(ctx)
        except Exception as exc:
            raise FactError(f"fact {definition.name!r} failed: {type(exc).__name__}: {exc}") from exc
        for key, row in table.items():
            value = values.get(key, _MISSING)
            row[definition.name] = _checked(definition, key, value)
    return table


_MISSING = object()


def _checked(definition: FactDefinition, project: str, value: Any) -> Any:
    if value is _MISSING:
        # Copied so that no two projects share one mutable default (a list).
        return copy.copy(definition.default)
    if value is None and not definition.spec.nullable:
        value = copy.copy(definition.default)
    try:
        value = definition.spec.coerce(value)
    except ValueError as exc:
        raise FactError(f"fact {definition.name!r} for project {project}: {exc}") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FactError(f"fact {definition.name!r} for project {project}: not a finite number ({value})")
        value = round(value, DECIMALS)
    return value
