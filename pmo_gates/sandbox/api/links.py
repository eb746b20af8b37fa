"""Issue links: create (201, duplicates accepted without a second link), get, delete."""

from __future__ import annotations

from typing import Any

from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.api.issues import NOT_FOUND, field_errors
from pmo_gates.sandbox.field_input import FieldErrors


def _issue_ref(call: Call, payload: dict[str, Any], side: str) -> str:
    ref = payload.get(side)
    key = (ref.get("key") or ref.get("id")) if isinstance(ref, dict) else None
    if key is None:
        raise JiraError(400, errors={side: f"'{side}' needs a key or an id."})
    issue = call.state.issue(str(key))
    if issue is None:
        raise JiraError(404, NOT_FOUND)
    return issue["key"]


def create_link(call: Call) -> Reply:
    payload = call.json_object()
    link_type = payload.get("type")
    if not isinstance(link_type, dict) or not (link_type.get("name") or link_type.get("id")):
        raise JiraError(400, errors={"issueLinkType": "Link type name or id is required."})
    inward, outward = _issue_ref(call, payload, "inwardIssue"), _issue_ref(call, payload, "outwardIssue")
    if call.state.site.link_type(link_type) is None:
        raise JiraError(404, f"No issue link type with name '{link_type.get('name') or link_type.get('id')}' found.")
    try:
        call.state.add_link(link_type, inward, outward)
        comment = payload.get("comment")
        if isinstance(comment, dict) and comment.get("body"):
            call.state.add_comment(outward, comment["body"], visibility=comment.get("visibility"))
    except FieldErrors as exc:
        raise field_errors(exc) from None
    return Reply(201)


def get_link(call: Call) -> Reply:
    link = call.state.link(call.params["id"])
    if link is None:
        raise JiraError(404, f"No issue link with id '{call.params['id']}' exists.")
    return Reply(200, link)


def delete_link(call: Call) -> Reply:
    if not call.state.delete_link(call.params["id"]):
        raise JiraError(404, f"No issue link with id '{call.params['id']}' exists.")
    return Reply(204)


def register(router: Router) -> None:
    router.add("POST", "/issueLink", create_link)
    router.add("GET", "/issueLink/{id}", get_link)
    router.add("DELETE", "/issueLink/{id}", delete_link)
