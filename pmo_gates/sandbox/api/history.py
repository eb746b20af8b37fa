"""Issue history: the paged changelog, Cloud's bulk changelog fetch, and worklogs."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.api.issues import require_issue
from pmo_gates.sandbox.render import IssueRenderer, history_entry


def changelog(call: Call) -> Reply:
    """GET issue/{key}/changelog: oldest first, ``startAt``/``maxResults`` (at most 100)."""
    issue = require_issue(call, call.params["key"])
    histories = (issue.get("changelog") or {}).get("histories") or []
    start = call.q_int("startAt", 0)
    size = min(max(call.q_int("maxResults", 100), 1), call.ctx.limits.changelog_page_max)
    page = histories[start : start + size]
    is_last = start + size >= len(histories)
    rest = f"issue/{issue['key']}/changelog"
    body: dict[str, Any] = {
        "self": call.api_url(rest) + "?" + urlencode({"startAt": start, "maxResults": size}),
        "maxResults": size,
        "startAt": start,
        "total": len(histories),
        "isLast": is_last,
        "values": [history_entry(h) for h in page],
    }
    if not is_last:
        body["nextPage"] = call.api_url(rest) + "?" + urlencode({"startAt": start + size, "maxResults": size})
    return Reply(200, body)


def bulk_changelog(call: Call) -> Reply:
    """POST changelog/bulkfetch: histories of many issues, oldest first, paged over histories."""
    body = call.json_object()
    limits = call.ctx.limits
    refs = body.get("issueIdsOrKeys")
    field_ids = body.get("fieldIds") or []
    if not isinstance(refs, list) or not refs:
        raise JiraError(400, "issueIdsOrKeys must list at least one issue.")
    if len(refs) > limits.bulkfetch_max_issues:
        raise JiraError(400, f"issueIdsOrKeys can list at most {limits.bulkfetch_max_issues} issues.")
    if not isinstance(field_ids, list) or len(field_ids) > limits.bulkfetch_max_fields:
        raise JiraError(400, f"fieldIds can list at most {limits.bulkfetch_max_fields} fields.")
    size = body.get("maxResults", 1000)
    if not isinstance(size, int) or not 1 <= size <= 10_000:
        raise JiraError(400, "maxResults must be between 1 and 10000.")
    issue_index, history_index = _bulk_position(body.get("nextPageToken"), len(refs))
    wanted = {str(f) for f in field_ids}
    logs: list[dict[str, Any]] = []
    taken = 0
    for i in range(issue_index, len(refs)):
        issue = call.state.issue(str(refs[i]))
        if issue is None:
            continue  # Jira leaves out issues that do not exist or are not visible
        histories = _filtered((issue.get("changelog") or {}).get("histories") or [], wanted)
        first = history_index if i == issue_index else 0
        chosen = histories[first : first + size - taken]
        if chosen:
            logs.append({"issueId": str(issue["id"]), "changeHistories": [history_entry(h) for h in chosen]})
        taken += len(chosen)
        if taken >= size:
            following = first + len(chosen)
            more = following < len(histories) or i + 1 < len(refs)
            result: dict[str, Any] = {"issueChangeLogs": logs}
            if more:
                token = (i, following) if following < len(histories) else (i + 1, 0)
                result["nextPageToken"] = _bulk_token(*token)
            return Reply(200, result)
    return Reply(200, {"issueChangeLogs": logs})


def _filtered(histories: list[dict[str, Any]], wanted: set[str]) -> list[dict[str, Any]]:
    if not wanted:
        return histories
    kept = []
    for history in histories:
        items = [i for i in history.get("items") or [] if i.get("fieldId") in wanted or i.get("field") in wanted]
        if items:
            kept.append({**history, "items": items})
    return kept


def _bulk_token(issue_index: int, history_index: int) -> str:
    raw = json.dumps([issue_index, history_index]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bulk_position(token: Any, issue_count: int) -> tuple[int, int]:
    if not token:
        return 0, 0
    try:
        issue_index, history_index = json.loads(base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)))
        if not (0 <= int(issue_index) <= issue_count and int(history_index) >= 0):
            raise ValueError(token)
        return int(issue_index), int(history_index)
    except (ValueError, TypeError):
        raise JiraError(400, "The provided next page token is invalid or expired.") from None


def worklogs(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    stored = (issue["fields"].get("worklog") or {}).get("worklogs") or []
    start = call.q_int("startAt", 0)
    size = max(call.q_int("maxResults", 5000), 1)
    renderer = IssueRenderer.for_version(call.state, call.api_version)
    page = [renderer.worklog(w) for w in stored[start : start + size]]
    return Reply(200, {"startAt": start, "maxResults": size, "total": len(stored), "worklogs": page})


def register(router: Router) -> None:
    router.add("GET", "/issue/{key}/changelog", changelog)
    router.add("POST", "/changelog/bulkfetch", bulk_changelog, flavours=("cloud",))
    router.add("GET", "/issue/{key}/worklog", worklogs)
