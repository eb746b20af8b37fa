"""The sandbox's REST plumbing: a call in, a reply out, Jira's error shape, and a small router.

Handlers are plain functions ``(call: Call) -> Reply``; they raise ``JiraError`` for Jira's error answers
(``{"errorMessages": [...], "errors": {...}}`` with the status Jira uses).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from pmo_gates.sandbox.state import SandboxState


class SandboxLimits(BaseModel):
    """Server-side caps, defaulting to what Jira Cloud / Data Center enforce (or are observed to)."""

    search_max_results: int = Field(100, ge=1, description="Cloud search/jql page cap when fields are requested")
    search_max_results_ids: int = Field(5000, ge=1, description="Cloud search/jql page cap for id/key only")
    dc_search_max_results: int = Field(1000, ge=1, description="DC /search cap (jira.search.views.default.max)")
    search_changelog_histories: int = Field(40, ge=1, description="histories embedded per issue in Cloud search")
    issue_changelog_histories: int = Field(100, ge=1, description="histories embedded by Cloud GET issue")
    changelog_page_max: int = Field(100, ge=1)
    comment_page_max: int = Field(5000, ge=1)
    project_page_max: int = Field(100, ge=1)
    bulk_create_max: int = Field(50, ge=1)
    bulkfetch_max_issues: int = Field(1000, ge=1)
    bulkfetch_max_fields: int = Field(10, ge=1)
    search_properties_max: int = Field(5, ge=1)
    reconcile_max: int = Field(50, ge=1)
    order_by_max: int = Field(7, ge=1)


@dataclass
class ApiContext:
    """What handlers share: the state, the flavour, the limits and who is calling."""

    state: SandboxState
    flavour: str
    limits: SandboxLimits
    base_url: str  # the sandbox's own URL, e.g. http://127.0.0.1:54321


class JiraError(Exception):
    """An error answer in Jira's ErrorCollection shape."""

    def __init__(
        self,
        status: int,
        *messages: str,
        errors: dict[str, str] | None = None,
        body: Any = None,
        contract_exempt: bool = False,
    ) -> None:
        super().__init__(f"{status}: {'; '.join(messages)}")
        self.status = status
        self.body = body if body is not None else {"errorMessages": list(messages), "errors": dict(errors or {})}
        self.contract_exempt = contract_exempt

    def reply(self) -> Reply:
        return Reply(self.status, self.body, contract_exempt=self.contract_exempt)


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-ready; None means no body
    headers: dict[str, str] = field(default_factory=dict)
    # A deliberate flavour deviation from the Cloud spec (e.g. 410 for Cloud's removed /search).
    contract_exempt: bool = False
    # A body sent as is instead of JSON (the HTML or text error pages of Jira and its proxies); "" for none.
    raw: str | None = None
    content_type: str = "application/json;charset=UTF-8"


@dataclass
class Call:
    """One request as handlers see it."""

    ctx: ApiContext
    method: str
    path: str  # below /rest/api/{2,3}
    api_version: str
    query: dict[str, list[str]]
    body: Any
    raw_body: bytes
    params: dict[str, str] = field(default_factory=dict)
    parse_error: str | None = None  # why the body is not JSON (reported when a handler needs it)

    @property
    def state(self) -> SandboxState:
        return self.ctx.state

    @property
    def cloud(self) -> bool:
        return self.ctx.flavour == "cloud"

    def api_url(self, rest: str) -> str:
        """A ``self`` link in the state's URL space (the server rewrites it to its own base on the way out)."""
        return f"{self.state.base_url}/rest/api/2/{rest.lstrip('/')}"

    def q(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def q_list(self, name: str) -> list[str]:
        """All values of a repeatable parameter, comma-separated values split."""
        return [part.strip() for value in self.query.get(name, []) for part in value.split(",") if part.strip()]

    def q_int(self, name: str, default: int, *, minimum: int = 0) -> int:
        raw = self.q(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise JiraError(400, f"The value '{raw}' of the '{name}' parameter is not a number.") from None
        return max(minimum, value)

    def q_bool(self, name: str, default: bool = False) -> bool:
        raw = self.q(name)
        return default if raw is None else raw.strip().lower() in ("true", "1", "yes")

    def json_object(self) -> dict[str, Any]:
        """The body, which must be a JSON object."""
        if self.parse_error:
            raise JiraError(400, self.parse_error)
        if not isinstance(self.body, dict):
            raise JiraError(400, "The request body must be a JSON object.")
        return self.body


Handler = Callable[[Call], Reply]


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    template: str
    handler: Handler
    flavours: tuple[str, ...]


class Router:
    """Maps (method, path below the API root) to handlers, per flavour."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def add(self, method: str, template: str, handler: Handler, *, flavours: tuple[str, ...] = ("cloud", "dc")) -> None:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self._routes.append(_Route(method, re.compile(f"^{pattern}/?$"), template, handler, flavours))

    def resolve(self, method: str, path: str, flavour: str) -> tuple[Handler, dict[str, str]]:
        """The handler and path parameters; JiraError 404/405 like Jira when nothing matches."""
        path_known = False
        other_flavour = False
        for route in self._routes:
            found = route.pattern.match(path)
            if not found:
                continue
            path_known = True
            if route.method != method:
                continue
            if flavour not in route.flavours:
                other_flavour = True
                continue
            return route.handler, {k: unquote(v) for k, v in found.groupdict().items()}
        if other_flavour:
            # Deliberate: this Jira flavour has no such endpoint (e.g. search/jql on Data Center).
            raise JiraError(404, "null for uri: " + path, contract_exempt=True)
        if path_known:
            raise JiraError(405, f"Method {method} is not allowed for {path}.")
        raise JiraError(404, "null for uri: " + path)

    def templates(self) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(r.method, r.template, r.flavours) for r in self._routes]
