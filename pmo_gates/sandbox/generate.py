"""Deterministic, realistic PMO portfolios as snapshots (the bundled sample and benchmark portfolios).

Each Jira project has exactly one anchor issue of type ``Project`` whose custom fields hold the PMO metadata
(phase, planned dates, budget, cost, manager, ...; see ``portfolio_model.CUSTOM_FIELDS``). The other issues
are Epics, Stories, Tasks, Bugs and Risks with assignees from a shared pool of people (a few of them on many
projects), story points, estimates, worklogs, status histories with rework (In Review -> In Progress) and
reopens (Done -> To Do), ``Blocks`` links within and across projects, due dates and scope added after the
phase baseline. Each project gets a phase and traits (late, blocked, over budget, scope creep, incomplete
metadata) so that every PMO rule has something to find.

Example::

    snap = generate_portfolio(projects=10, issues_per_project=30, seed=7, today=date(2026, 11, 2))

Command line (the benchmark uses 2,000 projects x 100 issues)::

    python -m pmo_gates.sandbox.generate --projects 2000 --issues-per-project 100 --seed 1 --out big.json
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from datetime import date
from importlib import resources
from pathlib import Path

from pmo_gates.sandbox import catalog
from pmo_gates.sandbox.gc_pause import gc_paused
from pmo_gates.sandbox.portfolio_builder import PortfolioBuilder
from pmo_gates.sandbox.portfolio_model import ProjectProfile, default_profiles
from pmo_gates.sandbox.snapshot import Snapshot

SAMPLE_TODAY = date(2026, 11, 2)
SAMPLE_SEED = 20261102
SAMPLE_PROJECTS = 10
SAMPLE_ISSUES_PER_PROJECT = 34
# Above this many issues the CLI writes compact snapshots unless told otherwise.
COMPACT_FROM_ISSUES = 50_000


def sample_portfolio_path() -> Path:
    """The bundled sample portfolio (10 projects, a few hundred issues, exported 2026-11-02)."""
    return Path(str(resources.files("pmo_gates.sandbox") / "data" / "sample-portfolio.json"))


def generate_sample() -> Snapshot:
    """The bundled sample, regenerated: ``data/sample-portfolio.json`` holds exactly this."""
    return generate_portfolio(
        projects=SAMPLE_PROJECTS, issues_per_project=SAMPLE_ISSUES_PER_PROJECT, seed=SAMPLE_SEED, today=SAMPLE_TODAY
    )


def generate_portfolio(
    *,
    projects: int,
    issues_per_project: int,
    seed: int,
    today: date,
    people: int | None = None,
    profiles: Sequence[ProjectProfile] | None = None,
    base_url: str = catalog.DEFAULT_BASE_URL,
    compact: bool = False,
    heavy_issues: int = 0,
) -> Snapshot:
    """A portfolio of ``projects`` Jira projects with about ``issues_per_project`` issues each (+-15%).

    Deterministic for a seed. ``today`` is the export date: every timestamp lies before 06:00 UTC that day.
    ``people`` sizes the shared pool (default: 2.5 per project, at least 8); ``profiles`` fixes each
    project's phase and traits (default: ``default_profiles``: the sample's mix, then random). ``compact``
    leaves out what Jira adds for display (``self`` links of embedded objects, icons, empty comment and
    worklog pages): about half the size, for benchmark portfolios. ``heavy_issues`` gives that many work
    items a long life (100+ changelog histories and 20+ worklogs, more than Jira embeds in a search or an
    issue), so the changelog bulk fetch and worklog paging paths get exercised; other issues are unchanged.
    """
    if projects < 1 or issues_per_project < 3:
        raise ValueError("need at least 1 project and 3 issues per project")
    rng = random.Random(seed)
    chosen = list(profiles) if profiles is not None else default_profiles(projects, rng)
    if len(chosen) != projects:
        raise ValueError(f"got {len(chosen)} profiles for {projects} projects")
    for profile in chosen:
        profile.check()
    with gc_paused():
        builder = PortfolioBuilder(rng, today, base_url, people or max(8, round(projects * 2.5)), compact)
        for index, profile in enumerate(chosen):
            builder.add_project(index, profile, issues_per_project)
        builder.link_blockers()
        builder.make_heavy(heavy_issues, random.Random(seed + 1))
        return builder.snapshot()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pmo_gates.sandbox.generate", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sample", action="store_true", help="rewrite the bundled sample (after changing the generator)"
    )
    parser.add_argument("--projects", type=int)
    parser.add_argument("--issues-per-project", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=date.fromisoformat, default=SAMPLE_TODAY, help="export date, yyyy-mm-dd")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--heavy-issues", type=int, default=0, help="issues with 100+ histories and 20+ worklogs (paging paths)"
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--compact", dest="compact", action="store_true", default=None, help="leave out display data")
    size.add_argument("--full", dest="compact", action="store_false", help="keep display data at any size")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    if args.sample:
        out = args.out or sample_portfolio_path()
        snap = generate_sample()
    else:
        if args.projects is None or args.issues_per_project is None or args.out is None:
            parser.error("--projects, --issues-per-project and --out are required (or use --sample)")
        out = args.out
        big = args.projects * args.issues_per_project >= COMPACT_FROM_ISSUES
        snap = generate_portfolio(
            projects=args.projects,
            issues_per_project=args.issues_per_project,
            seed=args.seed,
            today=args.today,
            compact=args.compact if args.compact is not None else big,
            heavy_issues=args.heavy_issues,
        )
    snap.dump(out)
    seconds = time.perf_counter() - began
    counts = f"{len(snap.projects)} projects, {len(snap.issues)} issues"
    print(f"wrote {out}: {counts}, {out.stat().st_size / 1e6:.1f} MB in {seconds:.1f}s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
