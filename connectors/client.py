"""A configured ``jira.JIRA`` client with exactly one retry layer (ours), request counters and the flavour.

The ``jira`` client is built with ``max_retries=0`` and explicit timeouts, and its session's ``request``
is wrapped by ``RetryPolicy``, so every call (the client's own methods and our raw REST calls through its
session) is retried the same way, once. serverInfo is fetched after the wrapper is in place (instead of by
the constructor's ``get_server_info=True``) so that it too is retried and counted; the result is stored
on the client exactly as the constructor would (``deploymentType``, ``_version``).

Example::

    client = build_client(JiraConnection.from_settings(settings))
    client.get("/myself")["timeZone"]
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
import requests
import requests.adapters
import requests.utils
from jira import JIRA
from jira.exceptions import JIRAError
from requests.sessions import merge_setting

from pmo_gates.connectors.connection import JiraConnection
from pmo_gates.connectors.errors import JiraConfigError, JiraHTTPError
from pmo_gates.connectors.rate import RequestBudget
from pmo_gates.connectors.redact import Redactor
from pmo_gates.connectors.retry import ALWAYS_RETRY, RetryPolicy, server_wait

log = logging.getLogger(__name__)

API = "/rest/api/2"
Flavour = Literal["cloud", "dc"]

_KEY_SEGMENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d+$")


def endpoint(method: str, path: str) -> str:
    """``GET /rest/api/2/issue/{id}/worklog`` for ``GET /rest/api/2/issue/ABC-7/worklog``: counts group
    by endpoint, not by issue."""
    parts: list[str] = []
    for segment in path.split("/"):
        is_version = bool(parts) and parts[-1] in ("api", "agile", "auth")
        is_id = segment.isdigit() or bool(_KEY_SEGMENT.match(segment))
        parts.append("{id}" if is_id and not is_version else segment)
    return f"{method.upper()} {'/'.join(parts)}"


class RequestStats:
    """HTTP requests actually sent (retries included), by endpoint."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()  # pages are prefetched in a second thread

    def record(self, method: str, path: str) -> None:
        with self._lock:
            self.counts[endpoint(method, path)] += 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def flavour_of(server_info: dict[str, Any]) -> Flavour:
    return "cloud" if server_info.get("deploymentType") == "Cloud" else "dc"


class JiraClient:
    """The ``jira.JIRA`` object (``.jira``) plus what the connector needs around it."""

    def __init__(
        self,
        jira: JIRA,
        *,
        flavour: Flavour,
        stats: RequestStats,
        redactor: Redactor,
        server_info: dict[str, Any] | None = None,
    ) -> None:
        self.jira = jira
        self.flavour = flavour
        self.stats = stats
        self.redactor = redactor
        self.server_info = server_info
        self.base_url = jira.server_url

    @property
    def is_cloud(self) -> bool:
        return self.flavour == "cloud"

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path if path.startswith('/rest/') else API + path}"

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` (relative to /rest/api/2 unless it starts with /rest/) and return the JSON."""
        return self._json(self.jira._session.get(self._url(path), params=params), "GET", path)

    def post(self, path: str, body: Any) -> Any:
        response = self.jira._session.post(self._url(path), data=json.dumps(body))
        return self._json(response, "POST", path)

    def _json(self, response: requests.Response, method: str, path: str) -> Any:
        try:
            return orjson.loads(response.content)  # a search page is mostly JSON: 3-4x the stdlib's speed
        except ValueError:
            raise JiraHTTPError(
                f"Jira answered {method} {path} with HTTP {response.status_code} but no JSON body "
                f"(content type {response.headers.get('Content-Type', 'unknown')}): is jira.url the Jira "
                "base URL?",
                method=method,
                path=path,
                status_code=response.status_code,
            ) from None

    def close(self) -> None:
        try:
            self.jira.close()
        except Exception:  # pragma: no cover - closing a session should never fail the sync
            log.debug("closing the Jira session failed", exc_info=True)


def build_client(
    connection: JiraConnection,
    *,
    flavour: Flavour | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    rng: random.Random | None = None,
    stats: RequestStats | None = None,
    budget: RequestBudget | None = None,
    connections: int | None = None,
) -> JiraClient:
    """Build the client. ``flavour`` (e.g. remembered from an earlier sync) skips serverInfo when the
    configured flavour is ``auto``; otherwise serverInfo is read once to detect Cloud vs Data Center.

    ``budget`` paces every attempt (the sync's workers share one); the client is then safe to use from
    that many threads at once. Without one, ``connections`` says how many threads may use it at once
    (e.g. a run's concurrent comment reads: ``sync.concurrency``), so that many connections are kept."""
    token = connection.token.get_secret_value()
    redactor = Redactor([token], email=connection.email)
    stats = stats or RequestStats()
    auth: dict[str, Any] = {"basic_auth": (connection.email, token)} if connection.email else {"token_auth": token}
    try:
        jira = JIRA(
            server=connection.url,
            max_retries=0,
            timeout=(connection.connect_timeout, connection.read_timeout),
            get_server_info=False,
            **auth,
        )
    except Exception as exc:  # the constructor makes no request; only bad arguments land here
        raise JiraConfigError(f"cannot set up the Jira client: {redactor(str(exc))}") from None
    policy = RetryPolicy(connection.retry, redactor=redactor, sleep=sleep, clock=clock, now=now, rng=rng)
    workers = budget.max_concurrency if budget is not None else connections
    if workers is not None:
        # One kept-alive connection per worker: the default pool of 10 would drop and reopen the rest.
        adapter = requests.adapters.HTTPAdapter(pool_connections=2, pool_maxsize=max(10, workers), max_retries=0)
        jira._session.mount("http://", adapter)
        jira._session.mount("https://", adapter)
    settle_environment(jira._session, jira.server_url)
    _install_retry(jira, policy, stats, budget, now)

    server_info: dict[str, Any] | None = None
    chosen = flavour if connection.flavour == "auto" else connection.flavour
    if chosen is None:
        client = JiraClient(jira, flavour="dc", stats=stats, redactor=redactor)
        server_info = client.get("/serverInfo")
        chosen = flavour_of(server_info)
        jira.deploymentType = server_info.get("deploymentType")
        try:
            jira._version = tuple(server_info["versionNumbers"])
        except (KeyError, TypeError):
            jira._version = (0, 0, 0)
    else:
        # The jira client decides Cloud-only code paths on deploymentType: keep it consistent.
        jira.deploymentType = "Cloud" if chosen == "cloud" else "Server"
    return JiraClient(jira, flavour=chosen, stats=stats, redactor=redactor, server_info=server_info)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def settle_environment(session: requests.Session, base_url: str) -> None:
    """Read the environment's proxy and CA-bundle settings for Jira once, now, instead of on every request.

    With ``trust_env`` requests calls ``get_environ_proxies`` per request, which walks all of ``os.environ``
    (0.2-0.4 ms a request: most of a 2,000-anchor read-back's CPU). For URLs on Jira's own origin the
    session now uses what the environment said when the client was built (HTTP(S)_PROXY/ALL_PROXY unless
    NO_PROXY covers Jira; REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE, when ``verify`` is left at True),
    merged exactly as ``Session.merge_environment_settings`` does. Any other URL (a redirect to another
    host) and every redirect (``rebuild_proxies``/``rebuild_auth``: proxies, .netrc) still read the
    environment as requests always does. .netrc is never read for Jira itself: the session has auth.
    """
    if not session.trust_env:
        return
    origin = _origin(base_url)
    env_proxies = requests.utils.get_environ_proxies(base_url)  # {} when NO_PROXY covers Jira
    env_verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    per_request = session.merge_environment_settings

    def merge_environment_settings(
        url: str, proxies: dict[str, str] | None, stream: bool | None, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if _origin(url) != origin or (proxies is not None and "no_proxy" in proxies):
            return per_request(url, proxies, stream, verify, cert)
        if proxies is not None:
            for scheme, proxy in env_proxies.items():
                proxies.setdefault(scheme, proxy)
        if verify is True or verify is None:
            verify = env_verify or verify
        return {
            "proxies": merge_setting(proxies, session.proxies),
            "stream": merge_setting(stream, session.stream),
            "verify": merge_setting(verify, session.verify),
            "cert": merge_setting(cert, session.cert),
        }

    session.merge_environment_settings = merge_environment_settings  # type: ignore[method-assign]


def _install_retry(
    jira: JIRA,
    policy: RetryPolicy,
    stats: RequestStats,
    budget: RequestBudget | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Route every request of the client's session through ``policy`` (the session retries nothing) and,
    when given, ``budget`` (every attempt, retries included, takes a slot; 429/503 slow everyone down)."""
    session = jira._session
    session.max_retries = 0
    send = session.request  # ResilientSession.request: one attempt, raises JIRAError on HTTP errors

    def request(method: str, url: str | bytes, **kwargs: Any) -> requests.Response:
        path = urlsplit(url.decode() if isinstance(url, bytes) else url).path

        def attempt() -> requests.Response:
            stats.record(method, path)
            if budget is None:
                return send(method, url, **kwargs)
            with budget.slot():
                try:
                    response = send(method, url, **kwargs)
                except JIRAError as exc:
                    if exc.status_code in ALWAYS_RETRY:
                        budget.throttled(server_wait(getattr(exc, "response", None), now()))
                    else:
                        budget.answered()
                    raise
                budget.answered()
                return response

        return policy.call(method, path, attempt)

    session.request = request  # type: ignore[method-assign]
