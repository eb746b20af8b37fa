"""The seven root causes of delay, each an analyser registered under its fixed name.

Every analyser converts what it finds into item-equivalents (see :mod:`pmo_gates.rca.registry`) and names
the issues behind them (``claims``), with how direct the evidence for each is (``confidence``):

- ``dependency_blocked``: each open item waiting on an unresolved blocker (weighted: other projects'
  and unknown blockers count fully, same-project ones less, since the team can reorder its own work);
- ``resource_overload``: the part of each overloaded person's items here beyond what they can carry
  (their load over the cap, e.g. 20 open items against a cap of 10 makes half their items here excess);
- ``scope_creep``: items created after the scope baseline (mapped, else inferred from the data);
- ``status_bottleneck``: per item, days beyond the team's norm in the worst in-progress status over the
  norm cycle time, at most one item-equivalent per item (waiting delays an item; it does not multiply it);
- ``unstaffed_work``: open items without an assignee that are due soon or overdue (without due dates:
  the unassigned open items beyond the portfolio's usual share, oldest first);
- ``rework``: reopened items (weight 1) and bounce-backs to an earlier step (weight 0.5);
- ``estimation_error``: logged effort beyond the original estimates, in average estimated items (items
  that were reworked are left out: their extra effort is rework).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.rca.detect import ScheduleStatus
from pmo_gates.rca.profile import ProjectProfile
from pmo_gates.rca.registry import CauseContext, CauseFinding, Evidence, cause_registry

CAUSES = (
    "dependency_blocked",
    "resource_overload",
    "scope_creep",
    "status_bottleneck",
    "unstaffed_work",
    "rework",
    "estimation_error",
)


def _n(count: int, noun: str) -> str:
    """'1 item', '3 items'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DependencyParams(_Params):
    min_items: int = Field(1, ge=1, description="Fewest blocked open items to report the cause.")
    cross_project_weight: float = Field(1.0, ge=0, description="Weight of an item blocked from another project.")
    same_project_weight: float = Field(0.5, ge=0, description="Weight of an item blocked within the project.")


@cause_registry.register("dependency_blocked", "Blocked by dependencies", DependencyParams)
def dependency_blocked(
    profile: ProjectProfile, schedule: ScheduleStatus, context: CauseContext, params: DependencyParams
) -> CauseFinding | None:
    if len(profile.blocked) < params.min_items:
        return None
    items = 0.0
    cross = 0
    projects: Counter[str] = Counter()
    details = []
    claims: dict[str, tuple[float, float]] = {}
    for blocked in profile.blocked:
        others = [b for b in blocked.blockers if b[1] != profile.key]
        if others:
            cross += 1
            projects.update(b[1] or "outside the portfolio" for b in others)
        weight = params.cross_project_weight if others else params.same_project_weight
        items += weight
        # A blocker outside the store: the link is direct evidence, whether it is still open is not known.
        known = any(status is not None for _, _, status in blocked.blockers)
        claims[blocked.key] = (weight, 1.0 if known else 0.6)
        by = ", ".join(f"{key} ({status or 'unknown status'})" for key, _, status in blocked.blockers)
        details.append(f"{blocked.key} [{blocked.status}] blocked by {by}")
    limit = context.evidence_limit
    blockers = sorted({key for b in profile.blocked for key, _, _ in b.blockers})
    return CauseFinding(
        "dependency_blocked",
        items,
        claims=claims,
        confidence=_mean_confidence(claims),
        evidence=Evidence(
            summary=f"{_n(len(profile.blocked), 'open item')} waiting on unresolved blockers, "
            f"{cross} of them on other projects",
            numbers={"blocked_items": len(profile.blocked), "cross_project": cross, "blockers": len(blockers)},
            issues=[b.key for b in profile.blocked][:limit] + blockers[:limit],
            statuses=sorted({status for b in profile.blocked for _, _, status in b.blockers if status}),
            projects=[name for name, _ in projects.most_common(limit)],
            details=details[:limit],
        ),
    )


class OverloadParams(_Params):
    max_open_items: int = Field(15, ge=1, description="Open items one person can carry across the portfolio.")
    max_in_progress: int = Field(5, ge=1, description="Items one person can have in progress at once.")
    max_projects: int = Field(3, ge=1, description="Projects one person can work on at once.")


@cause_registry.register("resource_overload", "Overloaded people", OverloadParams)
def resource_overload(
    profile: ProjectProfile, schedule: ScheduleStatus, context: CauseContext, params: OverloadParams
) -> CauseFinding | None:
    items = 0.0
    found = []
    claims: dict[str, tuple[float, float]] = {}
    for person, keys in profile.assignees.items():
        load = context.people.get(person)
        if load is None:
            continue
        excess = max(
            1 - params.max_open_items / load.open_items if load.open_items else 0.0,
            1 - params.max_in_progress / load.in_progress if load.in_progress else 0.0,
            1 - params.max_projects / len(load.projects) if load.projects else 0.0,
        )
        if excess > 0:
            items += len(keys) * excess
            found.append((len(keys) * excess, load, keys))
            for key in keys:
                claims[key] = (excess, 1.0)
    if not found:
        return None
    found.sort(key=lambda f: (-f[0], f[1].name))
    limit = context.evidence_limit
    return CauseFinding(
        "resource_overload",
        items,
        claims=claims,
        evidence=Evidence(
            summary=f"{_n(len(found), 'assignee')} over the PMO's limits "
            f"({params.max_open_items} open items, {params.max_in_progress} in progress, "
            f"{params.max_projects} projects)",
            numbers={"overloaded_people": len(found), "their_items_here": sum(len(k) for _, _, k in found)},
            issues=[key for _, _, keys in found for key in keys][:limit],
            people=[load.name for _, load, _ in found][:limit],
            projects=sorted({p for _, load, _ in found for p in load.projects if p != profile.key})[:limit],
            details=[
                f"{load.name}: {load.open_items} open items ({load.in_progress} in progress) in "
                f"{len(load.projects)} projects, {len(keys)} here"
                for _, load, keys in found[:limit]
            ],
        ),
    )


# How direct the scope baseline is: a mapped date is the PMO's word, the others are read from the data.
BASELINE_CONFIDENCE = {"mapped": 1.0, "phase_change": 0.8, "backlog_knee": 0.6}


def _mean_confidence(claims: dict[str, tuple[float, float]]) -> float:
    total = sum(amount for amount, _ in claims.values())
    return sum(amount * conf for amount, conf in claims.values()) / total if total else 1.0


class ScopeParams(_Params):
    min_growth_pct: float = Field(10, ge=0, description="Scope growth since the baseline worth reporting (%).")
    exclude_issue_types: list[str] = Field(
        default_factory=lambda: ["Bug"], description="Types not counted as scope (defects count as rework)."
    )


@cause_registry.register("scope_creep", "Scope creep after the baseline", ScopeParams)
def scope_creep(
    profile: ProjectProfile, schedule: ScheduleStatus, context: CauseContext, params: ScopeParams
) -> CauseFinding | None:
    excluded = set(params.exclude_issue_types)
    added = [key for key, kind in profile.added if kind not in excluded]
    if profile.baseline is None or not added or not profile.baseline_items:
        return None
    growth = 100.0 * len(added) / profile.baseline_items
    if growth < params.min_growth_pct:
        return None
    baseline = profile.baseline
    confidence = BASELINE_CONFIDENCE.get(profile.baseline_source, 0.5)
    return CauseFinding(
        "scope_creep",
        float(len(added)),
        claims={key: (1.0, confidence) for key in added},
        confidence=confidence,
        evidence=Evidence(
            summary=f"{_n(len(added), 'item')} added after the baseline of {baseline}: "
            f"scope grew {growth:.0f}% over {_n(profile.baseline_items, 'baseline item')}",
            numbers={
                "added_items": len(added),
                "baseline_items": profile.baseline_items,
                "growth_pct": round(growth, 1),
                "baseline_date": str(baseline),
                "baseline_source": profile.baseline_source,
            },
            issues=added[: context.evidence_limit],
            details=[f"baseline: {profile.baseline_reason}"] if profile.baseline_reason else [],
        ),
    )


class BottleneckParams(_Params):
    min_ratio: float = Field(2.0, gt=1, description="Mean days in the status vs its norm, to count as piling up.")
    min_issues: int = Field(3, ge=1, description="Fewest issues through the status to judge it.")
    expected_days: dict[str, float] = Field(
        default_factory=dict, description="Norm days per status; statuses not named use the team's own history."
    )
    ignore_statuses: list[str] = Field(default_factory=list, description="Statuses never called a bottleneck.")
    team_norm_factor: float = Field(
        2.5, ge=1, description="A team's own norm may be at most this many times the portfolio's norm."
    )
    tolerance: float = Field(
        1.5, ge=1, description="Days up to this multiple of the norm are ordinary variation, not queueing."
    )
    max_items_per_issue: float = Field(
        1.0, gt=0, description="Most item-equivalents one issue's waiting can count for (waiting is not work)."
    )


def _pace_without(status: str, profile: ProjectProfile, context: CauseContext, params: BottleneckParams) -> float:
    ratios = sorted(
        (dwell.total_days / dwell.issues) / context.status_norm_days[other]
        for other, dwell in profile.dwell.items()
        if other != status and dwell.issues >= params.min_issues and context.status_norm_days.get(other)
    )
    if not ratios:
        return 1.0
    middle = len(ratios) // 2
    pace = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    return min(params.team_norm_factor, max(1 / params.team_norm_factor, pace))


def _status_norm(
    status: str, profile: ProjectProfile, context: CauseContext, params: BottleneckParams
) -> tuple[float, str] | None:
    """The norm for ``status`` in this project: the PMO's (``expected_days``), else the portfolio norm
    scaled by the team's pace in its other statuses (teams differ: a uniformly slow team is no bottleneck)."""
    if status in params.expected_days:
        return params.expected_days[status], "playbook"
    portfolio = context.status_norm_days.get(status)
    if not portfolio:
        return None
    pace = _pace_without(status, profile, context, params)
    return portfolio * pace, "portfolio" if pace == 1.0 else "team pace"


@cause_registry.register("status_bottleneck", "Work piling up in one status", BottleneckParams)
def status_bottleneck(
    profile: ProjectProfile, schedule: ScheduleStatus, context: CauseContext, params: BottleneckParams
) -> CauseFinding | None:
    best = None
    for status, dwell in profile.dwell.items():
        if status in params.ignore_statuses or dwell.issues < params.min_issues:
            continue
        found = _status_norm(status, profile, context, params)
        if found is None:
            continue
        norm, basis = found
        mean = dwell.total_days / dwell.issues
        excess = sum(max(0.0, days - norm) for _, days, _ in dwell.visits)
        if mean / norm >= params.min_ratio and (best is None or excess > best[0]):
            best = (excess, status, dwell, mean, norm, basis)
    if best is None:
        return None
    excess, status, dwell, mean, norm, basis = best
    # A normal cycle of this team: the portfolio's, at the team's pace.
    cycle = max(context.cycle_norm_days * _pace_without(status, profile, context, params), norm, 0.1)
    # Days beyond the tolerated variation over a normal cycle, at most one item per item: the waiting held
    # the item up, it did not make it several items' worth of work.
    confidence = 0.8 if basis == "playbook" else 0.7
    claims = {
        key: (min(params.max_items_per_issue, (days - params.tolerance * norm) / cycle), confidence)
        for key, days, _ in dwell.visits
        if days > params.tolerance * norm
    }
    return CauseFinding(
        "status_bottleneck",
        sum(amount for amount, _ in claims.values()),
        claims=claims,
        confidence=confidence,
        evidence=Evidence(
            summary=f"issues spend {mean:.1f} days in '{status}' against a norm of {norm:.1f} "
            f"({mean / norm:.1f}x); {_n(dwell.open_now, 'issue')} there now",
            numbers={
                "status": status,
                "mean_days": round(mean, 1),
                "norm_days": round(norm, 1),
                "norm_from": basis,
                "issues": dwell.issues,
                "waiting_now": dwell.open_now,
                "excess_days": round(excess, 1),
            },
            issues=[key for key, _ in dwell.longest],
            statuses=[status],
            details=[f"{key}: {days:.1f} days in {status}" for key, days in dwell.longest],
        ),
    )


class UnstaffedParams(_Params):
    due_within_days: int = Field(14, ge=0, description="Unassigned open items due within this many days count.")
    min_items: int = Field(1, ge=1)
    min_excess_items: float = Field(
        3, ge=0, description="Without due dates: unassigned items beyond the portfolio's usual share to report."
    )


@cause_registry.register("unstaffed_work", "Unstaffed work near its due date", UnstaffedParams)
def unstaffed_work(
    profile: ProjectProfile, schedule: ScheduleStatus, context: CauseContext, params: UnstaffedParams
) -> CauseFinding | None:
    if not profile.due_dates:
        return _unstaffed_without_due_dates(profile, context, params)
    horizon = context.today + timedelta(days=params.due_within_days)
    due = sorted(
        (u for u in profile.unassigned if u.due is not None and u.due <= horizon), key=lambda u: (u.due, u.key)
    )
    if len(due) < params.min_items:
        return None
    overdue = sum(1 for u in due if u.due < context.today)  # type: ignore[operator]
    limit = context.evidence_limit
    claims = {u.key: (1.0, 1.0 if u.own_due else 0.7) for u in due}
    return CauseFinding(
        "unstaffed_work",
        float(len(due)),
        claims=claims,
        confidence=_mean_confidence(claims),
        evidence=Evidence(
            summary=f"{_n(len(due), 'open item')} without assignee due within {params.due_within_days} days "
            f"({overdue} already overdue)",
            numbers={"unassigned_due": len(due), "overdue": overdue, "unassigned_open": len(profile.unassigned)},
            issues=[u.key for u in due][:limit],
            statuses=sorted({u.status for u in due}),
            details=[f"{u.key} [{u.status}] due {u.due}, unassigned" for u in due[:limit]],
        ),
    )


def _unstaffed_without_due_dates(
    profile: ProjectProfile, context: CauseContext, params: UnstaffedParams
) -> CauseFinding | None:
    """No item has a due date: unassigned open work beyond the portfolio's usual share, oldest first (the
    work that should have been picked up first). Indirect evidence, so a lower confidence."""
    excess = len(profile.unassigned) - context.unassigned_norm * profile.open
    if excess < params.min_excess_items:
        return None
    oldest = sorted(profile.unassigned, key=lambda u: (u.created, u.key))[: round(excess)]
    claims = {u.key: (1.0, 0.5) for u in oldest}
    limit = context.evidence_limit
    return CauseFinding(
        "unstaffed_work",
        float(len(claims)),
        claims=claims,
        confidence=0.5,
        evidence=Evidence(
            summary=f"{_n(len(profile.unassigned), 'open item')} of {profile.open} without assignee "
            f"({len(profile.unassigned) / max(1, profile.open):.0%}, the portfolio's usual share is "
            f"{context.unassigned_norm:.0%}); no due dates to tell which are urgent",
            numbers={
                "unassigned_open": len(profile.unassigned),
                "open": profile.open,
                "usual_share_pct": round(100 * context.unassigned_norm, 1),
                "excess_items": round(excess, 1),
            },
            issues=[u.key for u in oldest][:limit],
            statuses=sorted({u.status for u in oldest}),
            details=[f"{u.key} [{u.status}] unassigned" for u in oldest[:limit]],
        ),
    )


class ReworkParams(_Params):
    min_rate_pct: float = Field(5, ge=0, description="Share of items reopened or sent back, to report (%).")
    reopen_weight: float = Field(1.0, ge=0, description="Item-equivalents per reopen.")
    bounce_weight: float = Field(0.5, ge=0, description="Item-equivalents per bounce back to an earlier step.")


@cause_registry.register("rework", "Rework: reopened and bounced-back items", ReworkParams)
def rework(
    profile: ProjectProfile, schedule: ScheduleStatus, context: CauseContext, params: ReworkParams
) -> CauseFinding | None:
    if not profile.rework or not profile.total:
        return None
    rate = 100.0 * len(profile.rework) / profile.total
    if rate < params.min_rate_pct:
        return None
    claims = {r.key: (r.reopens * params.reopen_weight + r.bounces * params.bounce_weight, 1.0) for r in profile.rework}
    items = sum(amount for amount, _ in claims.values())
    limit = context.evidence_limit
    moves = Counter(move for r in profile.rework for move in r.transitions)
    now = [r.key for r in profile.rework if r.open_now]
    return CauseFinding(
        "rework",
        items,
        claims=claims,
        evidence=Evidence(
            summary=f"{_n(len(profile.rework), 'item')} ({rate:.0f}%) reopened or sent back: "
            f"{_n(profile.reopen_events, 'reopen')}, {_n(profile.bounce_events, 'bounce-back')}",
            numbers={
                "rework_items": len(profile.rework),
                "rate_pct": round(rate, 1),
                "reopens": profile.reopen_events,
                "bounces": profile.bounce_events,
                "rework_days": round(sum(r.days for r in profile.rework), 1),
                "in_rework_now": len(now),
            },
            issues=[r.key for r in profile.rework][:limit],
            statuses=sorted({s for move in moves for s in move.split(" -> ")}),
            details=[f"{move}: {count} times" for move, count in moves.most_common(limit)],
        ),
    )


class EstimationParams(_Params):
    min_overrun_pct: float = Field(25, ge=0, description="Logged effort above estimates worth reporting (%).")
    min_items: int = Field(3, ge=1, description="Fewest estimated items to judge estimates by.")


@cause_registry.register("estimation_error", "Effort far above estimates", EstimationParams)
def estimation_error(
    profile: ProjectProfile, schedule: ScheduleStatus, context: CauseContext, params: EstimationParams
) -> CauseFinding | None:
    if profile.estimated_items < params.min_items or profile.estimate_s <= 0:
        return None
    overrun_pct = 100.0 * (profile.spent_s - profile.estimate_s) / profile.estimate_s
    if overrun_pct < params.min_overrun_pct:
        return None
    per_item_s = profile.estimate_s / profile.estimated_items
    return CauseFinding(
        "estimation_error",
        (profile.spent_s - profile.estimate_s) / per_item_s,
        evidence=Evidence(
            summary=f"{profile.spent_s / 3600:.0f} h logged against {profile.estimate_s / 3600:.0f} h estimated "
            f"on {_n(profile.estimated_items, 'item')} (+{overrun_pct:.0f}%)",
            numbers={
                "estimated_h": round(profile.estimate_s / 3600, 1),
                "logged_h": round(profile.spent_s / 3600, 1),
                "overrun_pct": round(overrun_pct, 1),
                "items": profile.estimated_items,
            },
            issues=[o.key for o in profile.overruns],
            details=[f"{o.key}: {o.spent_h:.1f} h logged vs {o.estimate_h:.1f} h estimated" for o in profile.overruns],
        ),
    )
