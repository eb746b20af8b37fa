"""One issue-day, one cause: turn the analysers' overlapping findings into disjoint shares of the slip.

A late item's time falls into two kinds of days. **Waiting** days: it could not move -- blocked by a
dependency, nobody holding it, its holder overloaded, or queued in a status beyond the norm. **Work** days
beyond the plan: doing work that was not in the baseline (``scope_creep``, the first pass of an added
item), doing work again after a reopen or bounce-back (``rework``: the profile keeps those days out of the
status queues), and effort beyond the estimate (``estimation_error``, reworked items left out). Work
causes measure disjoint parts by construction. Waiting causes can point at the same item (an item both
blocked and unassigned): an item's waiting is attributed to one of them only, the one with the most direct
evidence, in :data:`WAITING` order:

1. ``dependency_blocked`` -- a link names what the item waits for;
2. ``unstaffed_work`` -- nobody holds it, and it is due;
3. ``resource_overload`` -- its holder carries too much;
4. ``status_bottleneck`` -- it waited in a queue longer than the norm.

A waiting cause whose evidence is mostly inferred (confidence below :data:`DIRECT`, e.g. unstaffed work
judged without due dates) claims only after the ones with direct evidence. Each cause's item-equivalents
are converted to days at the project's throughput; if together they exceed the slip they are scaled down
to it, otherwise the difference is reported as ``unexplained``. So the impacts of a project never add up to
more than its slip, and what the data cannot explain is said, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmo_gates.rca.registry import CauseFinding

WAITING = ("dependency_blocked", "unstaffed_work", "resource_overload", "status_bottleneck")


DIRECT = 0.6


@dataclass(frozen=True)
class Attributed:
    finding: CauseFinding
    title: str
    items: float  # item-equivalents left to this cause once shared issues went to a more direct one
    confidence: float
    claimed: int  # issues attributed to it


@dataclass(frozen=True)
class DaysExplained:
    cause: Attributed
    raw_days: float  # items / throughput, before fitting into the slip
    days: float  # its part of the slip


def attribute(found: list[tuple[CauseFinding, float, str]]) -> list[Attributed]:
    """(finding, playbook weight, title) -> each cause's disjoint item-equivalents (waiting causes in
    :data:`WAITING` order, then the work causes)."""
    rank = {name: i for i, name in enumerate(WAITING)}
    taken: set[str] = set()  # items whose waiting is attributed
    out = []

    def order(item: tuple[CauseFinding, float, str]) -> tuple[bool, bool, int, str]:
        finding = item[0]
        waiting = finding.cause in rank
        return not waiting, finding.confidence < DIRECT, rank.get(finding.cause, 0), finding.cause

    for finding, weight, title in sorted(found, key=order):
        if finding.cause in rank:
            kept = {key: claim for key, claim in finding.claims.items() if key not in taken}
            taken.update(kept)
        else:
            kept = dict(finding.claims)
        loose = max(0.0, finding.items - sum(amount for amount, _ in finding.claims.values()))
        amount = sum(a for a, _ in kept.values()) + loose
        if amount <= 0:
            continue
        confidence = (sum(a * c for a, c in kept.values()) + loose * finding.confidence) / amount
        out.append(Attributed(finding, title, amount * weight, round(confidence, 2), len(kept)))
    return out


def fit_to_slip(causes: list[Attributed], items_per_day: float, slip_days: float) -> tuple[list[DaysExplained], float]:
    """Each cause's days of delay, largest first, scaled so they sum to at most ``slip_days``; and the
    unexplained remainder (>= 0)."""
    raw = [(cause, cause.items / items_per_day) for cause in causes]
    total = sum(days for _, days in raw)
    scale = min(1.0, slip_days / total) if total > 0 else 0.0
    explained = [DaysExplained(cause, days, days * scale) for cause, days in raw]
    explained.sort(key=lambda e: (-e.days, e.cause.finding.cause))
    return explained, max(0.0, slip_days - sum(e.days for e in explained))
