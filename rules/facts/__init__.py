"""Facts: the vocabulary the PMO's rules speak, computed in bulk from the store.

A fact is one named, typed value per project (``spi``, ``open_blockers``, ``phase``...). Each is a plain
function registered with its name, type, unit and one-line meaning; it computes the fact for **every
project in scope at once** (one GROUP BY, or one streamed scan) and returns ``{project_key: value}``.

    >>> from datetime import date
    >>> from pmo_gates.rules.facts import compute_facts
    >>> facts = compute_facts(store, today=date(2026, 11, 2))  # doctest: +SKIP
    >>> facts["ALPHA"]["spi"]  # doctest: +SKIP
    0.8

Adding a fact is one decorated function plus its test. In a package of your own, make a registry and
expose it through the ``pmo_gates.facts`` entry point group (``acme = "acme_pmo.facts:registry"``):

    >>> from sqlalchemy import func, select
    >>> from pmo_gates.rules.catalog import FactType
    >>> from pmo_gates.rules.facts import FactContext, FactRegistry
    >>> from pmo_gates.rules.facts.queries import is_open, work_issue_criteria
    >>> from pmo_gates.store.models import Issue
    >>> registry = FactRegistry("acme")
    >>> @registry.register(
    ...     "open_high_priority", type=FactType.INTEGER, unit="issues", nullable=False, default=0,
    ...     description="Open work issues of priority Highest or High.",
    ... )
    ... def open_high_priority(ctx: FactContext) -> dict[str, int]:
    ...     '''0 for a project without such issues (projects the query omits get the default).'''
    ...     rows = ctx.session.execute(
    ...         select(Issue.project_key, func.count())
    ...         .where(is_open(), Issue.priority.in_(["Highest", "High"]), *work_issue_criteria(ctx))
    ...         .group_by(Issue.project_key)
    ...     )
    ...     return {key: count for key, count in rows}
    >>> registry.catalog()["open_high_priority"].unit
    'issues'

Built-in facts register on ``pmo_gates.rules.facts.builtin.registry`` the same way. ``docs/facts.md``
lists them all; regenerate it with ``python -m pmo_gates.rules.facts.reference -o docs/facts.md``.
"""

from pmo_gates.rules.facts.compute import (
    FactError,
    FactTable,
    compute_fact_table,
    compute_facts,
    compute_facts_in_session,
    evaluate,
)
from pmo_gates.rules.facts.context import FactContext, FactParams, shared
from pmo_gates.rules.facts.registry import (
    FactDefinition,
    FactRegistry,
    builtin_registry,
    default_catalog,
    default_registry,
)

__all__ = [
    "FactContext",
    "FactDefinition",
    "FactError",
    "FactParams",
    "FactRegistry",
    "FactTable",
    "builtin_registry",
    "compute_fact_table",
    "compute_facts",
    "compute_facts_in_session",
    "default_catalog",
    "default_registry",
    "evaluate",
    "shared",
]
