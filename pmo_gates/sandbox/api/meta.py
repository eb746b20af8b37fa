"""Site metadata: serverInfo, myself, fields, projects, link types, priorities, issue types, statuses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.jira_time import format_datetime

_CLOUD_VERSION = ("1001.0.0-SNAPSHOT", [1001, 0, 0])
_DC_VERSION = ("9.12.2", [9, 12, 2])
_PROJECT_ORDERS = {"key": "key", "name": "name", "category": "key", "owner": "key", "issueCount": "key"}


def server_info(call: Call) -> Reply:
    info = dict(call.state.snapshot.server_info)
    snapshot_is_cloud = info.get("deploymentType", "Cloud") == "Cloud"
    if call.cloud != snapshot_is_cloud or "versionNumbers" not in info:
        version, numbers = _CLOUD_VERSION if call.cloud else _DC_VERSION
        info.update(version=version, versionNumbers=numbers, buildNumber=100280 if call.cloud else 9120002)
    info.update(
        baseUrl=call.ctx.base_url,
        displayUrl=call.ctx.base_url,
        deploymentType="Cloud" if call.cloud else "Server",
        serverTime=format_datetime(call.state.now()),
        serverTitle=info.get("serverTitle") or "PMO sandbox",
    )
    info.setdefault("buildDate", "2025-12-01T00:00:00.000+0000")
    info.setdefault("scmInfo", "pmo-gates-sandbox")
    allowed = {
        "baseUrl",
        "buildDate",
        "buildNumber",
        "deploymentType",
        "displayUrl",
        "displayUrlConfluence",
        "displayUrlServicedeskHelpCenter",
        "healthChecks",
        "scmInfo",
        "serverTime",
        "serverTimeZone",
        "serverTitle",
        "version",
        "versionNumbers",
    }
    return Reply(200, {k: v for k, v in info.items() if k in allowed})


def myself(call: Call) -> Reply:
    actor = call.state.actor
    body = call.state.site.user_ref(actor)
    body.update(
        emailAddress=actor.get("emailAddress"),
        locale="en_US",
        timeZone=actor.get("timeZone", "UTC"),
        groups={"size": 1, "items": []},
        applicationRoles={"size": 1, "items": []},
        expand="groups,applicationRoles",
    )
    return Reply(200, {k: v for k, v in body.items() if v is not None})


def fields(call: Call) -> Reply:
    return Reply(200, call.state.fields())


def projects(call: Call) -> Reply:
    return Reply(200, [_project(call, p) for p in call.state.projects()])


def project(call: Call) -> Reply:
    ref = call.params["key"]
    found = call.state.site.project(ref)
    if found is None:
        raise JiraError(404, f"No project could be found with key '{ref}'.")
    return Reply(200, _project(call, found))


def project_search(call: Call) -> Reply:
    limits = call.ctx.limits
    start = call.q_int("startAt", 0)
    size = min(max(call.q_int("maxResults", 50), 1), limits.project_page_max)
    found = list(call.state.projects())
    keys = call.q_list("keys")
    ids = call.q_list("id")
    if keys or ids:
        found = [p for p in found if p["key"] in keys or str(p["id"]) in ids]
    text = (call.q("query") or "").lower()
    if text:
        found = [p for p in found if text in p["key"].lower() or text in p["name"].lower()]
    order = call.q("orderBy") or "key"
    descending = order.startswith("-")
    sort_field = _PROJECT_ORDERS.get(order.lstrip("+-"), "key")
    found.sort(key=lambda p: str(p.get(sort_field, "")).lower(), reverse=descending)
    page = found[start : start + size]
    is_last = start + size >= len(found)
    body: dict[str, Any] = {
        "self": _page_url(call, "project/search", start, size),
        "maxResults": size,
        "startAt": start,
        "total": len(found),
        "isLast": is_last,
        "values": [_project(call, p) for p in page],
    }
    if not is_last:
        body["nextPage"] = _page_url(call, "project/search", start + size, size)
    return Reply(200, body)


def link_types(call: Call) -> Reply:
    return Reply(200, {"issueLinkTypes": call.state.link_types()})


def priorities(call: Call) -> Reply:
    return Reply(200, call.state.priorities())


def issue_types(call: Call) -> Reply:
    return Reply(200, call.state.issue_types())


def statuses(call: Call) -> Reply:
    return Reply(200, call.state.statuses())


def _project(call: Call, project: dict[str, Any]) -> dict[str, Any]:
    body = dict(project)
    body.setdefault("self", call.api_url(f"project/{project['id']}"))
    body["id"] = str(project["id"])
    if isinstance(body.get("lead"), dict):
        lead = call.state.site.user(body["lead"].get("accountId") or body["lead"].get("name") or "")
        body["lead"] = call.state.site.user_ref(lead) if lead else body["lead"]
    return body


def _page_url(call: Call, rest: str, start: int, size: int) -> str:
    params = [(k, v) for k, values in call.query.items() if k not in ("startAt", "maxResults") for v in values]
    return call.api_url(rest) + "?" + urlencode([*params, ("startAt", start), ("maxResults", size)])


def register(router: Router) -> None:
    router.add("GET", "/serverInfo", server_info)
    router.add("GET", "/myself", myself)
    router.add("GET", "/field", fields)
    router.add("GET", "/project", projects)
    router.add("GET", "/project/search", project_search, flavours=("cloud",))  # DC: GET /project only
    router.add("GET", "/project/{key}", project)
    router.add("GET", "/issueLinkType", link_types)
    router.add("GET", "/priority", priorities)
    router.add("GET", "/issuetype", issue_types)
    router.add("GET", "/status", statuses)
