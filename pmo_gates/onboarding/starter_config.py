"""The starter ``pmo-gates.yaml`` that ``init`` writes: what Jira told us, with a comment wherever a person
has to look (a field only nearly matched, a field Jira does not have yet)."""

from __future__ import annotations

import json

from pmo_gates.config import FieldMap, parse_settings
from pmo_gates.onboarding.survey import JiraSurvey


def _q(value: str) -> str:
    """A YAML scalar that survives any text (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


def render_config(
    survey: JiraSurvey,
    *,
    email: str | None,
    token_env: str,
    database_url: str = "sqlite:///pmo-gates.db",
    created_fields: set[str] = frozenset(),  # type: ignore[assignment]
) -> str:
    """The config text; ``created_fields`` are config keys the setup plan creates under our default names."""
    defaults = FieldMap().model_dump()
    lines = [
        "# pmo-gates configuration, written by `pmo-gates init` from what Jira reported.",
        "# Check it with `pmo-gates doctor`; every key is documented in the README (Configuration).",
        "jira:",
        f"  url: {_q(survey.url)}",
        f"  flavour: {survey.flavour}",
        "  auth:",
    ]
    if email:
        lines.append(f"    email: {_q(email)}")
    lines += [
        f"    token_env: {token_env}   # the token itself never goes in this file",
        "",
        "portfolio:",
        "  projects:",
        *(f"    - {p.key}   # {p.name}" for p in survey.projects),
        f"  anchor_issue_type: {_q(survey.anchor_issue_type)}   # one such issue per project holds the PMO fields",
        "",
        "fields:   # PMO metadata, by Jira field name",
    ]
    for key, default in defaults.items():
        match = survey.fields[key]
        if match.found and match.jira_name:
            lines.append(f"  {key}: {_q(match.jira_name)}")
        elif key in created_fields:
            lines.append(f"  {key}: {_q(default)}   # created by `pmo-gates init --create-fields`")
        elif match.near:
            lines.append(f"  {key}: {_q(match.near[0])}   # nearest Jira field to {_q(default)}: check it")
        else:
            lines.append(f"  {key}: {_q(default)}   # not in Jira yet: create it (see `pmo-gates doctor`)")
    lines += [
        "",
        "database:",
        f"  url: {_q(database_url)}   # or env PMO_GATES_DATABASE_URL (postgresql+psycopg://...)",
        "",
        "schedules:",
        f"  timezone: {_q(survey.timezone)}   # the Jira account's time zone",
        "",
    ]
    text = "\n".join(lines)
    parse_settings(text, "<starter config>")  # what we write must load: fail here, not at the user's first run
    return text
