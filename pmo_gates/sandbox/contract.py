"""Holds HTTP exchanges to Atlassian's OpenAPI description of Jira Cloud.

The description ships with pmo-gates (``pmo_gates/sandbox/spec/``): the operations the connector calls and the
sandbox serves, cut from Atlassian's published spec with everything they reference by
``tools/refresh_jira_spec.py`` (Apache 2.0; source and version in ``spec/NOTICE``). Nothing outside the
package is read unless ``$PMO_GATES_JIRA_SPEC`` names another file (e.g. the full published spec).

``JiraContract.validate_request`` / ``validate_response`` return readable violations (empty when the
exchange conforms). The sandbox runs every request and response through them when started with
``validate=contract``; ``tests/jira_contract.py`` does the same for ``responses`` mocks.

What is checked and what is deliberately let through (each is how real Jira behaves, not a loophole):

- ``/rest/api/2/x`` is checked against ``/rest/api/3/x`` (the spec only describes v3; v2 is the same API
  with strings instead of documents), and in v2 exchanges a plain string is accepted wherever the spec asks
  for an Atlassian Document Format document (v2 wiki markup).
- Jira's own timestamp format ``2026-11-02T10:15:30.000+0000`` counts as ``date-time`` (RFC 3339 wants
  ``+00:00``; every Jira timestamp, including the spec's examples, uses ``+0000``).
- An empty body is accepted for 204, and where the spec's response schema is the unconstrained ``{}`` (Jira
  sends nothing there, e.g. 201 from ``POST /issueLink``, 200/201 from ``PUT .../properties/{key}``).
- 401, 429 and 5xx may come from any endpoint (auth, rate limiter, outages) although the spec lists them for
  few operations: an undocumented one of these statuses is not a violation (a documented one is checked).
- An explicit ``null`` on a side of a changelog item (``from``, ``fromString``, ``to``, ``toString``): the
  spec types them as strings, Jira sends null for an empty side (a field set for the first time, cleared).
- Paths outside ``/rest/api/{2,3}/`` are not Jira's REST API and are skipped: the sandbox's own
  ``/_sandbox/...`` admin API, ``/rest/agile/...``. Endpoints the spec does not list at all are reported.
  The sandbox itself exempts by name the answers that are deliberate deviations of a flavour (Cloud's
  410 for the removed ``/search``, Data Center's 404 for Cloud-only endpoints; see ``server.py``). The old
  ``/search`` that Data Center serves is still in this copy of the spec (deprecated), so it is checked.
"""

from __future__ import annotations

import json
import os
import re
import threading
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import MissingData
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_ENV = "PMO_GATES_JIRA_SPEC"
SPEC_NAME = "jira-cloud-platform-v3.subset.json"
ANY_ENDPOINT_STATUSES = frozenset({401, 429})
_JIRA_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?([+-]\d{2}:?\d{2}|Z)$")
_MESSAGE_LIMIT = 300


def bundled_spec_path() -> Path:
    """The subset of Atlassian's spec shipped in the package."""
    return Path(__file__).resolve().with_name("spec") / SPEC_NAME


def default_spec_path() -> Path:
    """``$PMO_GATES_JIRA_SPEC`` when set, else the bundled subset (never a file outside the package)."""
    configured = os.environ.get(SPEC_ENV)
    return Path(configured) if configured else bundled_spec_path()


class SpecError(FileNotFoundError):
    """The spec file is missing or unreadable (a ``FileNotFoundError`` for callers that caught that)."""


def _is_datetime(value: Any) -> bool:
    return not isinstance(value, str) or bool(_JIRA_DATETIME.match(value))


class _Request:
    """The request protocol openapi-core validates."""

    def __init__(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str], body: bytes | None
    ):
        self.host_url = "http://127.0.0.1"
        self.path = path
        self.method = method.lower()
        self.body = body
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        self.content_type = (content_type or ("application/json" if body else "")).lower()
        self.parameters = RequestParameters(query=ImmutableMultiDict(query), header=Headers(dict(headers)))


class _Response:
    def __init__(self, status: int, headers: Mapping[str, str], body: bytes | None):
        self.status_code = status
        self.headers = Headers(dict(headers))
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        self.content_type = (content_type or ("application/json" if body else "")).lower()
        self.data = body or b""


class JiraContract:
    """The Jira Cloud platform OpenAPI spec, loaded once, as a validator of requests and responses."""

    def __init__(self, spec: dict[str, Any], *, source: str = "<spec>") -> None:
        spec = dict(spec)
        # The spec's only server is https://your-domain.atlassian.net: match any base URL instead.
        spec["servers"] = [{"url": "/"}]
        self.source = source
        self._raw = spec
        self._api = OpenAPI.from_dict(
            spec, config=Config(spec_validator_cls=None, extra_format_validators={"date-time": _is_datetime})
        )
        self._templates = self._compile_templates(spec)
        # openapi-core's caches are not documented as thread-safe; the server validates from many threads.
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path | None = None) -> JiraContract:
        """Load the spec from ``path`` (default: ``default_spec_path()``); ``SpecError`` saying what to do."""
        spec_path = Path(path) if path is not None else default_spec_path()
        from_env = path is None and bool(os.environ.get(SPEC_ENV))
        fix = f"unset {SPEC_ENV} or point it at the spec" if from_env else "reinstall pmo-gates"
        try:
            with spec_path.open("rb") as fh:
                spec = json.load(fh)
        except FileNotFoundError:
            raise SpecError(f"Jira OpenAPI spec not found at {spec_path}: {fix}") from None
        except (OSError, ValueError) as exc:
            raise SpecError(f"cannot read the Jira OpenAPI spec {spec_path}: {exc}; {fix}") from None
        if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
            raise SpecError(f"{spec_path} is not an OpenAPI description (no 'paths'): {fix}")
        return cls(spec, source=str(spec_path))

    # -- public -----------------------------------------------------------------------------------------

    def validate_request(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: Any = None
    ) -> list[str]:
        """Violations of the spec by a request (empty when it conforms or is outside the REST API)."""
        path, query, v2 = self._split(url)
        if path is None:
            return []
        request = _Request(method, path, query, headers or {}, _as_bytes(body))
        label = f"{method.upper()} {urlsplit(url).path}"
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Unsupported scheme type" for OAuth2 security schemes
            errors = list(self._api.iter_request_errors(request))
        return self._describe(errors, label, "request", v2)

    def validate_response(
        self,
        method: str,
        url: str,
        request_body: Any,
        status: int,
        headers: Mapping[str, str] | None,
        body: Any,
        *,
        request_headers: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Violations of the spec by a response to a request (empty when it conforms or is exempt)."""
        path, query, v2 = self._split(url)
        if path is None:
            return []
        request = _Request(method, path, query, request_headers or {}, _as_bytes(request_body))
        response = _Response(status, headers or {}, _as_bytes(body))
        label = f"{method.upper()} {urlsplit(url).path} -> {status}"
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            errors = list(self._api.iter_response_errors(request, response))
        kept = []
        for error in errors:
            if isinstance(error, ResponseNotFound) and (status in ANY_ENDPOINT_STATUSES or status >= 500):
                continue
            if isinstance(error, MissingData) and (status == 204 or self._schema_is_open(method, path, status)):
                continue
            kept.append(error)
        return self._describe(kept, label, "response", v2)

    def operation(self, method: str, url: str) -> str | None:
        """The spec path template serving ``method url`` (v3 form), or None when the spec has none."""
        path, _, _ = self._split(url)
        if path is None:
            return None
        wanted = method.lower()
        return next(
            (t for pattern, t in self._templates if pattern.match(path) and wanted in self._raw["paths"][t]), None
        )

    # -- internals --------------------------------------------------------------------------------------

    @staticmethod
    def _split(url: str) -> tuple[str | None, list[tuple[str, str]], bool]:
        parts = urlsplit(url)
        path = parts.path
        v2 = path.startswith("/rest/api/2/")
        if v2:
            path = "/rest/api/3/" + path[len("/rest/api/2/") :]
        if not path.startswith("/rest/api/3/"):
            return None, [], False
        return path, parse_qsl(parts.query, keep_blank_values=True), v2

    @staticmethod
    def _compile_templates(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str]]:
        compiled = []
        for template in spec["paths"]:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            compiled.append((re.compile(f"^{pattern}$"), template))
        # Literal segments beat parameters (/issue/bulk before /issue/{issueIdOrKey}).
        compiled.sort(key=lambda item: (item[1].count("{"), -len(item[1])))
        return compiled

    def _template(self, path: str) -> str | None:
        return next((t for pattern, t in self._templates if pattern.match(path)), None)

    def _schema_is_open(self, method: str, path: str, status: int) -> bool:
        template = self._template(path)
        if template is None:
            return False
        responses = self._raw["paths"][template].get(method.lower(), {}).get("responses", {})
        content = (responses.get(str(status)) or {}).get("content") or {}
        return bool(content) and all(not (media.get("schema") or {}) for media in content.values())

    def _describe(self, errors: Iterable[Exception], label: str, side: str, v2: bool) -> list[str]:
        found: list[str] = []
        for error in errors:
            if isinstance(error, PathError):
                found.append(f"{label}: not in the Jira REST API spec ({error})")
                continue
            if isinstance(error, ResponseNotFound):
                documented = ", ".join(error.availableresponses)
                found.append(f"{label}: status {error.http_status} is not documented here (documented: {documented})")
                continue
            where = _where(error, side)
            schema_errors = getattr(error.__cause__, "schema_errors", None)
            if not schema_errors:
                found.append(f"{label}: {where}: {_shorten(str(error.__cause__ or error))}")
                continue
            for schema_error in schema_errors:
                if (v2 and _is_document_string(schema_error)) or _is_changelog_null(schema_error):
                    continue
                path = getattr(schema_error, "json_path", "$")
                message = getattr(schema_error, "message", str(schema_error))
                found.append(f"{label}: {where} {path}: {_shorten(message)}")
        return list(dict.fromkeys(found))


def _where(error: Exception, side: str) -> str:
    name, location = getattr(error, "name", None), getattr(error, "location", None)
    if isinstance(name, str) and isinstance(location, str):
        return f"{location} parameter '{name}'"
    return f"{side} body"


def _is_document_string(schema_error: Any) -> bool:
    """A v2 string where v3 wants an ADF document: allowed."""
    schema = getattr(schema_error, "schema", None)
    description = str(schema.get("description", "")) if isinstance(schema, Mapping) else ""
    return isinstance(getattr(schema_error, "instance", None), str) and "Document Format" in description


_CHANGE_SIDES = frozenset({"from", "fromString", "to", "toString"})


def _is_changelog_null(schema_error: Any) -> bool:
    """An explicit null on a side of a changelog item: the spec says string, Jira sends null for an empty side."""
    if getattr(schema_error, "instance", 0) is not None:
        return False
    path = list(getattr(schema_error, "absolute_path", []) or [])
    return len(path) >= 2 and path[-1] in _CHANGE_SIDES and "items" in path


def _as_bytes(body: Any) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 3] + "..."
