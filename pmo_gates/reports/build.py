"""``build_reports``: every portfolio report from the store, written to a folder.

The store is read in bulk: one fact computation for every project (the facts all sections need, in one
pass), then a fixed number of GROUP BY queries (people, activity, gate decisions, history) and one
streamed scan of open summaries, whatever the portfolio size.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from pmo_gates.config import ReportsConfig, Settings
from pmo_gates.connectors.redact import Redactor
from pmo_gates.rca.analyse import fact_params
from pmo_gates.rca.causes import OverloadParams
from pmo_gates.rca.playbook import Playbook, load_playbook
from pmo_gates.rca.run import playbook_path
from pmo_gates.reports import cost, goals, quality, stale
from pmo_gates.reports.data_errors import data_errors_section, isolated
from pmo_gates.reports.dates import end_of_day
from pmo_gates.reports.models import ReportBundle, Section
from pmo_gates.reports.options import ReportOptions
from pmo_gates.reports.priority import PriorityPlaybook, PriorityScorer, load_priority
from pmo_gates.reports.ranking import priority_section
from pmo_gates.reports.render import markdown, page, scrub, write_charts, write_csv
from pmo_gates.reports.resources import resources_section
from pmo_gates.reports.trends import trends_section
from pmo_gates.rules.facts.compute import compute_fact_table
from pmo_gates.store import Store
from pmo_gates.store.data_errors import stored_problems
from pmo_gates.store.models import Project
from pmo_gates.store.readiness import require_projects


def _redactor(settings: Settings | None) -> Redactor:
    """The run's secrets, masked in every output: the store holds none, but a Jira field could echo one."""
    if settings is None:
        return Redactor([])
    token = settings.jira.auth.token()
    return Redactor([token.get_secret_value()] if token else [], email=settings.jira.auth.email)


def build_reports(
    store: Store,
    *,
    today: date,
    settings: Settings | None = None,
    out_dir: Path | str | None = None,
    options: ReportOptions | None = None,
    playbook: Playbook | None = None,
    priority: PriorityPlaybook | None = None,
) -> ReportBundle:
    """Compute every report as of ``today`` and write them into ``out_dir`` (default: the config's
    ``reports.out_dir``). ``options``, ``playbook`` (RCA) and ``priority`` default to the config's and
    the files found through ``rules.paths``, else the shipped ones. Raises
    :class:`~pmo_gates.rca.yamlfile.PlaybookError` for an invalid playbook or priority file."""
    options = options or (settings.reports if settings is not None else ReportsConfig()).options()
    playbook = playbook or load_playbook(playbook_path(settings, "rca.yaml"))
    scorer = PriorityScorer(priority or load_priority(playbook_path(settings, "priority.yaml")))
    folder = Path(out_dir) if out_dir is not None else (settings.reports if settings else ReportsConfig()).out_dir
    ignore = playbook.work.ignore_issue_types
    limits = playbook.cause("resource_overload").params
    assert isinstance(limits, OverloadParams)  # the playbook model gives each cause its own params type

    with store.session() as session:
        require_projects(session)
    wanted = {*scorer.facts, *goals.FACTS, *cost.FACTS, *quality.FACTS, *stale.FACTS}
    # The RCA's fact settings, so "delayed" here is exactly what the root-cause analysis calls delayed.
    table = compute_fact_table(
        store,
        today=today,
        only=sorted(wanted),
        params=fact_params(playbook, settings.fact_params() if settings is not None else None),
    )
    facts, problems = table.values, table.problems
    # Each per-project section is built without the projects it fails on (their data errors say why).
    statuses = isolated("goals", lambda f: goals.schedule_statuses(f, playbook.detection, today), facts, problems)
    with store.session() as session:
        names = {key: name or "" for key, name in session.execute(select(Project.key, Project.name))}
        latest = goals.latest_decisions(session, end_of_day(today))
        sections: list[Section] = [
            isolated(
                "priority", lambda f: priority_section(scorer, f, names, statuses, today, options), facts, problems
            ),
            resources_section(session, today=today, options=options, ignore_issue_types=ignore, limits=limits),
            isolated("cost", lambda f: cost.cost_section(f, names, options), facts, problems),
            isolated("goals", lambda f: goals.goals_section(f, names, statuses, latest, options), facts, problems),
            isolated("quality", lambda f: quality.quality_section(f, names, options), facts, problems),
            isolated(
                "stale",
                lambda f: stale.stale_section(
                    session,
                    facts=f,
                    latest=latest,
                    names=names,
                    today=today,
                    options=options,
                    ignore_issue_types=ignore,
                ),
                facts,
                problems,
            ),
            trends_section(session, today=today, options=options),
        ]
        problems += stored_problems(session, facts)
        sections.append(data_errors_section(problems, names, options))
    redact = _redactor(settings)
    sections = [scrub(section, redact) for section in sections]

    folder.mkdir(parents=True, exist_ok=True)
    charts, pngs = write_charts(sections, folder)
    tables = {table.key: table for section in sections for table in section.tables}
    csv_paths = write_csv(list(tables.values()), folder)
    html_path = folder / "index.html"
    html_path.write_text(page(sections, pngs, today, options.html_rows), encoding="utf-8")
    return ReportBundle(
        today=today,
        out_dir=folder,
        html_path=html_path,
        markdown=markdown(sections, today),
        tables=tables,
        charts=charts,
        csv_paths=csv_paths,
        sections={section.key: section.figures for section in sections},
    )
