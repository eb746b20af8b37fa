"""Can we talk to Jira at all? One anonymous ``GET /serverInfo`` (Jira answers it without credentials),
with no retry, so a wrong ``jira.url`` fails in seconds with a message that names it."""

from __future__ import annotations

from typing import Any

import requests

from pmo_gates.onboarding.report import Check


def probe_server(
    url: str, *, timeout: float = 5.0, session: requests.Session | None = None
) -> tuple[Check, dict[str, Any] | None]:
    """The ``jira.reachable`` check and, when Jira answered, its serverInfo."""
    http = session or requests.Session()
    target = f"{url}/rest/api/2/serverInfo"
    fix = "check jira.url (scheme, host, port; the site's base URL) and that Jira is reachable from this machine"
    try:
        response = http.get(target, timeout=(timeout, timeout * 2), allow_redirects=False)
    except requests.exceptions.SSLError:
        return _fail(f"TLS handshake with jira.url {url} failed", fix + " (TLS: is it http or https?)"), None
    except requests.exceptions.ConnectTimeout:
        return _fail(f"no connection to jira.url {url} within {timeout:g} s", fix), None
    except requests.exceptions.ConnectionError as exc:
        text = str(exc)
        if "Name or service not known" in text or "NameResolution" in text or "nodename nor servname" in text:
            why = "host name not found"
        elif "Connection refused" in text or "Errno 111" in text:
            why = "connection refused"
        else:
            why = "connection failed"
        return _fail(f"cannot connect to jira.url {url}: {why}", fix), None
    except requests.exceptions.Timeout:
        return _fail(f"jira.url {url} accepted the connection but did not answer within {timeout * 2:g} s", fix), None
    finally:
        if session is None:
            http.close()
    if response.is_redirect:
        where = response.headers.get("Location", "elsewhere")
        return _fail(f"jira.url {url} redirects to {where}", "set jira.url to the address Jira redirects to"), None
    try:
        info = response.json()
    except ValueError:
        info = None
    if response.status_code in (401, 403):
        # serverInfo is normally anonymous; some sites and proxies demand credentials for everything.
        return Check(id="jira.reachable", status="ok", detail=f"{url} answers (HTTP 401 without credentials)"), None
    if not isinstance(info, dict) or ("baseUrl" not in info and "version" not in info):
        return _fail(
            f"jira.url {url} answered HTTP {response.status_code} to GET /rest/api/2/serverInfo without Jira's JSON",
            "set jira.url to Jira's base URL (e.g. https://example.atlassian.net, no path after it)",
        ), None
    flavour = "Cloud" if info.get("deploymentType") == "Cloud" else "Data Center"
    detail = f"Jira {flavour} {info.get('version', '')} at {url}".replace("  ", " ")
    return Check(id="jira.reachable", status="ok", detail=detail), info


def _fail(detail: str, fix: str) -> Check:
    return Check(id="jira.reachable", status="fail", detail=detail, fix=fix, blocking=True)
