"""Doctor's checks that need an authenticated Jira client: credentials, permissions, mapped fields, the
anchor issue type, and each project's anchor issue with its empty PMO fields."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

from pmo_gates.config import Settings
from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.errors import JiraAuthError, JiraConnectorError
from pmo_gates.connectors.projects import fetch_projects
from pmo_gates.connectors.search import IssueSearch, quote
from pmo_gates.onboarding.field_match import FieldMatch, match_field
from pmo_gates.onboarding.field_specs import REQUIRED_FOR_REVIEW, SPECS
from pmo_gates.onboarding.report import Check, DoctorReport

PERMISSION_WORKERS = 4

# permission key -> (what we use it for, blocks a review?)
PERMISSIONS: dict[str, tuple[str, bool]] = {
    "BROWSE_PROJECTS": ("read the project's issues (sync)", True),
    "ADD_COMMENTS": ("post the gate-review comment on the anchor issue", True),
    "CREATE_ISSUES": ("create corrective-action tickets", False),
    "EDIT_ISSUES": ("update tickets and set their pmo-gates entity property", False),
    "TRANSITION_ISSUES": ("resolve and reopen tickets", False),
}


def auth_failure(exc: JiraAuthError, settings: Settings) -> Check:
    env = settings.jira.auth.token_env
    fix = (
        f"Cloud: jira.auth.email is the account's e-mail and ${env} holds an API token (id.atlassian.com > "
        f"Security > API tokens); Data Center: ${env} holds a personal access token and jira.auth.email is left out"
    )
    return Check(id="jira.auth", status="fail", detail=str(exc), fix=fix, blocking=True)


def check_auth(client: JiraClient, report: DoctorReport, settings: Settings) -> dict[str, Any] | None:
    """``GET /myself``: the account the token belongs to (None when Jira refused it)."""
    try:
        me = client.get("/myself")
    except JiraAuthError as exc:
        report.add(auth_failure(exc, settings))
        return None
    name = me.get("displayName") or me.get("emailAddress") or me.get("accountId") or me.get("name")
    zone = me.get("timeZone") or "UTC"
    site = "Jira Cloud" if client.is_cloud else "Jira Data Center"
    report.add(Check(id="jira.auth", status="ok", detail=f"signed in to {site} as {name} (time zone {zone})"))
    configured = settings.jira.flavour
    if configured != "auto" and configured != client.flavour:
        report.add(
            Check(
                id="jira.flavour",
                status="warn",
                detail=f"jira.flavour is {configured} but the server says {client.flavour}",
                fix=f"set jira.flavour: auto (or {client.flavour})",
            )
        )
    return me


def check_projects(client: JiraClient, report: DoctorReport, settings: Settings) -> dict[str, dict[str, Any]]:
    """The configured projects that exist, with their issue types (missing keys fail)."""
    keys = settings.portfolio.projects
    if not keys:
        report.add(
            Check(
                id="portfolio.projects",
                status="warn",
                detail="no project keys configured (portfolio.jql only): per-project checks are skipped",
                fix="list the portfolio's keys under portfolio.projects",
            )
        )
        return {}
    found = {p["key"]: p for p in fetch_projects(client, keys, expand="lead,issueTypes") if p.get("key")}
    missing = [k for k in keys if k not in found]
    if missing:
        report.add(
            Check(
                id="portfolio.projects",
                status="fail",
                detail=f"{', '.join(missing)}: no such project, or the account cannot browse it",
                fix="fix the keys under portfolio.projects, or grant the account Browse Projects there",
                blocking=True,
            )
        )
    else:
        report.add(Check(id="portfolio.projects", status="ok", detail=f"{len(found)} projects found"))
    return found


def check_permissions(client: JiraClient, report: DoctorReport, projects: list[str]) -> None:
    """``GET /mypermissions`` per project in scope (site-wide when none is named)."""
    lacking: dict[str, list[str]] = defaultdict(list)
    wanted = ",".join(PERMISSIONS)

    def read(project: str | None) -> dict[str, Any]:
        params = {"permissions": wanted} | ({"projectKey": project} if project else {})
        return client.get("/mypermissions", params).get("permissions") or {}

    scope: list[str | None] = list(projects) or [None]
    try:
        # One request per project: a few at a time, so a portfolio of hundreds is checked in seconds.
        with ThreadPoolExecutor(max_workers=PERMISSION_WORKERS) as pool:
            answers = list(pool.map(read, scope))
    except JiraConnectorError as exc:
        report.add(Check(id="permissions", status="warn", detail=f"could not read permissions: {exc}"))
        return
    for project, granted in zip(scope, answers, strict=True):
        for key in PERMISSIONS:
            if not (granted.get(key) or {}).get("havePermission"):
                lacking[key].append(project or "site")
    for key, (use, blocks) in PERMISSIONS.items():
        where = lacking.get(key)
        if not where:
            report.add(Check(id=f"permission.{key}", status="ok", detail=f"granted: {use}"))
            continue
        report.add(
            Check(
                id=f"permission.{key}",
                status="fail" if blocks else "warn",
                detail=f"missing in {', '.join(where)}: cannot {use}",
                fix=f"grant the account {key} in the permission scheme of {', '.join(where)}",
                blocking=blocks,
            )
        )
    edit = lacking.get("EDIT_ISSUES")
    report.add(
        Check(
            id="permission.entity_properties",
            status="warn" if edit else "ok",
            detail="issue entity properties (ticket metadata) need EDIT_ISSUES"
            + (f": missing in {', '.join(edit)}" if edit else ": granted"),
            fix="grant EDIT_ISSUES; without it tickets carry only their fingerprint label" if edit else None,
        )
    )


def check_fields(client: JiraClient, report: DoctorReport, settings: Settings) -> dict[str, FieldMatch]:
    """Every name under ``fields:`` against GET /field, with near misses for the missing ones."""
    fields = client.get("/field") or []
    matches: dict[str, FieldMatch] = {}
    for key, name in settings.fields.model_dump().items():
        match = match_field(name, fields)
        matches[key] = match
        if match.how in ("exact", "id"):
            report.add(Check(id=f"field.{key}", status="ok", detail=f"{name!r} is {match.field_id}"))
            continue
        if match.how == "case":
            report.add(
                Check(
                    id=f"field.{key}",
                    status="warn",
                    detail=f"{name!r} matches Jira's {match.jira_name!r} ({match.field_id}) only ignoring case",
                    fix=f"write fields.{key}: {match.jira_name}",
                )
            )
            continue
        spec = SPECS.get(key)
        blocks = key in REQUIRED_FOR_REVIEW
        if match.near:
            fix = f"did you mean {' or '.join(repr(n) for n in match.near)}? set fields.{key} to Jira's name"
        elif spec is not None and spec.custom_type is None:
            fix = f"Jira Software provides this field; set fields.{key} to its name on your site, or ignore"
        else:
            fix = f"create the custom field (`pmo-gates init --create-fields` on Cloud) or set fields.{key}"
        impact = "no project can be judged (no phase, no gate)" if blocks else "the data it feeds stays empty"
        report.add(
            Check(
                id=f"field.{key}",
                status="fail" if blocks else "warn",
                detail=f"Jira has no field named {name!r}: {impact}",
                fix=fix,
                blocking=blocks,
            )
        )
    return matches


def check_anchor_type(
    client: JiraClient, report: DoctorReport, settings: Settings, projects: dict[str, Any]
) -> list[str]:
    """The anchor issue type exists on the site and in every project in scope; returns the projects in
    which it can be used (their anchors are checked next)."""
    wanted = settings.portfolio.anchor_issue_type
    names = sorted({str(t.get("name")) for t in client.get("/issuetype") or [] if t.get("name")})
    if wanted not in names:
        near = [n for n in names if n.casefold() == wanted.casefold()] or sorted(names)[:8]
        report.add(
            Check(
                id="anchor.issue_type",
                status="fail",
                detail=f"Jira has no issue type {wanted!r} (it has {', '.join(near)})",
                fix="ask a Jira admin to create it, or set portfolio.anchor_issue_type to one of these",
                blocking=True,
            )
        )
        return []
    # A project listed without its issue types (not expanded) is given the benefit of the doubt.
    without = [
        k
        for k, p in sorted(projects.items())
        if "issueTypes" in p and wanted not in {t.get("name") for t in p.get("issueTypes") or []}
    ]
    if without:
        report.add(
            Check(
                id="anchor.issue_type",
                status="fail",
                detail=f"issue type {wanted!r} is not available in {', '.join(without)}",
                fix=f"add {wanted!r} to the issue type scheme of {', '.join(without)}",
                blocking=True,
            )
        )
    else:
        report.add(Check(id="anchor.issue_type", status="ok", detail=f"issue type {wanted!r} exists"))
    return [k for k in sorted(projects) if k not in without]


def find_anchors(
    client: JiraClient, projects: list[str], anchor_type: str, field_ids: list[str], page_size: int = 100
) -> dict[str, list[dict[str, Any]]]:
    """Every anchor issue of ``projects``, by project key."""
    jql = f"project in ({', '.join(quote(p) for p in projects)}) AND issuetype = {quote(anchor_type)}"
    search = IssueSearch(
        client, fields=["project", "summary", "issuetype", "updated", *field_ids], page_size=page_size, tz=UTC
    )
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for page in search.pages(jql):
        for issue in page:
            key = ((issue.get("fields") or {}).get("project") or {}).get("key") or str(issue["key"]).rsplit("-", 1)[0]
            found[key].append(issue)
    return found


def check_anchors(
    client: JiraClient, report: DoctorReport, settings: Settings, projects: list[str], matches: dict[str, FieldMatch]
) -> None:
    """Per project: its anchor issue exists (exactly one) and which PMO fields on it are empty."""
    anchor_type = settings.portfolio.anchor_issue_type
    pmo = {k: m for k, m in matches.items() if m.found and SPECS.get(k) and SPECS[k].on_anchor}
    anchors = find_anchors(client, projects, anchor_type, [m.field_id for m in pmo.values() if m.field_id])
    for project in projects:
        found = sorted(anchors.get(project, []), key=lambda i: int(i["id"]))
        if not found:
            report.add(
                Check(
                    id=f"anchor.{project}",
                    project=project,
                    status="fail",
                    detail=f"{project} has no {anchor_type!r} issue: its PMO metadata is empty and it cannot be judged",
                    fix=f"`pmo-gates init --config <file> --create-anchors {project}`, or create one "
                    f"{anchor_type} issue in the project by hand",
                    blocking=True,
                )
            )
            continue
        anchor = found[-1]
        fields = anchor.get("fields") or {}
        empty = [k for k, m in pmo.items() if fields.get(m.field_id) in (None, "", [])]
        detail = f"{anchor['key']}"
        if len(found) > 1:
            listed = ", ".join(i["key"] for i in found)
            detail += f" (one of {len(found)} {anchor_type} issues: {listed}; the sync keeps only one)"
        blocks = [k for k in empty if k in REQUIRED_FOR_REVIEW]
        if empty:
            names = ", ".join(settings.fields.model_dump()[k] for k in empty)
            report.add(
                Check(
                    id=f"anchor.{project}",
                    project=project,
                    status="fail" if blocks else "warn",
                    detail=f"{detail}: empty PMO fields: {names}"
                    + (" (no phase: the project cannot be judged)" if blocks else ""),
                    fix=f"fill them in on {anchor['key']} in Jira",
                    blocking=bool(blocks),
                )
            )
        else:
            status = "warn" if len(found) > 1 else "ok"
            fix = f"keep one {anchor_type} issue per project" if len(found) > 1 else None
            report.add(
                Check(
                    id=f"anchor.{project}", project=project, status=status, detail=detail + ": PMO fields set", fix=fix
                )
            )
