"""The escalation ladder: which configured steps an overdue ticket has reached and not yet received.

A ticket is overdue from the day after its due date. Step ``k`` (steps ordered by ``after_days``) is due
once the ticket is overdue and at least ``after_days`` days past its due date; the ledger's
``escalation_level`` counts the steps already taken, so each step happens once. A run that finds a
ticket several steps behind (the flow did not run for a while) takes every missed step, in order.

    >>> from pmo_gates.config import EscalationStep
    >>> ladder = [EscalationStep(after_days=0, action="comment"), EscalationStep(after_days=7, action="comment")]
    >>> [i for i, _ in steps_due(ladder, date(2026, 1, 1), date(2026, 1, 9), level=0)]
    [0, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pmo_gates.config import EscalationStep


def ordered(ladder: Sequence[EscalationStep]) -> list[EscalationStep]:
    return sorted(ladder, key=lambda step: step.after_days)


def days_overdue(due: date | None, today: date) -> int:
    return (today - due).days if due else 0


def steps_due(
    ladder: Sequence[EscalationStep], due: date | None, today: date, *, level: int
) -> list[tuple[int, EscalationStep]]:
    """``(index, step)`` of every step reached by ``today`` beyond the ``level`` already taken."""
    late = days_overdue(due, today)
    if late < 1:
        return []
    return [(i, step) for i, step in enumerate(ordered(ladder)) if i >= level and late >= step.after_days]
