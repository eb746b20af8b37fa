"""Computing facts: every requested fact for every project in scope, in a bounded number of queries.

One project's bad data never stops the others: a fact function that fails is run again on halves of the
projects until the failing ones are found (a bounded number of times), a value that is not of the fact's
type or not a finite number is dropped, and each such failure becomes that project's data error (the fact
is unknown for it). Only a bad request (an unknown fact or project, a bad date) raises ``FactError``.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from pmo_gates.connectors.plausibility import MAX_AMOUNT as PLAUSIBLE_AMOUNT
from pmo_gates.rules.facts.context import FactContext, FactParams
from pmo_gates.rules.facts.registry import FactDefinition, FactRegistry, default_registry
from pmo_gates.store import Store
from pmo_gates.store.data_errors import DataProblem
from pmo_gates.store.models import Project

log = logging.getLogger(__name__)

# Floats are rounded so that SQLite and PostgreSQL (which sum floats in different orders) give equal facts.
DECIMALS = 6
# Re-runs of one failing fact function on parts of the portfolio, at most: finding one bad project among
# n takes about 2 log2(n); a function that fails everywhere is given up on after this many.
MAX_ISOLATION_RUNS = 64


class FactError(ValueError):
    """Facts could not be requested: an unknown fact or project, or a ``today`` that is not a date."""


class FactTable(BaseModel):
    """Facts by project key, then fact name (None: unknown), and the data errors met computing them."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    values: dict[str, dict[str, Any]]
    problems: list[DataProblem] = Field(default_factory=list)


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

    ``only`` restricts the facts computed; ``registry`` defaults to the built-in facts plus plugins. A fact
    that fails for a project is unknown for it (logged); :func:`compute_fact_table` also returns why.
    """
    return compute_fact_table(store, today=today, projects=projects, params=params, only=only, registry=registry).values


def compute_fact_table(
    store: Store,
    *,
    today: date,
    projects: Iterable[str] | None = None,
    params: FactParams | None = None,
    only: Iterable[str] | None = None,
    registry: FactRegistry | None = None,
) -> FactTable:
    """:func:`compute_facts` with the data errors: which fact failed for which project, and why."""
    problems: list[DataProblem] = []
    with store.session() as session:
        values = compute_facts_in_session(
            session, today=today, projects=projects, params=params, only=only, registry=registry, problems=problems
        )
    return FactTable(values=values, problems=problems)


def compute_facts_in_session(
    session: Session,
    *,
    today: date,
    projects: Iterable[str] | None = None,
    params: FactParams | None = None,
    only: Iterable[str] | None = None,
    registry: FactRegistry | None = None,
    problems: list[DataProblem] | None = None,
) -> dict[str, dict[str, Any]]:
    """:func:`compute_facts` inside a session the caller already holds; data errors are appended to
    ``problems`` when given (else logged)."""
    registry = registry if registry is not None else default_registry()
    definitions = select_definitions(registry, only)
    return evaluate(fact_context(session, today=today, projects=projects, params=params), definitions, problems)


def fact_context(
    session: Session, *, today: date, projects: Iterable[str] | None = None, params: FactParams | None = None
) -> FactContext:
    """The context facts are computed in, for ``projects`` (default: all in the store). Facts computed in
    one context share its memo: a caller that needs both facts and what they are built from (the RCA's
    scope baselines) reads the store once."""
    if isinstance(today, datetime) or not isinstance(today, date):
        raise FactError(f"today must be a date, got {type(today).__name__} {today!r}")
    keys, everything = project_scope(session, projects)
    return FactContext(
        session=session, projects=keys, today=today, params=params or FactParams(), all_projects=everything
    )


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


def evaluate(
    ctx: FactContext, definitions: Sequence[FactDefinition], problems: list[DataProblem] | None = None
) -> dict[str, dict[str, Any]]:
    """Run each definition once for all projects and assemble project -> fact -> value; a failure is
    confined to the projects it comes from (see the module docstring) and added to ``problems``."""
    found: list[DataProblem] = []
    table: dict[str, dict[str, Any]] = {key: {} for key in ctx.projects}
    for definition in definitions:
        failed: dict[str, str] = {}
        values = _values(ctx, definition, failed)
        for key, row in table.items():
            if key in failed:
                row[definition.name] = None
                continue
            try:
                row[definition.name] = _checked(definition, values.get(key, _MISSING))
            except (ValueError, TypeError, OverflowError) as exc:
                row[definition.name] = None
                failed[key] = str(exc)
        found += [_problem(key, definition.name, message) for key, message in sorted(failed.items())]
    if problems is not None:
        problems.extend(found)
    else:
        for problem in found:
            log.warning("data error in project %s: %s", problem.project_key, problem.line())
    return table


def _problem(project: str, fact: str, message: str) -> DataProblem:
    return DataProblem(project_key=project, source="facts", key=project, field=fact, message=message[:500])


def _values(ctx: FactContext, definition: FactDefinition, failed: dict[str, str]) -> Mapping[str, Any]:
    """``definition.function(ctx)``; when it raises, its values for the projects it works for, with the
    others' errors put in ``failed``."""
    try:
        return _called(definition, ctx)
    except Exception as exc:
        return _isolate(ctx, definition, exc, failed, [MAX_ISOLATION_RUNS])


def _called(definition: FactDefinition, ctx: FactContext) -> Mapping[str, Any]:
    values = definition.function(ctx)
    if not isinstance(values, Mapping):
        raise TypeError(f"the fact function returned {type(values).__name__}, not a mapping of project -> value")
    return values


def _isolate(
    ctx: FactContext, definition: FactDefinition, error: Exception, failed: dict[str, str], runs: list[int]
) -> dict[str, Any]:
    """Bisect ``ctx.projects`` until each failing part is one project (or the run budget is spent: the
    parts left are failed whole, with the error they last gave)."""
    if len(ctx.projects) == 1 or runs[0] <= 0:
        failed.update(dict.fromkeys(ctx.projects, f"could not be computed: {type(error).__name__}: {error}"))
        return {}
    half = len(ctx.projects) // 2
    values: dict[str, Any] = {}
    for part in (ctx.projects[:half], ctx.projects[half:]):
        narrowed = ctx.narrowed(part)
        if runs[0] <= 0:
            values.update(_isolate(narrowed, definition, error, failed, runs))
            continue
        runs[0] -= 1
        try:
            found = _called(definition, narrowed)
        except Exception as exc:
            values.update(_isolate(narrowed, definition, exc, failed, runs))
        else:
            values.update({key: found[key] for key in part if key in found})
    return values


_MISSING = object()
MAX_AMOUNT = PLAUSIBLE_AMOUNT  # the sync's bound: a store filled before it checked amounts can hold more


def _checked(definition: FactDefinition, value: Any) -> Any:
    """The value as its fact's type; raises ValueError when it is not of that type or not finite."""
    if value is _MISSING:
        # Copied so that no two projects share one mutable default (a list).
        return copy.copy(definition.default)
    if value is None and not definition.spec.nullable:
        value = copy.copy(definition.default)
    value = definition.spec.coerce(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number ({value})")
        if definition.spec.unit == "currency" and abs(value) > MAX_AMOUNT:
            # Finite but no real amount (a pasted number): taken as a figure, it would swamp every total.
            raise ValueError(f"an amount beyond {MAX_AMOUNT:g} ({value:g}): no real project costs that")
        value = round(value, DECIMALS)
    return value
