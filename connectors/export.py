"""Write a sandbox snapshot (``pmo_gates.sandbox.snapshot``) from a real Jira, with the sync's connector.

The issues stream to a temporary file page by page (each with its full changelog and all its worklogs);
the header (serverInfo, fields, projects, link types, statuses, priorities, issue types and the users seen)
is written once the issues are known, then the issues are copied behind it. Memory stays flat whatever
the portfolio's size. An issue changed during the export is kept in its newest version only.

Unlike the sync, the export asks search for every field (``*all``): a snapshot is a full copy.

Example::

    export_snapshot(JiraConnection.from_settings(settings), settings, Path("portfolio.json"))
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from pmo_gates.config import Settings
from pmo_gates.connectors.client import JiraClient, build_client
from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.connectors.errors import JiraHTTPError
from pmo_gates.connectors.mapping import changelog_truncated, person_id, worklogs_truncated
from pmo_gates.connectors.projects import fetch_projects
from pmo_gates.connectors.search import IssueSearch, fetch_changelogs, fetch_worklogs, scope_jql
from pmo_gates.sandbox.jira_time import format_datetime
from pmo_gates.sandbox.snapshot import SNAPSHOT_FORMAT, IssueDict, Snapshot

_ISSUE = TypeAdapter(IssueDict)
_BATCH = 1000


class ExportResult(BaseModel):
    path: str
    projects: int = 0
    issues: int = 0
    users: int = 0
    http_requests: dict[str, int] = Field(default_factory=dict)
    http_requests_total: int = 0
    duration_s: float = 0.0
    warnings: list[str] = Field(default_factory=list)


def _users_in(value: Any, found: dict[str, dict[str, Any]]) -> None:
    """Collect every user object nested anywhere in ``value`` (assignee, authors, user pickers...)."""
    if isinstance(value, dict):
        if value.get("displayName") and (value.get("accountId") or value.get("name")):
            ident = person_id(value)
            if ident and ident not in found:
                found[ident] = {
                    k: value[k]
                    for k in ("accountId", "name", "key", "displayName", "emailAddress", "active", "timeZone")
                    if value.get(k) is not None
                }
        for child in value.values():
            if isinstance(child, dict | list):
                _users_in(child, found)
    elif isinstance(value, list):
        for child in value:
            if isinstance(child, dict | list):
                _users_in(child, found)


def _complete(client: JiraClient, issues: list[dict[str, Any]]) -> None:
    """Replace truncated changelogs and worklog pages by the full ones, in place."""
    truncated = [i for i in issues if changelog_truncated(i) or not isinstance(i.get("changelog"), dict)]
    histories = fetch_changelogs(client, truncated)
    for issue in issues:
        full = histories.get(str(issue["id"]))
        if full is not None:
            issue["changelog"] = {"startAt": 0, "maxResults": len(full), "total": len(full), "histories": full}
        if worklogs_truncated(issue):
            logs = fetch_worklogs(client, str(issue["key"]))
            issue["fields"]["worklog"] = {"startAt": 0, "maxResults": len(logs), "total": len(logs), "worklogs": logs}


def _optional_list(client: JiraClient, path: str, key: str | None, warnings: list[str]) -> list[dict[str, Any]]:
    try:
        data = client.get(path)
    except JiraHTTPError as exc:
        warnings.append(f"{path} unavailable ({exc.status_code}); the snapshot derives it instead")
        return []
    return list(data.get(key) or []) if key else list(data or [])


def export_snapshot(
    connection: JiraConnection,
    settings: Settings,
    out_path: Path | str,
    *,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ExportResult:
    """Export the portfolio ``settings`` describes to ``out_path`` (a ``pmo-gates-snapshot/1`` file)."""
    began = time.perf_counter()
    out_path = Path(out_path)
    result = ExportResult(path=str(out_path))
    client = build_client(connection, sleep=sleep)
    try:
        server_info = client.server_info or client.get("/serverInfo")
        fields = client.jira.fields()
        myself = client.get("/myself")
        try:
            tz = ZoneInfo(str(myself.get("timeZone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo("UTC")
        link_types = client.get("/issueLinkType").get("issueLinkTypes") or []
        extras = {
            "statuses": _optional_list(client, "/status", None, result.warnings),
            "priorities": _optional_list(client, "/priority", None, result.warnings),
            "issueTypes": _optional_list(client, "/issuetype", None, result.warnings),
        }
        users: dict[str, dict[str, Any]] = {}
        project_keys: set[str] = set(settings.portfolio.projects)
        search = IssueSearch(client, fields=["*all"], page_size=connection.page_size, tz=tz, expand="changelog")
        scope = scope_jql(settings.portfolio.projects, settings.portfolio.jql)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile("w+", encoding="utf-8", dir=out_path.parent) as spool:
            last_line: dict[str, int] = {}
            line = 0
            for batch in _batched(search.pages(scope)):
                _complete(client, batch)
                for issue in batch:
                    try:
                        _ISSUE.validate_python(issue)
                    except ValidationError as exc:
                        problem = exc.errors()[0]["msg"]
                        result.warnings.append(f"{issue.get('key', '?')}: left out of the snapshot ({problem})")
                        continue
                    _users_in(issue, users)
                    project_keys.add(str(issue["fields"]["project"].get("key") or ""))
                    spool.write(json.dumps(issue, ensure_ascii=False, separators=(",", ":")) + "\n")
                    last_line[issue["key"]] = line
                    line += 1
                if progress is not None:
                    progress(len(last_line))
            project_keys.discard("")
            projects = list(fetch_projects(client, project_keys, expand="description,lead,issueTypes,url"))
            for project in projects:
                _users_in(project.get("lead"), users)
            header = _header(server_info, fields, projects, link_types, list(users.values()), extras)
            result.projects, result.users = len(projects), len(users)
            spool.seek(0)
            keep = set(last_line.values())
            with out_path.open("w", encoding="utf-8") as out:
                text = json.dumps(header, ensure_ascii=False, separators=(",", ":"))
                out.write(text[:-1] + ',"issues":[')
                written = 0
                for index, issue_line in enumerate(spool):
                    if index in keep:
                        out.write(("," if written else "") + "\n" + issue_line.rstrip("\n"))
                        written += 1
                out.write("\n]}\n")
            result.issues = written
    finally:
        client.close()
    result.http_requests = client.stats.as_dict()
    result.http_requests_total = client.stats.total
    result.duration_s = round(time.perf_counter() - began, 3)
    return result


def _batched(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    pending: list[dict[str, Any]] = []
    for page in pages:
        pending.extend(page)
        if len(pending) >= _BATCH:
            yield pending
            pending = []
    if pending:
        yield pending


def _header(
    server_info: dict[str, Any],
    fields: list[dict[str, Any]],
    projects: list[dict[str, Any]],
    link_types: list[dict[str, Any]],
    users: list[dict[str, Any]],
    extras: dict[str, list[dict[str, Any]]],
) -> dict[str, Any]:
    """The snapshot's header, checked by the ``Snapshot`` model itself (with no issues)."""
    header: dict[str, Any] = {
        "format": SNAPSHOT_FORMAT,
        "exported_at": format_datetime(datetime.now(UTC)),
        "serverInfo": server_info,
        "fields": fields,
        "projects": projects,
        "issueLinkTypes": link_types,
        "users": users,
    }
    header.update({k: v for k, v in extras.items() if v})
    Snapshot.model_validate(header | {"issues": []})
    return header
