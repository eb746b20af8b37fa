"""Hand-built portfolios for the root-cause analysis and report tests (rows straight into the store).

``delayed_project`` is the common base: 20 baseline work items, 5 of them resolved in the last 42 days
(throughput 5/42 items a day) and 15 open, planned to end 20 days from now after 100 days: far behind.
Each cause test adds its own evidence to it, so the cause's numbers are known exactly.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Any

from pmo_gates.rca.playbook import Playbook, load_playbook
from tests.fixtures_facts import TODAY, Portfolio, at

__all__ = ["PER_DAY", "TODAY", "RcaPortfolio", "at", "days_ago", "playbook"]

PER_DAY = 5 / 42  # the base project's throughput: 5 items resolved over the 42-day window


def days_ago(n: float, hour: int = 12) -> datetime:
    return at(TODAY - timedelta(days=n), hour)


@functools.cache
def playbook() -> Playbook:
    return load_playbook()


class RcaPortfolio(Portfolio):
    """The facts tests' builder, plus due dates and estimates, and the shapes the RCA tests reuse."""

    def work(
        self,
        project: str,
        status: str = "To Do",
        *,
        due: date | None = None,
        estimate_h: float | None = None,
        spent_h: float | None = None,
        **kwargs: Any,
    ) -> str:
        key = self.issue(project, status, time_spent_s=round(spent_h * 3600) if spent_h is not None else None, **kwargs)
        self.issues[-1].update(
            due_date=due, original_estimate_s=round(estimate_h * 3600) if estimate_h is not None else None
        )
        return key

    def delayed_project(self, key: str = "LATE", **fields: Any) -> list[str]:
        """The base delayed project; returns its 15 open items' keys (assigned to two people, 8 + 7)."""
        self.project(
            key,
            anchor=True,
            phase="execution",
            planned_start=TODAY - timedelta(days=100),
            planned_end=TODAY + timedelta(days=20),
            baseline_date=TODAY - timedelta(days=95),
            project_manager_id="pm-1",
            project_manager_name="Pat Manager",
            **fields,
        )
        created = days_ago(98)
        for n in range(5):
            self.work(key, "Done", created=created, resolved=days_ago(5 + 7 * n), assignee="carol")
        return [self.work(key, "To Do", created=created, assignee="carol" if n < 8 else "dave") for n in range(15)]

    def on_time_project(self, key: str = "FINE") -> None:
        """10 items, 6 done in the window at a pace that ends on plan."""
        self.project(
            key,
            anchor=True,
            phase="execution",
            planned_start=TODAY - timedelta(days=60),
            planned_end=TODAY + timedelta(days=40),
            baseline_date=TODAY - timedelta(days=58),
        )
        for n in range(6):
            self.work(key, "Done", created=days_ago(59), resolved=days_ago(2 + 6 * n), assignee="erin")
        for _ in range(4):
            self.work(key, "To Do", created=days_ago(59), assignee="erin")
