"""Dependencies: open work blocked by unresolved issues, in the same project or another one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts.builtin import registry
from pmo_gates.rules.facts.context import FactContext, shared
from pmo_gates.rules.facts.queries import DONE, is_open, work_issue_criteria
from pmo_gates.store.models import Issue, IssueLink


@dataclass
class Blocked:
    issues: set[str] = field(default_factory=set)
    cross_project: set[str] = field(default_factory=set)


def project_of_key(issue_key: str) -> str:
    """The project key of an issue key (``ABC-12`` -> ``ABC``), for blockers outside the store."""
    return issue_key.rsplit("-", 1)[0]


@shared
def blocked_issues(ctx: FactContext) -> dict[str, Blocked]:
    blocked, blocker = aliased(Issue), aliased(Issue)
    link_types = [name.lower() for name in ctx.params.blocking_link_types]
    rows = ctx.session.execute(
        select(blocked.project_key, blocked.key, IssueLink.from_key, blocker.project_key)
        .join(blocked, blocked.key == IssueLink.to_key)
        .outerjoin(blocker, blocker.key == IssueLink.from_key)
        .where(
            func.lower(IssueLink.link_type).in_(link_types),
            is_open(blocked),
            # A blocker missing from the store counts as unresolved: nothing shows it is done.
            or_(blocker.status_category.is_(None), blocker.status_category != DONE),
            *work_issue_criteria(ctx, blocked),
        )
    )
    out: dict[str, Blocked] = defaultdict(Blocked)
    for project, issue_key, blocker_key, blocker_project in rows:
        entry = out[project]
        entry.issues.add(issue_key)
        if (blocker_project or project_of_key(blocker_key)) != project:
            entry.cross_project.add(issue_key)
    return dict(out)


@registry.register(
    "open_blockers",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Open work issues blocked by at least one unresolved issue.",
)
def open_blockers(ctx: FactContext) -> dict[str, Any]:
    """A link of a type in ``blocking_link_types`` (default Blocks) from A to B means A blocks B. A blocker
    not in the store (outside the synced portfolio) counts as unresolved. Each blocked issue counts once."""
    return {key: len(entry.issues) for key, entry in blocked_issues(ctx).items()}


@registry.register(
    "cross_project_blockers",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Open work issues blocked by an unresolved issue of another project.",
)
def cross_project_blockers(ctx: FactContext) -> dict[str, Any]:
    """A subset of ``open_blockers``: those with at least one blocker in another project (for blockers
    outside the store, the project is read from the issue key)."""
    return {key: len(entry.cross_project) for key, entry in blocked_issues(ctx).items()}


@registry.register(
    "blocked_issue_keys",
    type=FactType.STRING_LIST,
    nullable=False,
    default=[],
    description="Keys of the open work issues counted in open_blockers, sorted.",
)
def blocked_issue_keys(ctx: FactContext) -> dict[str, Any]:
    """Evidence for findings and root causes; an empty list when nothing is blocked."""
    found = blocked_issues(ctx)
    return {key: sorted(found[key].issues) if key in found else [] for key in ctx.projects}
