"""What ``pmo-gates init`` learns from a Jira before proposing anything: flavour, the account's time zone,
the projects (with lead and issue types), the fields matched to our names, and the existing anchors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from pmo_gates.config import FieldMap
from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.projects import fetch_projects
from pmo_gates.onboarding.field_match import FieldMatch, match_field
from pmo_gates.onboarding.jira_checks import find_anchors


class ProjectInfo(BaseModel):
    key: str
    name: str
    lead: dict[str, Any] | None = None
    issue_types: list[str] = Field(default_factory=list)
    anchors: list[str] = Field(default_factory=list, description="Keys of its anchor issues.")


class JiraSurvey(BaseModel):
    url: str
    flavour: str
    timezone: str
    account: str
    anchor_issue_type: str
    projects: list[ProjectInfo]
    fields: dict[str, FieldMatch] = Field(description="config key -> how our default name matched Jira's fields")
    field_names: list[str] = Field(default_factory=list, description="Every field name Jira has (for a re-match).")

    def project(self, key: str) -> ProjectInfo | None:
        return next((p for p in self.projects if p.key == key), None)


def all_projects(client: JiraClient) -> list[dict[str, Any]]:
    """Every project the account can browse (Cloud pages /project/search; Data Center lists /project)."""
    if not client.is_cloud:
        return [p for p in client.get("/project", {"expand": "lead,issueTypes"}) or [] if isinstance(p, dict)]
    found: list[dict[str, Any]] = []
    while True:
        page = client.get("/project/search", {"startAt": len(found), "maxResults": 50, "expand": "lead,issueTypes"})
        values = page.get("values") or []
        found.extend(values)
        if page.get("isLast", True) or not values:
            return found


def survey_jira(
    client: JiraClient, *, url: str, projects: list[str] | None, anchor_issue_type: str, field_map: FieldMap
) -> tuple[JiraSurvey, list[str]]:
    """The survey, and the requested project keys Jira does not have (or the account cannot see)."""
    me = client.get("/myself")
    raw = fetch_projects(client, projects, expand="lead,issueTypes") if projects else all_projects(client)
    by_key = {p["key"]: p for p in raw if p.get("key")}
    missing = [k for k in projects or [] if k not in by_key]
    fields = client.get("/field") or []
    matches = {key: match_field(name, fields) for key, name in field_map.model_dump().items()}
    keys = sorted(by_key)
    anchor_ids: list[str] = []
    usable = [k for k in keys if anchor_issue_type in _types(by_key[k])]
    anchors = find_anchors(client, usable, anchor_issue_type, anchor_ids) if usable else {}
    infos = [
        ProjectInfo(
            key=k,
            name=str(by_key[k].get("name") or k),
            lead=by_key[k].get("lead") if isinstance(by_key[k].get("lead"), dict) else None,
            issue_types=_types(by_key[k]),
            anchors=sorted((i["key"] for i in anchors.get(k, [])), key=lambda s: int(s.rsplit("-", 1)[1])),
        )
        for k in keys
    ]
    survey = JiraSurvey(
        url=url,
        flavour=client.flavour,
        timezone=str(me.get("timeZone") or "UTC"),
        account=str(me.get("emailAddress") or me.get("name") or me.get("accountId") or ""),
        anchor_issue_type=anchor_issue_type,
        projects=infos,
        fields=matches,
        field_names=sorted({str(f.get("name")) for f in fields if f.get("name")}),
    )
    return survey, missing


def _types(project: dict[str, Any]) -> list[str]:
    return [str(t.get("name")) for t in project.get("issueTypes") or [] if t.get("name")]
