"""Data errors in the report: each project's bad Jira data and what failed judging it, and isolation of the
per-project sections so that one project's data never stops the report for the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pmo_gates.reports.models import Section, Table
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.text import plural
from pmo_gates.store.data_errors import DataProblem

log = logging.getLogger(__name__)
T = TypeVar("T")
Facts = Mapping[str, Mapping[str, Any]]

COLUMNS = ["project", "name", "source", "key", "field", "message"]
# Re-runs of a failing section on parts of the portfolio to find the projects it fails on, at most.
MAX_ISOLATION_RUNS = 64


def isolated(section: str, build: Callable[[Facts], T], facts: Facts, problems: list[DataProblem]) -> T:
    """``build(facts)``; when it raises, ``build`` on every project but the ones it fails on (found by
    bisection), each of those recorded in ``problems`` as a data error of the ``section``."""
    try:
        return build(facts)
    except Exception as exc:
        first = exc
    runs = [MAX_ISOLATION_RUNS]
    bad: dict[str, str] = {}

    def bisect(keys: list[str], error: Exception) -> None:
        if len(keys) == 1 or runs[0] <= 0:
            bad.update(dict.fromkeys(keys, f"{type(error).__name__}: {error}"))
            return
        half = len(keys) // 2
        for part in (keys[:half], keys[half:]):
            runs[0] -= 1
            try:
                build({key: facts[key] for key in part})
            except Exception as exc:
                bisect(part, exc)

    bisect(sorted(facts), first)
    log.warning("report section %s failed for %s", section, ", ".join(sorted(bad)))
    problems += [
        DataProblem(project_key=key, source="report", key=key, field=section, message=message[:500])
        for key, message in sorted(bad.items())
    ]
    return build({key: value for key, value in facts.items() if key not in bad})


def data_errors_section(problems: Sequence[DataProblem], names: Mapping[str, str], options: ReportOptions) -> Section:
    """Every data error, judging failures (facts, rules, report) first, then the sync's by Jira key."""
    ordered = sorted(problems, key=lambda p: (p.project_key, p.source == "sync"))
    rows = [
        {
            "project": p.project_key,
            "name": names.get(p.project_key, ""),
            "source": p.source,
            "key": p.key,
            "field": p.field,
            "message": p.message,
        }
        for p in ordered
    ]
    projects = sorted({p.project_key for p in problems})
    judging = sorted({p.project_key for p in problems if p.source != "sync"})
    summary = [
        f"**{plural(len(problems), 'data error')}** in {plural(len(projects), 'project')}: each project is "
        "judged on its valid data only; fix these in Jira."
        if problems
        else "No data errors: every value synced from Jira was usable."
    ]
    if judging:
        summary.append(f"Could not be fully judged: **{', '.join(judging[: options.chart_items])}**.")
    return Section(
        key="data_errors",
        title="Data errors",
        intro="Values in Jira that could not be used (by issue key and field), and facts, rules or report "
        "sections that failed on a project's data.",
        summary=summary,
        tables=[Table(key="data_errors", title="Data errors", columns=COLUMNS, rows=rows)],
        figures={"data_errors": len(problems), "projects": len(projects), "not_fully_judged": judging},
    )
