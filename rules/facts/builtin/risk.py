"""The risk register: open risk issues of a project, or linked to one of its issues."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import is_open
from pmo_gates.store.models import Issue, IssueLink


@shared
def open_risks(ctx: FactContext) -> dict[str, set[str]]:
    risk, other = aliased(Issue), aliased(Issue)
    is_risk = [risk.issue_type.in_(ctx.params.risk_issue_types), is_open(risk)]
    found: dict[str, set[str]] = defaultdict(set)
    own = ctx.session.execute(select(risk.project_key, risk.key).where(ctx.in_scope(risk.project_key), *is_risk))
    for project, key in own:
        found[project].add(key)
    # A link in either direction ties a risk to the project of the issue at its other end.
    for risk_side, other_side in ((IssueLink.from_key, IssueLink.to_key), (IssueLink.to_key, IssueLink.from_key)):
        linked = ctx.session.execute(
            select(other.project_key, risk.key)
            .select_from(IssueLink)
            .join(risk, risk.key == risk_side)
            .join(other, other.key == other_side)
            .where(ctx.in_scope(other.project_key), *is_risk)
        )
        for project, key in linked:
            found[project].add(key)
    return dict(found)


@registry.register(
    "risk_register_size",
    type=FactType.INTEGER,
    unit="risks",
    nullable=False,
    default=0,
    description="Open issues of a risk type (default Risk) in the project or linked to any of its issues.",
)
def risk_register_size(ctx: FactContext) -> dict[str, Any]:
    """A risk counts once per project even when linked several times; a risk in another project counts
    for every project it is linked to. Links of any type count."""
    return {key: len(risks) for key, risks in open_risks(ctx).items()}
