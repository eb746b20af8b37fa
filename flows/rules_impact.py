"""The ``rules-impact`` flow: a rule change's effect on every project (findings and gate decisions that
would change, and why), published as a markdown artifact and a table artifact so the PMO lead reviewing
the pull request sees it in the Prefect UI. Reads the store only; writes nothing to Jira.

Example::

    rules_impact_flow(config_path="pmo-gates.yaml", base_ref="main")
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from pmo_gates.config import Settings
from pmo_gates.flows.artifacts import ArtifactPublisher, artifact_key
from pmo_gates.flows.context import resolve_settings
from pmo_gates.impact.compare import ImpactReport
from pmo_gates.impact.render import render_markdown, rows, summary_line
from pmo_gates.impact.run import rules_impact
from pmo_gates.store import Store

FLOW_NAME = "rules-impact"


def publish_impact(publisher: ArtifactPublisher, report: ImpactReport) -> None:
    publisher.markdown(artifact_key(FLOW_NAME, "summary"), render_markdown(report), summary_line(report))
    publisher.table(artifact_key(FLOW_NAME, "changes"), rows(report), "Findings and decisions that would change")


@flow(name=FLOW_NAME)
def rules_impact_flow(
    config_path: str | None = None,
    base_ref: str | None = None,
    base_dirs: list[str] | None = None,
    head_dirs: list[str] | None = None,
    settings: Settings | None = None,
) -> dict:
    """Compare the base rules (a git ref or folders) with the current ones on the store's data."""
    settings = resolve_settings(config_path, settings)
    store = Store(settings.database_url())
    try:
        report = rules_impact(
            settings,
            store,
            base_ref=base_ref,
            base_dirs=[Path(p) for p in base_dirs] if base_dirs else None,
            head_dirs=[Path(p) for p in head_dirs] if head_dirs else None,
        )
    finally:
        store.dispose()
    publish_impact(ArtifactPublisher(), report)
    return report.model_dump(mode="json")
