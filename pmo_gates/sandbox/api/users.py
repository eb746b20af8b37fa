"""People: ``GET /user/search`` and ``PUT /issue/{key}/assignee`` (the ``jira`` client's ``search_users`` and
``assign_issue``). Cloud finds people by ``query`` and answers accountIds; Data Center by ``username`` (a
login, name or e-mail fragment) and answers names and keys."""

from __future__ import annotations

from typing import Any

from pmo_gates.sandbox.api.core import Call, JiraError, Reply, Router
from pmo_gates.sandbox.api.issues import field_errors, require_issue
from pmo_gates.sandbox.field_input import FieldErrors

USER_SEARCH_MAX = 1000


def _matches(user: dict[str, Any], text: str) -> bool:
    wanted = text.lower()
    haystack = [user.get("displayName"), user.get("emailAddress"), user.get("name"), user.get("accountId")]
    return any(
        part.startswith(wanted) or part == wanted
        for value in haystack
        if value
        for part in [str(value).lower(), *str(value).lower().split()]
    )


def search_users(call: Call) -> Reply:
    text = call.q("query") if call.cloud else (call.q("username") or call.q("query"))
    if not text:
        needed = "query" if call.cloud else "username"
        raise JiraError(400, f"The '{needed}' query parameter is required.")
    include_active, include_inactive = call.q_bool("includeActive", True), call.q_bool("includeInactive", False)
    start = call.q_int("startAt", 0)
    size = min(max(call.q_int("maxResults", 50), 1), USER_SEARCH_MAX)
    site = call.state.site
    found = [
        site.user_ref(u)
        for u in call.state.users()
        if _matches(u, text) and (include_active if u.get("active", True) else include_inactive)
    ]
    return Reply(200, found[start : start + size])


def assign(call: Call) -> Reply:
    issue = require_issue(call, call.params["key"])
    body = call.json_object()
    try:
        call.state.update_issue(issue["key"], {"assignee": body or None}, api_version=call.api_version)
    except FieldErrors as exc:
        raise field_errors(exc) from None
    return Reply(204)


def register(router: Router) -> None:
    router.add("GET", "/user/search", search_users)
    router.add("PUT", "/issue/{key}/assignee", assign)
