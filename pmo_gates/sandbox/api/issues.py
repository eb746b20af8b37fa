"""Issues: get, create (one and bulk), edit, delete, and workflow transitions."""

from __future__ import annotations

from typing import Any

from pmo_gates.sandbox import catalog
from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.field_input import FieldErrors
from pmo_gates.sandbox.render import FieldSelection, IssueRenderer
from pmo_gates.sandbox.state import IssueNotFound

NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def require_issue(call: Call, ref: str) -> dict[str, Any]:
    issue = call.state.issue(ref)
    if issue is None:
        raise JiraError(404, NOT_FOUND)
    return issue


def field_errors(exc: FieldErrors) -> JiraError:
    return JiraError(exc.status, body=exc.body())


def render_issue(call: Call, issue: dict[str, Any]) -> dict[str, Any]:
    limits = call.ctx.limits
    renderer = IssueRenderer(
        call.state,
        api_version=call.api_version,
        selection=FieldSelection.parse(call.q_list("fields"), default="*all"),
        expand=call.q_list("expand"),
        properties=call.q_list("properties"),
        changelog_limit=limits.issue_changelog_histories if call.cloud else None,
    )
    return renderer.issue(issue)


def get_issue(call: Call) -> Reply:
    return Reply(200, render_issue(call, require_issue(call, call.params["key"])))


def _properties_of(call: Call, payload: dict[str, Any]) -> dict[str, Any]:
    raw = payload.get("properties") or []
    if not isinstance(raw, list) or not all(isinstance(p, dict) and isinstance(p.get("key"), str) for p in raw):
        raise FieldErrors(messages=['\'properties\' must be a list of {"key": ..., "value": ...} objects.'])
    return {p["key"]: p.get("value") for p in raw}


def _create_one(call: Call, payload: Any) -> dict[str, Any]:
    """Create from one IssueUpdateDetails payload; FieldErrors when Jira would refuse it."""
    if not isinstance(payload, dict) or not isinstance(payload.get("fields"), dict):
        raise FieldErrors(messages=["The request must contain an object named 'fields'."])
    issue = call.state.add_issue(
        payload["fields"],
        update=payload.get("update"),
        properties=_properties_of(call, payload),
        api_version=call.api_version,
    )
    transition = payload.get("transition")
    if isinstance(transition, dict) and transition.get("id"):
        issue = call.state.apply_transition(issue["key"], str(transition["id"]), api_version=call.api_version)
    return {"id": str(issue["id"]), "key": issue["key"], "self": call.api_url(f"issue/{issue['id']}")}


def create_issue(call: Call) -> Reply:
    try:
        return Reply(201, _create_one(call, call.json_object()))
    except FieldErrors as exc:
        raise field_errors(exc) from None


def create_issues(call: Call) -> Reply:
    """POST issue/bulk: 201 when any issue was created, 400 when none; failures listed by position."""
    body = call.json_object()
    updates = body.get("issueUpdates")
    if not isinstance(updates, list):
        raise JiraError(400, body={"issues": [], "errors": [_bulk_error(0, ["'issueUpdates' must be a list."])]})
    limit = call.ctx.limits.bulk_create_max
    if len(updates) > limit:
        message = f"You can create at most {limit} issues in one request; this request has {len(updates)}."
        return Reply(400, {"issues": [], "errors": [_bulk_error(i, [message]) for i in range(len(updates))]})
    created, errors = [], []
    for index, payload in enumerate(updates):
        try:
            created.append(_create_one(call, payload))
        except FieldErrors as exc:
            errors.append(_bulk_error(index, exc.messages, exc.errors))
    return Reply(201 if created else 400, {"issues": created, "errors": errors})


def _bulk_error(index: int, messages: list[str], errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "status": 400,
        "elementErrors": {"errorMessages": messages, "errors": errors or {}},
        "failedElementNumber": index,
    }


def edit_issue(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    body = call.json_object()
    try:
        call.state.update_issue(
            issue["key"], body.get("fields") or {}, update=body.get("update"), api_version=call.api_version
        )
        for prop_key, value in _properties_of(call, body).items():
            call.state.set_property(issue["key"], prop_key, value)
    except FieldErrors as exc:
        raise field_errors(exc) from None
    if call.q_bool("returnIssue"):
        return Reply(200, render_issue(call, require_issue(call, issue["key"])))
    return Reply(204)


def delete_issue(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    subtasks = [
        i
        for i in call.state.issues()
        if (i["fields"].get("parent") or {}).get("id") == str(issue["id"]) and i["fields"]["issuetype"].get("subtask")
    ]
    if subtasks and call.q("deleteSubtasks", "false") != "true":
        raise JiraError(400, "The issue has subtasks; pass deleteSubtasks=true to delete them with it.")
    for subtask in subtasks:
        call.state.delete_issue(subtask["key"])
    call.state.delete_issue(issue["key"])
    return Reply(204)


def get_transitions(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    transitions = []
    for t in call.state.available_transitions(issue["key"]):
        target = call.state.site.status(t.to_status) or catalog.status_object(t.to_status, call.state.base_url)
        transitions.append(
            {
                "id": t.id,
                "name": t.name,
                "to": target,
                "hasScreen": False,
                "isGlobal": False,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
        )
    return Reply(200, {"expand": "transitions", "transitions": transitions})


def do_transition(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    body = call.json_object()
    transition = body.get("transition")
    if not isinstance(transition, dict) or not (transition.get("id") or transition.get("name")):
        raise JiraError(400, "Missing 'transition' identifier")
    transition_id = transition.get("id")
    if transition_id is None:
        named = [t for t in call.state.available_transitions(issue["key"]) if t.name == transition.get("name")]
        transition_id = named[0].id if named else transition["name"]
    try:
        call.state.apply_transition(
            issue["key"],
            str(transition_id),
            fields=body.get("fields"),
            update=body.get("update"),
            api_version=call.api_version,
        )
    except FieldErrors as exc:
        raise field_errors(exc) from None
    except IssueNotFound:
        raise JiraError(404, NOT_FOUND) from None
    return Reply(204)


def register(router: Router) -> None:
    router.add("POST", "/issue", create_issue)
    router.add("POST", "/issue/bulk", create_issues)
    router.add("GET", "/issue/{key}", get_issue)
    router.add("PUT", "/issue/{key}", edit_issue)
    router.add("DELETE", "/issue/{key}", delete_issue)
    router.add("GET", "/issue/{key}/transitions", get_transitions)
    router.add("POST", "/issue/{key}/transitions", do_transition)
