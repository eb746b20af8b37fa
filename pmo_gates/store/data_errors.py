"""A project's data errors: what the sync found wrong in its Jira data (kept on each issue as
``issues.data_errors``) and what failed while judging it (a fact, a rule, a report section).

A data error belongs to one project and never stops the others: the project is judged on what is valid
and the error is shown next to its result (gate review, report, ``--json``), naming the Jira key and field
(or the fact, rule or section) so someone can fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from pmo_gates.store.models import Issue, Project

Source = Literal["sync", "facts", "rules", "review", "report"]
# Shown per project; the count says how many more there are (a project can flag every issue it has).
SHOWN_PER_PROJECT = 20


class DataProblem(BaseModel):
    """One data error of one project."""

    model_config = ConfigDict(frozen=True)

    project_key: str
    source: Source = Field(description="sync (Jira data), facts, rules, review or report.")
    key: str = Field(description="The Jira issue key (sync), else the project key.")
    field: str = Field(description="The Jira field (sync), the fact, the rule id or the report section.")
    message: str

    def line(self) -> str:
        """One line for a person: ``CPR-4 story_points: -3 is negative (left out)``."""
        return f"{self.key} {self.field}: {self.message}"


class ProjectDataErrors(BaseModel):
    """A project's data errors as shown: the first ``SHOWN_PER_PROJECT`` and how many there are."""

    total: int = 0
    shown: list[DataProblem] = Field(default_factory=list)


def stored_problems(session: Session, projects: Iterable[str] | None = None) -> list[DataProblem]:
    """The sync's data errors kept in the store for ``projects`` (default: all), ordered by project and
    issue, plus a missing anchor issue per project."""
    wanted = None if projects is None else sorted(set(projects))
    stmt = (
        select(Issue.project_key, Issue.key, Issue.data_errors)
        .where(Issue.data_errors.is_not(None), cast(Issue.data_errors, String) != "[]")
        .order_by(Issue.project_key, Issue.id)
    )
    unanchored = select(Project.key).where(Project.anchor_issue_key.is_(None)).order_by(Project.key)
    if wanted is not None:
        stmt = stmt.where(Issue.project_key.in_(wanted))
        unanchored = unanchored.where(Project.key.in_(wanted))
    found = [
        DataProblem(
            project_key=key, source="sync", key=key, field="anchor", message="no anchor issue: PMO metadata empty"
        )
        for key in session.scalars(unanchored)
    ]
    for project_key, issue_key, errors in session.execute(stmt):
        for text in errors or []:
            field, _, message = str(text).partition(": ")
            found.append(
                DataProblem(project_key=project_key, source="sync", key=issue_key, field=field, message=message)
            )
    return found


def by_project(problems: Sequence[DataProblem], shown: int = SHOWN_PER_PROJECT) -> dict[str, ProjectDataErrors]:
    """Problems grouped per project, judging problems (facts, rules, review, report) first."""
    grouped: dict[str, list[DataProblem]] = {}
    for problem in problems:
        grouped.setdefault(problem.project_key, []).append(problem)
    out = {}
    for key, items in grouped.items():
        items = sorted(items, key=lambda p: p.source == "sync")  # stable: each source keeps its order
        out[key] = ProjectDataErrors(total=len(items), shown=items[:shown])
    return out
