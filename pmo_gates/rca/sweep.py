"""Accuracy of the analysis across data-generating assumptions: the sweep the tests and benchmark run.

Each variation is a :class:`~pmo_gates.rca.scenarios.Scenario` (the second, independent generator) with
one assumption changed; the first generator (:mod:`pmo_gates.rca.synthetic`) is scored the same way. For
each: top-1 (the planted primary cause ranked first) and top-2 (ranked first or second), per cause and
overall, delayed projects not detected, and on-time projects flagged.
"""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pmo_gates.rca.analyse import RcaReport, analyse_portfolio
from pmo_gates.rca.playbook import Playbook, load_playbook
from pmo_gates.rca.scenarios import Scenario, load_scenario, plan_scenario
from pmo_gates.store import Store

VARIATIONS: dict[str, Scenario] = {
    "baseline": Scenario(),
    "backlog_at_start": Scenario(backlog_days=(0, 0)),
    "backlog_over_30_days": Scenario(backlog_days=(25, 30)),
    "phase_history_at_start": Scenario(phase_history="at_start"),
    "phase_history_after_backlog": Scenario(phase_history="after_backlog"),
    "mapped_baseline": Scenario(mapped_baseline=True),
    "rework_lingers_in_progress": Scenario(lingering_rework=1.0),
    "blockers_outside_portfolio": Scenario(external_blockers=1.0),
    "sparse_data": Scenario(sparse=True),
    "two_causes": Scenario(two_causes=1.0, secondary_ratio=(0.5, 0.75)),
    "team_norms_differ": Scenario(team_pace_spread=0.5),
    "all_at_once": Scenario(
        backlog_days=(10, 30),
        two_causes=1.0,
        team_pace_spread=0.5,
        lingering_rework=0.8,
        external_blockers=0.8,
        phase_history="at_start",
    ),
}


@dataclass
class Score:
    """Planted-cause accuracy of one portfolio."""

    delayed: int = 0
    top1: int = 0
    top2: int = 0
    undetected: int = 0
    on_time: int = 0
    flagged: int = 0
    per_cause: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))  # n, top1, top2
    misses: Counter[tuple[str, str | None]] = field(default_factory=Counter)

    def add(self, other: Score) -> None:
        for name in ("delayed", "top1", "top2", "undetected", "on_time", "flagged"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for cause, counts in other.per_cause.items():
            mine = self.per_cause[cause]
            for i in range(3):
                mine[i] += counts[i]
        self.misses.update(other.misses)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.delayed if self.delayed else 1.0

    @property
    def top2_rate(self) -> float:
        return self.top2 / self.delayed if self.delayed else 1.0


def score(report: RcaReport, truth: dict[str, tuple[str, list[str]]]) -> Score:
    """``truth``: project -> (delayed | on_time | closed, planted causes primary first)."""
    by_key = {p.key: p for p in report.projects}
    result = Score()
    for key, (kind, planted) in truth.items():
        project = by_key[key]
        if kind != "delayed":
            result.on_time += 1
            result.flagged += project.delayed
            continue
        ranked = [c.cause for c in project.causes]
        primary = planted[0]
        result.delayed += 1
        result.undetected += not project.delayed
        first, second = ranked[:1] == [primary], primary in ranked[:2]
        result.top1 += first
        result.top2 += second
        counts = result.per_cause[primary]
        counts[0] += 1
        counts[1] += first
        counts[2] += second
        if not first:
            result.misses[(primary, ranked[0] if ranked else None)] += 1
    return result


def run_scenario(
    scenario: Scenario, *, seed: int, playbook: Playbook | None = None, workdir: Path | None = None
) -> Score:
    """Generate one portfolio on a throw-away SQLite store, analyse it, score it."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'sweep.db'}")
        try:
            plan = plan_scenario(scenario, seed=seed)
            load_scenario(store, plan)
            report = analyse_portfolio(store, today=plan.today, playbook=playbook or load_playbook())
            return score(report, plan.truth)
        finally:
            store.dispose()


def run_synthetic(*, projects: int, issues_per_project: int, seed: int, playbook: Playbook | None = None) -> Score:
    """The first generator, scored the same way."""
    from pmo_gates.rca.synthetic import load_plan, plan_portfolio

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'synthetic.db'}")
        try:
            plan = plan_portfolio(projects=projects, issues_per_project=issues_per_project, seed=seed)
            load_plan(store, plan)
            report = analyse_portfolio(store, today=plan.today, playbook=playbook or load_playbook())
            truth = {p.key: (p.kind, [c for c, _ in p.causes]) for p in plan.projects}
            return score(report, truth)
        finally:
            store.dispose()
