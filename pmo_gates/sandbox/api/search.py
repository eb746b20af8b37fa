"""Search: Cloud's enhanced ``search/jql`` (token paging) and approximate count; Data Center's ``/search``.

Cloud answers the removed ``/search`` with 410 Gone; Data Center has no ``search/jql`` (404).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.jql import JqlError
from pmo_gates.sandbox.jql_eval import CompiledQuery
from pmo_gates.sandbox.render import FieldSelection, IssueRenderer

_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
_UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
_BAD_TOKEN = "The provided next page token is invalid or expired."


def _params(call: Call) -> dict[str, Any]:
    """Search parameters from the query string (GET) or the JSON body (POST), with Jira's types."""
    if call.method == "GET":
        return {
            "jql": call.q("jql", ""),
            "nextPageToken": call.q("nextPageToken"),
            "maxResults": call.q_int("maxResults", 50),
            "startAt": call.q_int("startAt", 0),
            "fields": call.q_list("fields"),
            "expand": call.q_list("expand"),
            "properties": call.q_list("properties"),
            "reconcileIssues": call.q_list("reconcileIssues"),
        }
    body = call.json_object()
    for name, kind in (("jql", str), ("nextPageToken", str), ("maxResults", int), ("startAt", int)):
        if body.get(name) is not None and not isinstance(body[name], kind):
            raise JiraError(400, f"Invalid request payload: '{name}' must be a {kind.__name__}.")
    for name in ("fields", "properties", "reconcileIssues"):
        if body.get(name) is not None and not isinstance(body[name], list):
            raise JiraError(400, f"Invalid request payload: '{name}' must be a list.")
    expand = body.get("expand") or []
    return {
        "jql": body.get("jql") or "",
        "nextPageToken": body.get("nextPageToken"),
        "maxResults": body.get("maxResults") if body.get("maxResults") is not None else 50,
        "startAt": body.get("startAt") or 0,
        "fields": [str(f) for f in body.get("fields") or []],
        "expand": [e.strip() for e in (expand.split(",") if isinstance(expand, str) else expand)],
        "properties": [str(p) for p in body.get("properties") or []],
        "reconcileIssues": [str(i) for i in body.get("reconcileIssues") or []],
    }


def _compile(call: Call, jql: str) -> tuple[CompiledQuery, str]:
    try:
        compiled = call.state.compile_jql(jql)
    except JqlError as exc:
        raise JiraError(400, str(exc)) from None
    # Relative dates and currentUser() make results depend on the minute and the caller; other queries'
    # ordered results stay valid until the data changes (the engine keys on the state's version too).
    cache_key = f"{jql}\0{call.state.actor.get('accountId')}"
    if compiled.dynamic:
        cache_key += f"\0{call.state.now():%Y%m%d%H%M}"
    return compiled, cache_key


def _token(jql: str, position: tuple[list[Any], int]) -> str:
    payload = {"q": _digest(jql), "v": position[0], "i": position[1]}
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _untoken(jql: str, token: str, compiled: CompiledQuery) -> tuple[list[Any], int]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if payload["q"] != _digest(jql) or len(payload["v"]) != len(compiled.order_by):
            raise ValueError("token from another query")
        return list(payload["v"]), int(payload["i"])
    except (ValueError, KeyError, TypeError):
        raise JiraError(400, _BAD_TOKEN) from None


def _digest(jql: str) -> str:
    return hashlib.sha256(jql.encode()).hexdigest()[:16]


def search_jql(call: Call) -> Reply:
    """GET/POST ``search/jql``: keyset pages with ``nextPageToken``; ``fields`` defaults to id only."""
    p = _params(call)
    limits = call.ctx.limits
    compiled, cache_key = _compile(call, p["jql"])
    if not compiled.bounded:
        raise JiraError(400, _UNBOUNDED)
    if len(compiled.order_by) > limits.order_by_max:
        raise JiraError(400, f"The ORDER BY clause can contain at most {limits.order_by_max} fields.")
    if len(p["properties"]) > limits.search_properties_max:
        raise JiraError(400, f"You can request at most {limits.search_properties_max} properties.")
    if len(p["reconcileIssues"]) > limits.reconcile_max:
        raise JiraError(400, f"You can reconcile at most {limits.reconcile_max} issues.")
    selection = FieldSelection.parse(p["fields"], default="id")
    cap = limits.search_max_results if selection.beyond_ids else limits.search_max_results_ids
    size = min(max(int(p["maxResults"]), 1), cap)
    after = _untoken(p["jql"], p["nextPageToken"], compiled) if p["nextPageToken"] else None
    try:
        page = call.state.search.page(compiled, cache_key, after=after, limit=size)
    except (TypeError, ValueError):  # a forged token whose values do not fit this query's ORDER BY
        raise JiraError(400, _BAD_TOKEN) from None
    renderer = IssueRenderer(
        call.state,
        api_version=call.api_version,
        selection=selection,
        expand=p["expand"],
        properties=p["properties"],
        changelog_limit=limits.search_changelog_histories,
    )
    body: dict[str, Any] = {"issues": [renderer.issue(i) for i in page.issues], "isLast": not page.has_more}
    position = page.position_after(compiled)
    if page.has_more and position is not None:
        body["nextPageToken"] = _token(p["jql"], position)
    if "names" in p["expand"]:
        body["names"] = renderer.names
    return Reply(200, body)


def approximate_count(call: Call) -> Reply:
    body = call.json_object()
    jql = body.get("jql")
    if not isinstance(jql, str):
        raise JiraError(400, "Invalid request payload: 'jql' must be a string.")
    compiled, cache_key = _compile(call, jql)
    if not compiled.bounded:
        raise JiraError(400, _UNBOUNDED)
    return Reply(200, {"count": call.state.search.count(compiled, cache_key)})


def removed_search(call: Call) -> Reply:
    """Cloud: the old search is gone (CHANGE-2046)."""
    raise JiraError(410, _REMOVED, contract_exempt=True)


def dc_search(call: Call) -> Reply:
    """Data Center ``/search``: startAt/maxResults/total paging, ``*navigable`` fields by default."""
    p = _params(call)
    compiled, cache_key = _compile(call, p["jql"])
    size = min(max(int(p["maxResults"]), 0), call.ctx.limits.dc_search_max_results)
    start = max(int(p["startAt"]), 0)
    issues, total = call.state.search.window(compiled, cache_key, start=start, limit=size)
    renderer = IssueRenderer(
        call.state,
        api_version=call.api_version,
        selection=FieldSelection.parse(p["fields"], default="*navigable"),
        expand=p["expand"],
        properties=p["properties"],
    )
    body: dict[str, Any] = {
        "expand": "schema,names",
        "startAt": start,
        "maxResults": size,
        "total": total,
        "issues": [renderer.issue(i) for i in issues],
    }
    if "names" in p["expand"]:
        body["names"] = renderer.names
    return Reply(200, body)


def register(router: Router) -> None:
    router.add("GET", "/search/jql", search_jql, flavours=("cloud",))
    router.add("POST", "/search/jql", search_jql, flavours=("cloud",))
    router.add("POST", "/search/approximate-count", approximate_count, flavours=("cloud",))
    router.add("GET", "/search", removed_search, flavours=("cloud",))
    router.add("POST", "/search", removed_search, flavours=("cloud",))
    router.add("GET", "/search", dc_search, flavours=("dc",))
    router.add("POST", "/search", dc_search, flavours=("dc",))
