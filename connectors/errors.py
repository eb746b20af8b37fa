"""The connector's own exceptions. Their messages name the request (method and path) and what went wrong,
and never carry a credential: they are built from our own words, not from the HTTP client's dumps of
request headers."""

from __future__ import annotations

from jira.exceptions import JIRAError


class JiraConnectorError(Exception):
    """Base of every error the Jira connector raises on purpose."""


class JiraConfigError(JiraConnectorError):
    """The connection cannot be set up as configured (missing token, bad flavour...)."""


class JiraHTTPError(JIRAError, JiraConnectorError):
    """A Jira request failed for good (after any retries the policy allowed).

    Subclasses ``JIRAError`` so code inside the ``jira`` client that inspects ``status_code`` keeps working,
    but ``str()`` is only the safe summary: no request or response headers.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        status_code: int | None = None,
        attempts: int = 1,
        server_text: str | None = None,
    ) -> None:
        super().__init__(text=message, status_code=status_code, url=path)
        self.message = message
        self.method = method
        self.path = path
        self.attempts = attempts
        # Jira's own error body (already scrubbed of credentials), for callers that read its structure,
        # such as the per-element errors of a rejected bulk create.
        self.server_text = server_text

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Prefect and multiprocessing pickle exceptions; keep the keyword-only constructor round-tripping.
        return (
            _rebuild,
            (type(self), self.message, self.method, self.path, self.status_code, self.attempts, self.server_text),
        )


def _rebuild(cls, message, method, path, status_code, attempts, server_text=None):  # type: ignore[no-untyped-def]
    return cls(message, method=method, path=path, status_code=status_code, attempts=attempts, server_text=server_text)


class JiraAuthError(JiraHTTPError):
    """Jira rejected the credentials (401) or the account lacks permission (403)."""


class RateLimitError(JiraHTTPError):
    """Jira kept rate limiting us, or asked for a wait longer than ``retry.max_wait_seconds``."""


class AmbiguousWriteError(JiraHTTPError):
    """A create (POST /issue, /issue/bulk, /comment ...) may or may not have reached Jira: the connection
    failed or a gateway timed out after the request was sent. It is never re-sent automatically; the
    caller looks for its fingerprint in Jira before trying again."""
