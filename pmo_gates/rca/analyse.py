"""Root-cause analysis of a whole portfolio: detect delays, score each cause, attribute, rank, prescribe.

Scoring: every analyser returns item-equivalents of work its cause cost and the issues behind them; an
issue claimed by several causes goes to one only (:mod:`pmo_gates.rca.attribution`). Divided by the
project's throughput that is days of delay, scaled down to the slip when the causes together exceed it
(``impact_days``); what they leave of the slip is ``unexplained_days``. Each cause's ``score`` is the part
of the slip it could explain alone (capped at 1), its ``share`` its part of the slip (shares sum to <= 1),
its ``confidence`` how much of its evidence is direct (0-1). Causes are sorted by impact, highest first. A
delayed project that no cause explains gets the explicit cause ``unexplained``, naming the missing data.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime
from string import Template
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.rca.attribution import Attributed, attribute, fit_to_slip
from pmo_gates.rca.detect import DETECTION_FACTS, ScheduleStatus, assess_schedule
from pmo_gates.rca.playbook import Playbook, load_playbook
from pmo_gates.rca.profile import ProjectProfile, build_profile
from pmo_gates.rca.registry import CauseContext, CauseFinding, CauseRegistry, Evidence, cause_registry
from pmo_gates.rca.scan import portfolio_context, scan_projects
from pmo_gates.rules.facts import FactParams
from pmo_gates.rules.facts.builtin.scope import scope_splits
from pmo_gates.rules.facts.compute import evaluate, fact_context, select_definitions
from pmo_gates.rules.facts.registry import default_registry
from pmo_gates.rules.fingerprints import period_of
from pmo_gates.rules.models import Recurrence
from pmo_gates.store import Store, upsert
from pmo_gates.store.models import RcaResult

_DEFAULT_CYCLE_DAYS = 5.0  # when no project has enough finished work to set the norm
_MIN_NORM_SAMPLES = 3


class CauseResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    cause: str
    title: str
    score: float = Field(description="Part of the slip this cause could explain on its own (0-1).")
    share: float = Field(description="Its part of the slip among all causes found (shares sum to <= 1).")
    impact_days: float = Field(description="Days of the slip attributed to this cause (they sum to <= the slip).")
    confidence: float = Field(1.0, description="Share of its evidence that is direct (0-1).")
    evidence: Evidence


class RemedyResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: str
    title: str
    action: str
    causes: list[str] = Field(description="The causes this remedy answers, most important first.")


class ProjectAnalysis(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    name: str = ""
    manager: str | None = Field(None, description="The project manager's name (else account id).")
    manager_id: str | None = Field(None, description="The project manager's Jira account id.")
    anchor_issue_key: str | None = None
    period: str
    as_of: date
    delayed: bool
    slip_days: float | None
    schedule: ScheduleStatus
    causes: list[CauseResult] = Field(default_factory=list)
    remedies: list[RemedyResult] = Field(default_factory=list)
    unexplained_days: float | None = Field(None, description="Days of the slip no cause explains.")
    scope_baseline: dict[str, str | None] = Field(
        default_factory=dict, description="The scope baseline used: date, source, reason."
    )

    def summary(self) -> dict[str, Any]:
        """The ``pmo-gates rca --json`` shape of this project."""
        return {
            "key": self.key,
            "delayed": self.delayed,
            "slip_days": self.slip_days,
            "causes": [cause.model_dump(mode="json") for cause in self.causes],
            "remedies": [remedy.model_dump(mode="json") for remedy in self.remedies],
            "unexplained_days": self.unexplained_days,
            "scope_baseline": self.scope_baseline,
        }


class RcaReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    period: str = Field(description="The month analysed, YYYY-MM.")
    today: date
    status_norm_days: dict[str, float] = Field(default_factory=dict)
    cycle_norm_days: float = _DEFAULT_CYCLE_DAYS
    projects: list[ProjectAnalysis]

    @property
    def delayed(self) -> list[ProjectAnalysis]:
        return [p for p in self.projects if p.delayed]

    def summary(self) -> dict[str, Any]:
        """Exactly what ``pmo-gates rca --json`` prints."""
        return {"projects": [project.summary() for project in self.projects]}


def analyse_portfolio(
    store: Store,
    *,
    today: date,
    playbook: Playbook | None = None,
    registry: CauseRegistry = cause_registry,
    params: FactParams | None = None,
) -> RcaReport:
    """Analyse every project in the store as of ``today`` (nothing is written; see :func:`save_results`)."""
    playbook = playbook or load_playbook()
    work = playbook.work
    facts, baselines = detection_facts(store, today=today, params=fact_params(playbook, params))
    context = portfolio_context(store, ignore_issue_types=work.ignore_issue_types)
    classify = work.classifier(context.status_categories)
    profiles = [
        build_profile(
            rows, classify, today, evidence_limit=work.evidence_limit, baseline=baselines.get(rows.project["key"])
        )
        for rows in scan_projects(
            store, ignore_issue_types=work.ignore_issue_types, blocking_link_types=work.blocking_link_types
        )
    ]
    status_norms, cycle_norm = portfolio_norms(profiles)
    cause_context = CauseContext(
        today=today,
        status_norm_days=status_norms,
        cycle_norm_days=cycle_norm,
        people=context.people,
        evidence_limit=work.evidence_limit,
        unassigned_norm=unassigned_norm(profiles),
    )
    period = period_of(Recurrence.MONTHLY, today)  # the same month key as the rules' monthly obligations
    projects = []
    for profile in profiles:
        project_facts = facts.get(profile.key, {})
        schedule = assess_schedule(project_facts, playbook.detection, today)
        causes: list[CauseResult] = []
        unexplained: float | None = None
        if schedule.delayed:
            rate = _items_per_day(profile, project_facts.get("throughput_per_day"))
            causes, unexplained = rank_causes(profile, schedule, cause_context, playbook, rate, registry)
        project = profile.project
        projects.append(
            ProjectAnalysis(
                key=profile.key,
                name=project.get("name") or "",
                manager=project.get("project_manager_name") or project.get("project_manager_id"),
                manager_id=project.get("project_manager_id"),
                anchor_issue_key=project.get("anchor_issue_key"),
                period=period,
                as_of=today,
                delayed=schedule.delayed,
                slip_days=schedule.slip_days,
                schedule=schedule,
                causes=causes,
                remedies=prescribe(profile, schedule, causes, playbook),
                unexplained_days=unexplained,
                scope_baseline={
                    "date": str(profile.baseline) if profile.baseline else None,
                    "source": profile.baseline_source,
                    "reason": profile.baseline_reason,
                },
            )
        )
    return RcaReport(
        period=period,
        today=today,
        status_norm_days={k: round(v, 2) for k, v in sorted(status_norms.items())},
        cycle_norm_days=round(cycle_norm, 2),
        projects=projects,
    )


def portfolio_norms(profiles: list[ProjectProfile]) -> tuple[dict[str, float], float]:
    """Typical days per issue in each in-progress status, and per finished item, across the portfolio.

    Medians over projects, so the projects with a bottleneck do not set the norm they are judged by."""
    per_status: dict[str, list[float]] = defaultdict(list)
    cycles = []
    for profile in profiles:
        for status, dwell in profile.dwell.items():
            if dwell.issues >= _MIN_NORM_SAMPLES:
                per_status[status].append(dwell.total_days / dwell.issues)
        if profile.cycle_items >= _MIN_NORM_SAMPLES and profile.mean_cycle_days:
            cycles.append(profile.mean_cycle_days)
    norms = {status: statistics.median(values) for status, values in per_status.items()}
    cycle = statistics.median(cycles) if cycles else _DEFAULT_CYCLE_DAYS
    return norms, max(cycle, 0.1)


def unassigned_norm(profiles: list[ProjectProfile]) -> float:
    """The usual share of a project's open items without an assignee (median over projects with open work)."""
    shares = [len(p.unassigned) / p.open for p in profiles if p.open >= _MIN_NORM_SAMPLES]
    return statistics.median(shares) if shares else 0.0


def detection_facts(
    store: Store, *, today: date, params: FactParams
) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[date | None, str, str]]]:
    """The detection facts by project, and every project's scope baseline (day, source, reason) as the
    scope and EVM facts use it. One fact context for both: the baselines come from the scope splits the
    EVM facts computed already (a second context would read the scope's rows again)."""
    with store.session() as session:
        ctx = fact_context(session, today=today, params=params)
        facts = evaluate(ctx, select_definitions(default_registry(), DETECTION_FACTS))
        baselines = {
            key: (split.baseline.day, split.baseline.source, split.baseline.reason)
            for key, split in scope_splits(ctx).items()
        }
    return facts, baselines


def fact_params(playbook: Playbook, base: FactParams | None = None) -> FactParams:
    """The config's fact settings (``base``), with those that must agree with the playbook's reading of the
    work taken from the playbook."""
    work = playbook.work
    return (base or FactParams()).model_copy(
        update={
            "throughput_window_days": work.throughput_window_days,
            "blocking_link_types": tuple(work.blocking_link_types),
            "risk_issue_types": tuple(t for t in work.ignore_issue_types if t != "Project"),
        }
    )


def _items_per_day(profile: ProjectProfile, recent: float | None) -> float:
    """The pace that turns item-equivalents into days: the recent throughput the forecast uses, else the
    lifetime pace, else the planned pace."""
    if recent:
        return recent
    today_days = profile.today.toordinal() - date(1970, 1, 1).toordinal()
    if profile.done and profile.first_created is not None:
        return profile.done / max(1.0, today_days - profile.first_created)
    start, end = profile.project.get("planned_start"), profile.project.get("planned_end")
    if start and end and end > start and profile.total:
        return profile.total / (end - start).days
    return 1.0


def rank_causes(
    profile: ProjectProfile,
    schedule: ScheduleStatus,
    context: CauseContext,
    playbook: Playbook,
    items_per_day: float,
    registry: CauseRegistry = cause_registry,
) -> tuple[list[CauseResult], float]:
    """Run every enabled analyser on one delayed project; attribute each issue to one cause, turn the
    result into days of the slip and sort. Returns the causes and the unexplained days.

    ``items_per_day`` converts item-equivalents into days of delay."""
    found: list[tuple[CauseFinding, float, str]] = []
    for name, analyser in registry.items():
        entry = playbook.cause(name)
        if not entry.enabled:
            continue
        finding = analyser.analyse(profile, schedule, context, entry.params)
        if finding is not None and finding.items > 0 and entry.weight > 0:
            found.append((finding, entry.weight, analyser.title))
    slip = max(schedule.slip_days or 0.0, 1.0)
    explained, unexplained = fit_to_slip(attribute(found), items_per_day, slip)
    causes = [
        CauseResult(
            cause=e.cause.finding.cause,
            title=e.cause.title,
            score=round(min(1.0, e.raw_days / slip), 3),
            share=round(e.days / slip, 3),
            impact_days=round(e.days, 1),
            confidence=e.cause.confidence,
            evidence=_with_attribution(e.cause),
        )
        for e in explained
    ]
    causes = [c for c in causes if c.impact_days > 0 or c.share > 0]
    if not causes:
        return [unexplained_cause(profile, slip)], round(slip, 1)
    return causes, round(unexplained, 1)


def _with_attribution(cause: Attributed) -> Evidence:
    numbers = {**cause.finding.evidence.numbers, "item_equivalents": round(cause.items, 2)}
    if cause.finding.claims:
        numbers["issues_attributed"] = cause.claimed
    return cause.finding.evidence.model_copy(update={"numbers": numbers})


UNEXPLAINED = "unexplained"


def unexplained_cause(profile: ProjectProfile, slip: float) -> CauseResult:
    """The explicit answer for a delay no cause explains: what data would have been needed."""
    missing = missing_data(profile)
    summary = "no cause in the PMO's catalogue explains this delay from the synced data"
    if missing:
        summary += "; missing: " + ", ".join(missing)
    return CauseResult(
        cause=UNEXPLAINED,
        title="Not explained by the synced data",
        score=1.0,
        share=1.0,
        impact_days=round(slip, 1),
        confidence=0.0,
        evidence=Evidence(
            summary=summary,
            numbers={"items": profile.total, "open": profile.open, "done": profile.done},
            details=[f"missing: {m}" for m in missing],
        ),
    )


def missing_data(profile: ProjectProfile) -> list[str]:
    """What the analysis could not read for this project (each a reason a cause may go unseen)."""
    missing = []
    if not profile.total:
        missing.append("work items")
    if profile.total and not profile.status_changes:
        missing.append("status history (changelogs)")
    if not profile.links:
        missing.append("blocking links")
    if profile.total and not profile.due_dates:
        missing.append("due dates")
    if profile.total and not profile.estimates:
        missing.append("original estimates and logged time")
    if profile.baseline is None:
        missing.append("a scope baseline (no baseline date, phase history or backlog build-up)")
    if profile.total and not profile.assignees and not profile.unassigned:
        missing.append("assignees")
    return missing


class _Fallback(BaseModel):
    id: str = "delay_review"
    kind: str = "efficiency_improvement"
    title: str = "Review the delay with the team"
    action: str = (
        "$manager: review the $slip_days-day delay of $project with the team this week ($cause: $summary) and "
        "agree one corrective step; record blockers as links and keep estimates and statuses current."
    )


FALLBACK_REMEDY = _Fallback()


def prescribe(
    profile: ProjectProfile, schedule: ScheduleStatus, causes: list[CauseResult], playbook: Playbook
) -> list[RemedyResult]:
    """The playbook's remedies for the top causes, in cause order, each once, with their text filled in
    from the first (most important) cause that calls for it."""
    texts: dict[str, str] = {}
    answers: dict[str, list[str]] = defaultdict(list)
    project = profile.project
    policy = playbook.prescribe
    for rank, cause in enumerate(causes):
        if rank >= policy.max_causes or (rank > 0 and cause.share < policy.min_share):
            break  # the top cause always gets its remedies, however the slip is shared
        evidence = cause.evidence
        values = {
            "project": profile.key,
            "manager": project.get("project_manager_name") or project.get("project_manager_id") or "the PM",
            "slip_days": f"{schedule.slip_days:.0f}" if schedule.slip_days is not None else "?",
            "cause": cause.title,
            "summary": evidence.summary,
            "issues": ", ".join(evidence.issues) or "-",
            "people": ", ".join(evidence.people) or "-",
            "statuses": ", ".join(evidence.statuses) or "-",
            "projects": ", ".join(evidence.projects) or "-",
        }
        entry = playbook.unexplained if cause.cause == UNEXPLAINED else playbook.cause(cause.cause)
        for rid in entry.remedies:
            if rid not in texts:
                texts[rid] = Template(playbook.remedies[rid].action).safe_substitute(values)
            answers[rid].append(cause.cause)
        if rank == 0 and not texts:  # the top cause always gets a remedy, even from a playbook without one
            texts[FALLBACK_REMEDY.id] = Template(FALLBACK_REMEDY.action).safe_substitute(values)
            answers[FALLBACK_REMEDY.id].append(cause.cause)
    remedies = {**playbook.remedies, FALLBACK_REMEDY.id: FALLBACK_REMEDY}
    return [
        RemedyResult(
            id=rid,
            kind=remedies[rid].kind,
            title=remedies[rid].title,
            action=text,
            causes=answers[rid],
        )
        for rid, text in texts.items()
    ]


def save_results(store: Store, report: RcaReport, *, analysed_at: datetime | None = None) -> int:
    """Keep each project's analysis for the month in ``rca_results`` (one row per project and period)."""
    stamp = analysed_at or datetime.now(UTC)
    rows = [
        {
            "project_key": project.key,
            "period": project.period,
            "analysed_at": stamp,
            "delayed": project.delayed,
            "slip_days": project.slip_days,
            "causes": [cause.model_dump(mode="json") for cause in project.causes],
            "remedies": [remedy.model_dump(mode="json") for remedy in project.remedies],
        }
        for project in report.projects
    ]
    with store.session() as session:
        return upsert(session, RcaResult.__table__, rows, key=["project_key", "period"])
