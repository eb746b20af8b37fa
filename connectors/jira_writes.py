"""The Jira writes pmo-gates makes, as plain functions over a ``JiraClient`` (connectors/client.py).

Every call goes through the client's session, hence through the one retry policy: idempotent calls (PUT)
are retried on gateway errors, creates (POST) never blindly (``AmbiguousWriteError``), so the caller can
look for the fingerprint before sending again. ``api`` is ``"2"`` (bodies in wiki markup, Data Center and
Cloud) or ``"3"`` (bodies in ADF, Cloud). Nothing here logs a request body or a header.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.errors import JiraHTTPError

BULK_LIMIT = 50  # Jira Cloud accepts at most 50 issues per POST /issue/bulk


class BulkOutcome(BaseModel):
    """One element of a bulk create, by its position in the request."""

    index: int
    key: str | None = None
    id: str | None = None
    error: str | None = None


def _path(api: str, path: str) -> str:
    return f"/rest/api/{api}{path}"


def _send(client: JiraClient, method: str, path: str, body: Any | None = None, params: dict | None = None) -> Any:
    url = f"{client.base_url}{path}"
    data = json.dumps(body) if body is not None else None
    response = client.jira._session.request(method, url, data=data, params=params)
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _messages(value: Any) -> list[str]:
    """Readable messages from any part of a Jira error body: a string, a list, an ErrorCollection
    (``errorMessages`` and an ``errors`` object of field -> message), or an element's ``elementErrors``."""
    if value is None or value == "" or isinstance(value, bool):
        return []
    if isinstance(value, str | int | float):
        return [str(value)]
    if isinstance(value, list):
        return [message for item in value for message in _messages(item)]
    if isinstance(value, dict):
        if "errorMessages" in value or "errors" in value:
            found = _messages(value.get("errorMessages"))
            errors = value.get("errors")
            if isinstance(errors, dict):
                found += [f"{k}: {v}" for k, v in errors.items() if v not in (None, "")]
            else:
                found += _messages(errors)
            return found
        return [f"{k}: {v}" for k, v in value.items() if v not in (None, "")]
    return []


def _element_number(entry: dict[str, Any], size: int) -> int | None:
    try:
        number = int(entry.get("failedElementNumber"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < size else None


def _failures(result: dict[str, Any], size: int) -> tuple[dict[int, str], str]:
    """Element number -> reason, and a reason for every element the body does not single out.

    The documented shape is a list of ``{failedElementNumber, elementErrors}``; Jira also answers with an
    ErrorCollection (``errors`` an object), and proxies with anything: whatever cannot be tied to an
    element becomes the reason for all of them."""
    failed: dict[int, str] = {}
    general: list[str] = _messages(result.get("errorMessages"))
    errors = result.get("errors")
    if isinstance(errors, list):
        for entry in errors:
            number = _element_number(entry, size) if isinstance(entry, dict) else None
            if number is None:
                general += _messages(entry.get("elementErrors") if isinstance(entry, dict) else entry)
            else:
                failed[number] = "; ".join(_messages(entry.get("elementErrors"))) or "rejected by Jira"
    elif isinstance(errors, dict):
        general += [f"{k}: {v}" for k, v in errors.items() if v not in (None, "")]
    else:
        general += _messages(errors)
    return failed, "; ".join(dict.fromkeys(general))


def bulk_create(client: JiraClient, issues: list[dict[str, Any]], *, api: str = "2") -> list[BulkOutcome]:
    """Create up to 50 issues in one ``POST /issue/bulk``; one outcome per input, in order.

    Jira lists the created issues in request order, skipping the failed elements (``errors`` name them
    by ``failedElementNumber``). HTTP 400 means every element failed; that is returned, not raised, and
    so is an answer in any other shape: one element's outcome never stops the others' writes.
    """
    if not 0 < len(issues) <= BULK_LIMIT:
        raise ValueError(f"bulk_create takes 1 to {BULK_LIMIT} issues, got {len(issues)}")
    rejected: str | None = None
    try:
        result = _send(client, "POST", _path(api, "/issue/bulk"), {"issueUpdates": issues})
    except JiraHTTPError as exc:
        if exc.status_code != 400:
            raise
        result = _json_object(exc.server_text)
        rejected = str(exc)
    result = result if isinstance(result, dict) else {}
    failed, general = _failures(result, len(issues))
    created = iter(result.get("issues") if isinstance(result.get("issues"), list) else [])
    outcomes = []
    for index in range(len(issues)):
        if index in failed:
            outcomes.append(BulkOutcome(index=index, error=failed[index]))
            continue
        issue = next(created, None) if rejected is None else None
        if isinstance(issue, dict) and issue.get("key") and issue.get("id") is not None:
            outcomes.append(BulkOutcome(index=index, key=str(issue["key"]), id=str(issue["id"])))
        else:
            reason = general or rejected or "Jira reported no issue for this element"
            outcomes.append(BulkOutcome(index=index, error=reason))
    return outcomes


def edit_issue(client: JiraClient, key: str, body: dict[str, Any], *, api: str = "2") -> None:
    """``PUT /issue/{key}`` with ``fields`` and/or ``update``."""
    _send(client, "PUT", _path(api, f"/issue/{key}"), body)


def set_issue_property(client: JiraClient, key: str, prop: str, value: Any) -> None:
    """``PUT /issue/{key}/properties/{prop}`` (idempotent; the value is JSON up to 32,768 characters)."""
    text = json.dumps(value)
    if len(text) > 32_768:
        raise ValueError(f"entity property {prop} of {key} is {len(text)} characters; Jira's limit is 32,768")
    _send(client, "PUT", _path("2", f"/issue/{key}/properties/{prop}"), value)


def add_comment(client: JiraClient, key: str, body: str | dict[str, Any], *, api: str = "2") -> str:
    """``POST /issue/{key}/comment``; returns the new comment's id."""
    result = _send(client, "POST", _path(api, f"/issue/{key}/comment"), {"body": body}) or {}
    return str(result.get("id", ""))


def update_comment(
    client: JiraClient, key: str, comment_id: str, body: str | dict[str, Any], *, api: str = "2"
) -> None:
    """``PUT /issue/{key}/comment/{id}``: the comment is edited in place, not posted again."""
    _send(client, "PUT", _path(api, f"/issue/{key}/comment/{comment_id}"), {"body": body})


def transitions(client: JiraClient, key: str) -> list[dict[str, Any]]:
    """The transitions the workflow offers the ticket now (each with its target status and category)."""
    result = _send(client, "GET", _path("2", f"/issue/{key}/transitions")) or {}
    return list(result.get("transitions") or [])


def transition_issue(client: JiraClient, key: str, transition_id: str) -> None:
    _send(client, "POST", _path("2", f"/issue/{key}/transitions"), {"transition": {"id": str(transition_id)}})


def issue_status_category(client: JiraClient, key: str) -> str:
    """``new`` | ``indeterminate`` | ``done`` of the ticket's current status."""
    result = _send(client, "GET", _path("2", f"/issue/{key}"), params={"fields": "status"}) or {}
    status = (result.get("fields") or {}).get("status") or {}
    return (status.get("statusCategory") or {}).get("key", "new")


def category_of(transition: dict[str, Any]) -> str:
    """The status category (new | indeterminate | done) a transition leads to."""
    return str(((transition.get("to") or {}).get("statusCategory") or {}).get("key", ""))


def status_of(transition: dict[str, Any]) -> str:
    return str((transition.get("to") or {}).get("name", ""))


def pick_transition(options: list[dict[str, Any]], category: str) -> dict[str, Any] | None:
    """The transition into a status of ``category``, preferring the conventional names."""
    preferred = {"done": ("done", "resolve", "close"), "new": ("reopen", "to do", "open", "backlog")}
    matching = [t for t in options if category_of(t) == category]
    for word in preferred.get(category, ()):
        for option in matching:
            if (
                word in str(option.get("name", "")).lower()
                or word in str((option.get("to") or {}).get("name", "")).lower()
            ):
                return option
    return matching[0] if matching else None
