"""The ``portfolio-report`` flow: every portfolio report from the store, written as an HTML page with PNG
charts (and CSV tables) and shown in Prefect: ``portfolio-report`` (markdown), one table artifact per
report table (``report-<table>``), every chart as an image artifact (``report-chart-<chart>``) and all of
them on one markdown page (``portfolio-report-charts``), the images embedded as ``data:`` URLs so the UI
shows them without reaching the worker's disk, and ``portfolio-report-html``, a link to the page on the
worker.

Example::

    portfolio_report(config_path="pmo-gates.yaml")
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic.json_schema import SkipJsonSchema

from pmo_gates.config import Settings
from pmo_gates.flows.artifacts import ArtifactPublisher, artifact_key, png_data_url
from pmo_gates.flows.context import resolve_settings
from pmo_gates.flows.results import ReportResult
from pmo_gates.flows.states import time_limit
from pmo_gates.reports.build import build_reports
from pmo_gates.reports.models import ReportBundle
from pmo_gates.store import Store

FLOW_NAME = "portfolio-report"


@task(name="build-reports", cache_policy=NO_CACHE, persist_result=False)
def build_task(settings: Settings, today: date, out_dir: Path | None) -> ReportBundle:
    store = Store(settings.database_url())
    try:
        return build_reports(store, today=today, settings=settings, out_dir=out_dir)
    finally:
        store.dispose()


def charts_markdown(bundle: ReportBundle, images: dict[str, str | None]) -> str:
    """Every chart on one page, embedded (``images``: chart key -> data URL, None when too big)."""
    lines = [f"# Portfolio report charts {bundle.today.isoformat()}"]
    for chart in bundle.charts:
        url = images.get(chart.key)
        lines += ["", f"## {chart.title}", ""]
        lines.append(
            f"![{chart.title}]({url})" if url else f"_Too big to embed: see {chart.path.name} in the HTML report._"
        )
    return "\n".join(lines)


def publish_reports(publisher: ArtifactPublisher, bundle: ReportBundle) -> None:
    publisher.markdown(FLOW_NAME, bundle.markdown, f"Portfolio report {bundle.today.isoformat()}")
    for key, table in bundle.tables.items():
        publisher.table(artifact_key("report", key), table.rows, table.title)
    images = {chart.key: png_data_url(chart.path) for chart in bundle.charts}
    for chart in bundle.charts:
        url = images[chart.key]
        if url:
            publisher.image(artifact_key("report-chart", chart.key), url, chart.title)
    if bundle.charts:
        publisher.markdown(
            artifact_key(FLOW_NAME, "charts"), charts_markdown(bundle, images), f"{len(bundle.charts)} chart(s)"
        )
    publisher.link(
        artifact_key(FLOW_NAME, "html"), bundle.html_path, "Portfolio report (HTML, with charts)",
        f"{len(bundle.charts)} chart(s) in {bundle.out_dir}",
    )  # fmt: skip


@flow(name=FLOW_NAME, persist_result=True)
def portfolio_report(
    config_path: str | None = None,
    credentials_block: str | None = None,
    out_dir: str | None = None,
    settings: SkipJsonSchema[Settings | None] = None,
) -> ReportResult:
    """Build the portfolio reports (HTML with charts, CSV tables) and show them as artifacts.

    Args:
        config_path: The pmo-gates config file; relative paths are read in PMO_GATES_WORKDIR on the worker.
        credentials_block: Name of a saved Jira Credentials block; empty: the token env var the config names.
            Unused here (the reports read only the store): accepted so every deployment takes the same parameters.
        out_dir: Folder for the report files; default: the config's reports.out_dir.
    """
    settings = resolve_settings(config_path, settings)
    today = settings.today or date.today()
    with time_limit(settings, "portfolio_report"):
        bundle = build_task(settings, today, Path(out_dir) if out_dir else None)
    token = settings.jira.auth.token()  # the store holds no secret; scrub the token anyway, as every flow does
    publish_reports(
        ArtifactPublisher([token.get_secret_value()] if token else [], email=settings.jira.auth.email), bundle
    )
    get_run_logger().info("report written to %s", bundle.html_path)
    return ReportResult(
        today=bundle.today.isoformat(),
        out_dir=str(bundle.out_dir),
        html=str(bundle.html_path),
        charts=[str(chart.path) for chart in bundle.charts],
        figures=bundle.figures(),
    )
