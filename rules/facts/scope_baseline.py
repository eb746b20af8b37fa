"""Which day a project's scope was baselined, when nobody mapped a baseline date.

Scope growth and earned value are measured against the scope that existed at the baseline. Real teams
rarely fill in a ``Phase Baseline Date``, and they load their backlog over the first days or weeks after
the planned start, so the planned start is the wrong stand-in: everything written in those weeks would be
called scope creep. In order of preference:

1. ``mapped``: the project's ``baseline_date`` field;
2. ``phase_change``: the day the project entered its current phase (the last change of the phase field on
   the anchor issue's changelog), unless the initial backlog build-up was still going on then;
3. ``backlog_knee``: the end of the initial backlog build-up, found as a change point in the creation
   rate of the work items (a burst, then a clearly slower trickle);
4. ``none``: no baseline can be told from the data (no work, or work created at a steady rate from the
   first day): scope growth is unknown rather than guessed.

    >>> from datetime import date
    >>> days = [(date(2026, 1, d), 5) for d in range(1, 21)] + [(date(2026, 3, 1), 1), (date(2026, 4, 1), 1)]
    >>> creation_knee(days, end=date(2026, 6, 1))
    datetime.date(2026, 1, 20)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

MIN_RATE_RATIO = 2.0  # the build-up must be at least this much faster than what follows ...
MIN_GAIN = 6.0  # ... and the split must explain the creation times clearly better than one steady rate
MIN_ITEMS = 3


@dataclass(frozen=True)
class ScopeBaseline:
    day: date | None
    source: str  # mapped | phase_change | backlog_knee | none
    reason: str


def _split_gain(counts: Sequence[tuple[date, int]], start: date, end: date) -> tuple[float, int, float] | None:
    """The best two-rate split of the creation times in [start, end]: (log-likelihood gain over one steady
    rate, index of the last day of the first part, rate ratio). Only splits where the first part is faster.

    Poisson process with a piecewise-constant rate: the maximum log-likelihood of a part with n events over
    t days is n ln(n / t) - n, so a split's gain is the sum over its parts minus the whole's."""
    total = sum(n for _, n in counts)
    span = max(1.0, (end - start).days + 1.0)
    whole = total * math.log(total / span)
    best: tuple[float, int, float] | None = None
    n1 = 0
    for i, (day, n) in enumerate(counts):
        n1 += n
        n2 = total - n1
        t1 = max(1.0, (day - start).days + 1.0)
        t2 = max(1.0, (end - day).days)
        r1, r2 = n1 / t1, n2 / t2
        if n1 < MIN_ITEMS or r1 <= r2:
            continue
        gain = n1 * math.log(r1) + (n2 * math.log(r2) if n2 else 0.0) - whole
        ratio = r1 / r2 if r2 else math.inf
        if best is None or gain > best[0]:
            best = (gain, i, ratio)
    return best


def creation_knee(counts: Sequence[tuple[date, int]], *, end: date) -> date | None:
    """The last day of the initial creation burst of ``counts`` ((day, items created), any order), or None
    when the items came at a steady rate.

    The best split is searched again inside its first part until no clear split is left, so a later burst
    of added scope (a change request) is not mistaken for the end of the initial build-up."""
    counts = sorted((day, n) for day, n in counts if n > 0)
    if sum(n for _, n in counts) < MIN_ITEMS:
        return None
    if len(counts) == 1:
        return counts[0][0]
    knee: date | None = None
    window = list(counts)
    stop = max(end, window[-1][0])
    while len(window) > 1:
        found = _split_gain(window, window[0][0], stop)
        if found is None or found[0] < MIN_GAIN or found[2] < MIN_RATE_RATIO:
            break
        _, index, _ = found
        if index == len(window) - 1 and window[index][0] == stop:
            break  # nothing left to split off: the trailing quiet time is already cut
        knee = window[index][0]
        window, stop = window[: index + 1], knee
    return knee


def infer_baseline(
    *,
    mapped: date | None,
    phase_entered: date | None,
    created: Sequence[tuple[date, int]],
    today: date,
) -> ScopeBaseline:
    """The scope baseline of one project and why it was chosen (see the module docstring)."""
    if mapped is not None:
        return ScopeBaseline(mapped, "mapped", f"the project's baseline date {mapped}")
    knee = creation_knee([(d, n) for d, n in created if d <= today], end=today)
    if phase_entered is not None and phase_entered <= today:
        if knee is not None and knee > phase_entered:
            return ScopeBaseline(
                knee,
                "backlog_knee",
                f"no baseline date; the project entered its phase on {phase_entered} but its backlog was "
                f"still being written until {knee}",
            )
        return ScopeBaseline(
            phase_entered, "phase_change", f"no baseline date; the day the project entered its phase ({phase_entered})"
        )
    if knee is not None:
        return ScopeBaseline(
            knee, "backlog_knee", f"no baseline date or phase history; the end of the initial backlog build-up ({knee})"
        )
    reason = (
        "no baseline date, no phase history and no work items"
        if not created
        else "no baseline date, no phase history, and work items were created at a steady rate (no build-up to end)"
    )
    return ScopeBaseline(None, "none", reason)
