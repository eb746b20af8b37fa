"""The cause-analyser registry: one small registered function per root cause.

An analyser reads a project's profile and returns a :class:`CauseFinding` -- how much work the cause cost,
in *item-equivalents* (work items added, redone, stuck or lost to waiting, each worth at most one item of
waiting), with the evidence -- or None when the cause is not present above its playbook threshold. A
common unit lets causes of different kinds be ranked against each other and turned into days of delay
(item-equivalents / the project's throughput). ``claims`` names the issues behind the figure, so that an
issue claimed by several causes is attributed to one only (see :mod:`pmo_gates.rca.attribution`).

    >>> from pydantic import BaseModel
    >>> class NoParams(BaseModel):
    ...     pass
    >>> registry = CauseRegistry()
    >>> @registry.register("example", "An example cause", NoParams)
    ... def example(profile, schedule, context, params):
    ...     return None
    >>> registry.names()
    ['example']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.rca.detect import ScheduleStatus
from pmo_gates.rca.profile import ProjectProfile
from pmo_gates.rca.scan import PersonLoad
from pmo_gates.rules.registry import Registry


class Evidence(BaseModel):
    """What a cause is based on, in terms a project manager can check in Jira."""

    model_config = ConfigDict(frozen=True)

    summary: str = Field(description="One sentence with the numbers that matter.")
    numbers: dict[str, float | int | str] = Field(default_factory=dict)
    issues: list[str] = Field(default_factory=list, description="Issue keys, most telling first.")
    people: list[str] = Field(default_factory=list, description="People by display name.")
    statuses: list[str] = Field(default_factory=list)
    projects: list[str] = Field(default_factory=list, description="Other projects involved.")
    details: list[str] = Field(default_factory=list, description="One line per cited item.")


@dataclass(frozen=True)
class CauseFinding:
    cause: str
    items: float  # item-equivalents of work this cause cost the project
    evidence: Evidence
    # issue key -> (item-equivalents, confidence 0-1 in that part); items not tied to one issue (e.g. effort
    # beyond estimates) are ``items`` minus the claims' sum, at ``confidence``
    claims: dict[str, tuple[float, float]] = field(default_factory=dict)
    confidence: float = 1.0


@dataclass(frozen=True)
class CauseContext:
    """Portfolio-wide inputs shared by every project's analysis."""

    today: date
    status_norm_days: dict[str, float]  # typical days an issue spends in each in-progress status
    cycle_norm_days: float  # typical in-progress days per resolved item
    people: dict[str, PersonLoad]
    evidence_limit: int
    unassigned_norm: float = 0.0  # typical share of a project's open items without assignee


Analyse = Callable[[ProjectProfile, ScheduleStatus, CauseContext, Any], "CauseFinding | None"]


@dataclass(frozen=True)
class CauseAnalyser:
    name: str
    title: str
    params: type[BaseModel]
    analyse: Analyse


class CauseRegistry(Registry[CauseAnalyser]):
    def __init__(self) -> None:
        super().__init__("cause")

    def register(self, name: str, title: str, params: type[BaseModel]) -> Callable[[Analyse], Analyse]:  # type: ignore[override]
        """Register ``analyse`` under ``name``; ``params`` validates its playbook settings."""

        def decorator(analyse: Analyse) -> Analyse:
            self.add(name, CauseAnalyser(name=name, title=title, params=params, analyse=analyse))
            return analyse

        return decorator


cause_registry = CauseRegistry()
