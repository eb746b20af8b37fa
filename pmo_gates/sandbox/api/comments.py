"""Comments: list (paged), add, get, edit, delete. v2 bodies are strings, v3 bodies ADF documents."""

from __future__ import annotations

from typing import Any

from pmo_gates.sandbox import adf
from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.api.issues import require_issue
from pmo_gates.sandbox.render import IssueRenderer

BODY_LIMIT = 32_767


def _body(call: Call) -> Any:
    payload = call.json_object()
    body = payload.get("body")
    if body is None or body == "" or (adf.is_adf(body) and not adf.adf_to_text(body).strip()):
        raise JiraError(400, errors={"comment": "Comment body can not be empty!"})
    if call.api_version == "2" and not isinstance(body, str):
        raise JiraError(400, errors={"comment": "Comment body must be a string (wiki markup) in REST API v2."})
    if call.api_version == "3" and not adf.is_adf(body):
        raise JiraError(400, errors={"comment": "Comment body is not valid!"})  # Cloud's words for a v3 string
    problem = adf.validate_document(body)
    if problem:
        raise JiraError(400, errors={"comment": problem})
    text = adf.adf_to_text(body) if adf.is_adf(body) else body
    if len(text) > BODY_LIMIT:
        raise JiraError(400, errors={"comment": f"The entered text is too long. It exceeds {BODY_LIMIT} characters."})
    return body


def list_comments(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    comments = call.state.comments(issue["key"])
    if (call.q("orderBy") or "created").startswith("-"):
        comments = list(reversed(comments))
    start = call.q_int("startAt", 0)
    size = min(max(call.q_int("maxResults", 100), 1), call.ctx.limits.comment_page_max)
    renderer = IssueRenderer.for_version(call.state, call.api_version)
    page = [renderer.comment(c) for c in comments[start : start + size]]
    return Reply(200, {"comments": page, "startAt": start, "maxResults": size, "total": len(comments)})


def add_comment(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    body = _body(call)
    payload = call.json_object()
    comment = call.state.add_comment(
        issue["key"], body, visibility=payload.get("visibility"), properties=payload.get("properties")
    )
    return Reply(201, IssueRenderer.for_version(call.state, call.api_version).comment(comment))


def _require_comment(call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
    issue = require_issue(call, call.params["key"])
    comment = call.state.comment(issue["key"], call.params["id"])
    if comment is None:
        raise JiraError(404, f"Can not find a comment for the id: {call.params['id']}.")
    return issue, comment


def get_comment(call: Call) -> Reply:
    _, comment = _require_comment(call)
    return Reply(200, IssueRenderer.for_version(call.state, call.api_version).comment(comment))


def edit_comment(call: Call) -> Reply:
    issue, comment = _require_comment(call)
    updated = call.state.update_comment(issue["key"], comment["id"], _body(call))
    return Reply(200, IssueRenderer.for_version(call.state, call.api_version).comment(updated or comment))


def delete_comment(call: Call) -> Reply:
    issue, comment = _require_comment(call)
    call.state.delete_comment(issue["key"], comment["id"])
    return Reply(204)


def register(router: Router) -> None:
    router.add("GET", "/issue/{key}/comment", list_comments)
    router.add("POST", "/issue/{key}/comment", add_comment)
    router.add("GET", "/issue/{key}/comment/{id}", get_comment)
    router.add("PUT", "/issue/{key}/comment/{id}", edit_comment)
    router.add("DELETE", "/issue/{key}/comment/{id}", delete_comment)
