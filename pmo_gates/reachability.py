"""Is the other side there? Short reasons for failed connections, and a check of ``PREFECT_API_URL``.

A wrong URL otherwise surfaces as minutes of retries and pages of tracebacks from deep inside an HTTP or
Prefect client; these turn it into one line naming the URL and what to do.
"""

from __future__ import annotations

import requests

PREFECT_HEALTH_TIMEOUT_S = 3.0


def connection_failure(exc: BaseException) -> str:
    """Why a connection failed, in a few words ("connection refused", "host name not found", ...)."""
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "no answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS/SSL error"
    if "NameResolutionError" in text or "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    if "Connection refused" in text:
        return "connection refused (nothing listening there)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def base_url_of(exc: BaseException) -> str | None:
    """``scheme://host:port`` a failed ``requests`` connection was aimed at, when urllib3 recorded it."""
    inner = exc.args[0] if exc.args else None
    pool = getattr(inner, "pool", None)
    if pool is None or not getattr(pool, "host", None):
        return None
    return f"{pool.scheme}://{pool.host}:{pool.port}"


def prefect_api_problem(url: str | None = None, *, timeout: float = PREFECT_HEALTH_TIMEOUT_S) -> str | None:
    """What is wrong with the Prefect API at ``url`` (default: ``PREFECT_API_URL``), or None when it answers
    or none is set (Prefect then starts a temporary local server)."""
    if url is None:
        from prefect.settings import PREFECT_API_URL

        url = PREFECT_API_URL.value()
    if not url:
        return None
    health = url.rstrip("/") + "/health"
    try:
        response = requests.get(health, timeout=timeout)
    except requests.RequestException as exc:
        return (
            f"PREFECT_API_URL={url} does not answer ({connection_failure(exc)}): start that Prefect server "
            "(prefect server start) or fix PREFECT_API_URL; unset it to let pmo-gates start a temporary one"
        )
    if response.status_code >= 400:
        return (
            f"PREFECT_API_URL={url} answered HTTP {response.status_code} to /health: is it a Prefect API URL "
            "(such as http://127.0.0.1:4200/api)?"
        )
    return None
