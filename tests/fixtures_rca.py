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

__all__ = ["PER_DAY", "TODAY", "RcaPortfolio", "at", "days_ago", "playbook", "report_portfolio"]

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


def report_portfolio(store) -> None:
    """Five projects with known report figures (see tests/test_reports_build.py for the answers)."""
    from pmo_gates.store.models import GateDecision, RcaResult

    p = RcaPortfolio()
    plan = {"planned_start": TODAY - timedelta(days=50), "planned_end": TODAY + timedelta(days=50)}
    p.project("A", anchor=True, phase="execution", budget=1000.0, actual_cost=500.0, strategic_value=5.0,
              expected_roi=40.0, **plan)  # fmt: skip
    for n in range(5):
        kind = "Bug" if n == 0 else "Task"
        done = p.work("A", "Done", type=kind, created=days_ago(45), resolved=days_ago(5 + 7 * n), assignee="bob")
        p.worklog(done, 7200)
        p.worklogs[-1]["author_id"] = "bob"
    p.work("A", "To Do", type="Bug", created=days_ago(45), assignee="alice", updated=days_ago(2))
    p.work("A", "To Do", created=days_ago(45), assignee="alice", key="A-BILL", updated=days_ago(2))
    p.issues[-1]["summary"] = "Migrate the billing DB"
    p.work("A", "To Do", created=days_ago(45), assignee="frank", updated=days_ago(2))
    p.work("A", "To Do", created=days_ago(45), assignee="alice", updated=days_ago(2))
    p.work("A", "To Do", created=days_ago(45), assignee="alice", updated=days_ago(2))

    p.project("B", anchor=True, phase="execution", budget=2000.0, actual_cost=1000.0, strategic_value=1.0,
              expected_roi=10.0, **plan)  # fmt: skip
    p.work("B", "Done", created=days_ago(45), resolved=days_ago(20), assignee="carol")
    reopened = p.work("B", "Done", created=days_ago(45), resolved=days_ago(10), assignee="carol")
    p.move(reopened, days_ago(30), "To Do", "Done")
    p.move(reopened, days_ago(20), "Done", "In Progress")
    p.move(reopened, days_ago(10), "In Progress", "Done")
    p.work("B", "To Do", created=days_ago(45), assignee="alice", key="B-BILL", updated=days_ago(1))
    p.issues[-1]["summary"] = "migrate the  Billing db!"
    p.work("B", "To Do", created=days_ago(45), assignee="frank", updated=days_ago(1))
    for _ in range(6):
        p.work("B", "To Do", created=days_ago(45), assignee="alice", updated=days_ago(1))

    p.project("C", phase="closed", planned_start=TODAY - timedelta(days=90), planned_end=TODAY - timedelta(days=10),
              expected_roi=25.0)  # fmt: skip
    for _ in range(3):
        p.work("C", "Done", created=days_ago(80), resolved=days_ago(15), assignee="bob")

    p.project(
        "D", phase="execution", planned_start=TODAY - timedelta(days=100), planned_end=TODAY + timedelta(days=100)
    )
    p.work("D", "To Do", created=days_ago(60), updated=days_ago(40), assignee="alice")
    p.work("D", "To Do", created=days_ago(60), updated=days_ago(41), assignee="frank")

    p.project("E", phase="execution", planned_start=TODAY - timedelta(days=2), planned_end=TODAY + timedelta(days=100))
    for _ in range(2):
        p.work("E", "In Progress", created=days_ago(2), updated=days_ago(1), assignee="dave")
    p.work("E", "To Do", created=days_ago(2), updated=days_ago(1), assignee="frank")
    p.save(store)

    def decision(project: str, gate: str, verdict: str, day: str) -> dict[str, Any]:
        return dict(project_key=project, gate=gate, decision=verdict, score=50.0, rules_hash="r", data_hash="d",
                    evaluated_at=at(day), criteria=[])  # fmt: skip

    def rca(project: str, period: str, delayed: bool, slip: float | None, top: str | None) -> dict[str, Any]:
        causes = [{"cause": top, "score": 0.5, "share": 0.5}] if top else []
        return dict(project_key=project, period=period, analysed_at=at(f"{period}-01"), delayed=delayed,
                    slip_days=slip, causes=causes, remedies=[])  # fmt: skip

    with store.session() as session:
        session.add_all(
            GateDecision(**row)
            for row in (
                decision("A", "planning", "hold", "2026-09-15"),
                decision("A", "execution", "go", "2026-10-20"),
                decision("B", "execution", "kill", "2026-10-25"),
                decision("C", "closure", "conditional_go", "2026-09-10"),
            )
        )
        session.add_all(
            RcaResult(**row)
            for row in (
                rca("A", "2026-09", True, 20.0, "scope_creep"),
                rca("B", "2026-09", False, 0.0, None),
                rca("A", "2026-10", True, 30.0, "rework"),
                rca("B", "2026-10", True, 50.0, "scope_creep"),
                rca("D", "2026-10", True, 10.0, "scope_creep"),
            )
        )
