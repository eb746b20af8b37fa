"""One issue, one cause: turn the analysers' overlapping findings into disjoint shares of the slip.

Every analyser claims the issues behind its figure. An issue claimed by several causes (an item both
blocked and unassigned, a reopened item sitting in "In Progress") is attributed to the cause with the most
direct evidence, in :data:`PRECEDENCE` order:

1. ``dependency_blocked`` -- a link names what the item waits for;
2. ``rework`` -- the changelog shows it was done (or further along) and came back;
3. ``unstaffed_work`` -- nobody holds it, and it is due;
4. ``resource_overload`` -- its holder carries too much;
5. ``scope_creep`` -- it did not exist at the baseline (an added item that also waits on one of the
   above is counted for what holds it up now: the waiting is what a remedy can change);
6. ``status_bottleneck`` -- it waited in a queue longer than the norm.

A cause whose evidence is mostly inferred (confidence below :data:`DIRECT`, e.g. unstaffed work judged
without due dates) claims only after every cause with direct evidence, in the same order.
``estimation_error`` claims effort, not issues (reworked items are already left out of it). Each cause's
remaining item-equivalents are converted to days at the project's throughput; if together they exceed the
slip they are scaled down to it, otherwise the difference is reported as ``unexplained``. So the impacts of
a project never add up to more than its slip, and what the data cannot explain is said, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from pmo_gates.rca.registry import CauseFinding

PRECEDENCE = (
    "dependency_blocked",
    "rework",
    "unstaffed_work",
    "resource_overload",
    "scope_creep",
    "status_bottleneck",
    "estimation_error",
)


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
    """(finding, playbook weight, title) -> each cause's disjoint item-equivalents, in precedence order."""
    rank = {name: i for i, name in enumerate(PRECEDENCE)}
    taken: set[str] = set()
    out = []

    def order(item: tuple[CauseFinding, float, str]) -> tuple[bool, int, str]:
        finding = item[0]
        return finding.confidence < DIRECT, rank.get(finding.cause, len(rank)), finding.cause

    for finding, weight, title in sorted(found, key=order):
        kept = {key: claim for key, claim in finding.claims.items() if key not in taken}
        taken.update(kept)
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
