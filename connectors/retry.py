"""The one retry layer for every Jira call (the ``jira`` client's own retries are switched off).

Policy, from Atlassian's rate-limit guidance and the failure modes of writes:

- 429 and 503 are retried for every method: Jira refused the request, it did not act on it. The wait is
  the larger of the server's ``Retry-After`` / ``X-RateLimit-Reset`` and our exponential back-off; a server
  wait longer than ``retry.max_wait_seconds`` fails at once with a clear message instead of hanging.
- 502, 504, dropped connections and read timeouts are retried only for idempotent calls: GET, PUT, DELETE
  and the POSTs that only read (search, changelog/bulkfetch, issue/bulkfetch).
- A create (any other POST: /issue, /issue/bulk, /comment ...) whose outcome is unknown is never re-sent:
  it raises ``AmbiguousWriteError`` so the caller can look for its fingerprint first. A POST that provably
  never left (connection refused, connect timeout) is safe to send again.
- Attempts and total time are bounded (``retry.max_attempts``, ``retry.max_total_seconds``).

``sleep`` and ``clock`` are injectable so tests of a 429 storm take milliseconds.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import requests
from jira.exceptions import JIRAError
from tenacity import RetryCallState, RetryError, Retrying

from pmo_gates.config import RetryConfig
from pmo_gates.connectors.errors import (
    AmbiguousWriteError,
    JiraAuthError,
    JiraHTTPError,
    RateLimitError,
)
from pmo_gates.connectors.redact import Redactor
from pmo_gates.reachability import base_url_of, connection_failure

log = logging.getLogger(__name__)

T = TypeVar("T")

ALWAYS_RETRY = frozenset({429, 503})
RETRY_IF_IDEMPOTENT = frozenset({502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# POSTs that only read: safe to send twice.
_READ_POST = re.compile(
    r"/rest/api/\d+/(search|search/jql|search/approximate-count|changelog/bulkfetch|issue/bulkfetch|jql/match)$"
)
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def is_idempotent(method: str, path: str) -> bool:
    method = method.upper()
    return method in IDEMPOTENT_METHODS or (method == "POST" and bool(_READ_POST.search(path)))


def _never_sent(exc: BaseException) -> bool:
    """The request provably never reached the server (so even a create may be sent again)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return type(reason).__name__ in {"NewConnectionError", "NameResolutionError"}
    return False


def _unreachable(exc: BaseException) -> bool:
    """Nothing accepted the connection (refused, unknown host): before Jira ever answered, a wrong jira.url."""
    return _never_sent(exc) and not isinstance(exc, requests.exceptions.ConnectTimeout)


def server_wait(response: requests.Response | None, now: datetime) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` seconds or HTTP date, ``X-RateLimit-Reset``
    ISO-8601), or None when it did not say."""
    if response is None:
        return None
    waits: list[float] = []
    retry_after = response.headers.get("Retry-After")
    if retry_after:
        try:
            waits.append(max(0.0, float(retry_after)))
        except ValueError:
            with contextlib.suppress(TypeError, ValueError):
                waits.append(max(0.0, (parsedate_to_datetime(retry_after) - now).total_seconds()))
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            at = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            waits.append(max(0.0, (at - now).total_seconds()))
        except ValueError:
            pass
    return max(waits) if waits else None


def _status(exc: BaseException) -> int | None:
    return getattr(exc, "status_code", None) if isinstance(exc, JIRAError) else None


def _response(exc: BaseException) -> requests.Response | None:
    return getattr(exc, "response", None) if isinstance(exc, JIRAError) else None


class RetryPolicy:
    """Wraps one logical call: ``policy.call("GET", "/rest/api/2/field", send)``."""

    def _body(self, exc: BaseException | None) -> str:
        """Jira's raw error body, scrubbed of credentials (capped: it is kept on the exception)."""
        response = _response(exc) if exc is not None else None
        text = response.text if response is not None else str(getattr(exc, "text", "") or "")
        return self.redactor(text[:100_000])

    def __init__(
        self,
        config: RetryConfig | None = None,
        *,
        redactor: Redactor | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or RetryConfig()
        self.redactor = redactor or Redactor([])
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.rng = rng or random.Random()
        # Set once Jira answered anything. Before that, a refused connection or an unknown host is a wrong
        # jira.url or a Jira that is down: fail at once instead of backing off for retry.max_total_seconds.
        self.reached = False

    def call(self, method: str, path: str, send: Callable[[], T]) -> T:
        method = method.upper()
        idempotent = is_idempotent(method, path)
        started = self.clock()
        cfg = self.config

        def retryable(exc: BaseException) -> bool:
            status = _status(exc)
            if status in ALWAYS_RETRY:
                wait = server_wait(_response(exc), self.now())
                return wait is None or wait <= cfg.max_wait_seconds
            if status in RETRY_IF_IDEMPOTENT:
                return idempotent
            if isinstance(exc, TRANSPORT_ERRORS):
                if not self.reached and _unreachable(exc):
                    return False
                return idempotent or _never_sent(exc)
            return False

        def attempt() -> T:
            try:
                answer = send()
            except JIRAError:
                self.reached = True  # an HTTP error is an answer
                raise
            self.reached = True
            return answer

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            backoff = min(
                cfg.max_wait_seconds,
                cfg.initial_wait_seconds * 2 ** (state.attempt_number - 1) * (0.5 + self.rng.random() / 2),
            )
            asked = server_wait(_response(exc), self.now()) if exc is not None else None
            return max(backoff, asked or 0.0)

        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= cfg.max_attempts:
                return True
            return (self.clock() - started) + (state.upcoming_sleep or 0.0) > cfg.max_total_seconds

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "Jira %s %s: %s; retry %d/%d in %.1f s",
                method,
                path,
                self._reason(exc),
                state.attempt_number + 1,
                cfg.max_attempts,
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=_RetryIf(retryable),
            wait=wait,
            stop=stop,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=False,
        )
        try:
            return retrying(attempt)
        except RetryError as exc:
            last = exc.last_attempt
            raise self._error(last.exception(), method, path, last.attempt_number, exhausted=True) from None
        except (JIRAError, *TRANSPORT_ERRORS) as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            raise self._error(exc, method, path, attempts, exhausted=False) from None

    def _reason(self, exc: BaseException | None) -> str:
        if exc is None:
            return "no response"
        status = _status(exc)
        if status is not None:
            return f"HTTP {status}"
        detail = self.redactor(str(exc))
        return f"{type(exc).__name__}" + (f" ({detail[:200]})" if detail else "")

    def _error(
        self, exc: BaseException | None, method: str, path: str, attempts: int, *, exhausted: bool
    ) -> JiraHTTPError:
        status = _status(exc) if exc is not None else None
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        where = f"{method} {path}"
        if status is not None:
            server_text = self.redactor(str(getattr(exc, "text", "") or ""))
            detail = f": {server_text[:500]}" if server_text else ""
            if status == 401:
                return JiraAuthError(
                    f"Jira rejected the credentials (HTTP 401) for {where}: check jira.url, jira.auth.email "
                    "and the token in the variable named by jira.auth.token_env",
                    method=method,
                    path=path,
                    status_code=status,
                    attempts=attempts,
                )
            if status == 403:
                return JiraAuthError(
                    f"Jira denied access (HTTP 403) to {where}{detail}: the account lacks permission",
                    method=method,
                    path=path,
                    status_code=status,
                    attempts=attempts,
                )
            if status in ALWAYS_RETRY:
                asked = server_wait(_response(exc), self.now())
                if not exhausted and asked is not None and asked > self.config.max_wait_seconds:
                    message = (
                        f"Jira answered HTTP {status} to {where} and asked us to wait {asked:.0f} s, longer "
                        f"than retry.max_wait_seconds={self.config.max_wait_seconds:g}; try again later"
                    )
                else:
                    message = f"Jira kept answering HTTP {status} to {where}{tries}; try again later"
                return RateLimitError(message, method=method, path=path, status_code=status, attempts=attempts)
            if status in RETRY_IF_IDEMPOTENT and not is_idempotent(method, path):
                return AmbiguousWriteError(
                    f"{where} may or may not have been applied by Jira (HTTP {status} from a gateway); it "
                    "was not re-sent: look for its fingerprint in Jira before trying again",
                    method=method,
                    path=path,
                    status_code=status,
                    attempts=attempts,
                )
            return JiraHTTPError(
                f"Jira answered HTTP {status} to {where}{tries}{detail}",
                method=method,
                path=path,
                status_code=status,
                attempts=attempts,
                server_text=self._body(exc) or None,
            )
        if exc is not None and not self.reached and _unreachable(exc):
            target = base_url_of(exc) or "jira.url"
            return JiraHTTPError(
                f"cannot connect to Jira at {target} ({connection_failure(exc)}) for {where}: check jira.url in "
                "the config, and that Jira is up and reachable from here",
                method=method,
                path=path,
                attempts=attempts,
            )
        reason = self._reason(exc)
        if not is_idempotent(method, path) and not (exc is not None and _never_sent(exc)):
            return AmbiguousWriteError(
                f"{where} may or may not have been applied by Jira ({reason}); it was not re-sent: look "
                "for its fingerprint in Jira before trying again",
                method=method,
                path=path,
                attempts=attempts,
            )
        return JiraHTTPError(
            f"Could not complete {where}{tries}: {reason}", method=method, path=path, attempts=attempts
        )


class _RetryIf:
    """A tenacity ``retry`` strategy from a predicate on the raised exception (results never retry)."""

    def __init__(self, predicate: Callable[[BaseException], bool]) -> None:
        self.predicate = predicate

    def __call__(self, state: RetryCallState) -> bool:
        if state.outcome is None or not state.outcome.failed:
            return False
        exc = state.outcome.exception()
        return exc is not None and self.predicate(exc)
