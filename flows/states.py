"""How a flow run ends and how long it may take: final states automations can tell apart, and the config's
``timeouts``.

A rejected plan and an approval that timed out end as **Completed** runs with their own state names,
``Rejected`` and ``ApprovalTimedOut`` (the run did what it should: apply nothing), so the result still
reaches the caller and the UI, and Prefect emits ``prefect.flow-run.Rejected`` /
``prefect.flow-run.ApprovalTimedOut`` events that an automation can match. A suspended approval nobody
answered is ended as **Cancelled** ``ApprovalTimedOut`` by the next run of its deployment (approval.py).
A run longer than ``timeouts.<flow>`` fails as Prefect's own ``TimedOut`` state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from prefect.states import Completed, State
from prefect.utilities.timeout import timeout

from pmo_gates.config import Settings
from pmo_gates.flows.approval import REJECTED_STATE, TIMED_OUT_STATE, ApprovalDecision

R = TypeVar("R")


def final_state(result: R, approval: ApprovalDecision) -> R | State[R]:
    """``result``, or a Completed state named for the approval outcome when nothing was approved."""
    if approval.status == "rejected":
        return Completed(data=result, name=REJECTED_STATE, message=approval.summary())
    if approval.status == "timed-out":
        return Completed(data=result, name=TIMED_OUT_STATE, message=approval.summary())
    return result


class FlowTimeLimit(TimeoutError):
    """A flow run took longer than its ``timeouts.<flow>`` (Prefect turns it into a TimedOut state)."""


@contextmanager
def time_limit(settings: Settings, key: str) -> Iterator[None]:
    """Raise ``FlowTimeLimit`` inside the block after ``settings.timeouts.<key>`` seconds.

    The limit comes from the config read at run time, which a ``@flow(timeout_seconds=...)`` fixed at
    import cannot do. Like Prefect's own flow timeout it interrupts Python code between bytecodes: a call
    blocked in C (a socket read) returns first, and Jira and database calls have their own timeouts."""
    seconds = getattr(settings.timeouts, key)
    try:
        with timeout(seconds=seconds, timeout_exc_type=FlowTimeLimit):
            yield
    except FlowTimeLimit:
        raise FlowTimeLimit(f"the run took longer than timeouts.{key} = {seconds} s") from None
