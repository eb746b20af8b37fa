"""The sandbox's own HTTP admin API under ``/_sandbox/``, for tests that run the sandbox out of process.

- ``GET /_sandbox/faults``: active rules with their ``seen``/``fired`` counters
- ``POST /_sandbox/faults``: add a rule (a ``FaultRule`` as JSON) -> 201 ``{"id": n}``
- ``DELETE /_sandbox/faults`` / ``DELETE /_sandbox/faults/{id}``: remove all / one
- ``GET /_sandbox/requests`` (``?method=&path_prefix=``): recorded Jira calls; ``DELETE`` clears them
- ``GET /_sandbox/requests/stats``: counts by endpoint and status
- ``GET /_sandbox/contract``: contract violations seen so far (when validating)
- ``POST /_sandbox/reset``: ``{"state": true, "faults": true, "requests": true}`` (all by default)

Not part of Jira's API: never rate-limited or faulted, not recorded, not contract-checked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from pmo_gates.sandbox.api.core import Reply

if TYPE_CHECKING:
    from pmo_gates.sandbox.server import SandboxServer

PREFIX = "/_sandbox"


def handle_admin(sb: SandboxServer, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
    route = path[len(PREFIX) :].rstrip("/") or "/"
    if route == "/faults":
        if method == "GET":
            return Reply(200, {"faults": sb.faults.describe()})
        if method == "POST":
            try:
                return Reply(201, {"id": sb.faults.add(body if isinstance(body, dict) else {})})
            except ValidationError as exc:
                problems = [f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}" for e in exc.errors()]
                return Reply(400, {"errorMessages": problems, "errors": {}})
        if method == "DELETE":
            sb.faults.clear()
            return Reply(204)
    found = re.fullmatch(r"/faults/(\d+)", route)
    if found and method == "DELETE":
        return Reply(204) if sb.faults.remove(int(found.group(1))) else _missing(path)
    if route == "/requests":
        if method == "GET":
            first = {k: v[0] for k, v in query.items() if v}
            records = sb.requests.matching(first.get("method"), first.get("path_prefix"))
            return Reply(200, {"requests": [r.to_json() for r in records]})
        if method == "DELETE":
            sb.requests.reset()
            return Reply(204)
    if route == "/requests/stats" and method == "GET":
        return Reply(200, sb.requests.stats())
    if route == "/contract" and method == "GET":
        return Reply(200, {"validating": sb.contract is not None, "violations": list(sb.contract_violations)})
    if route == "/reset" and method == "POST":
        options = body if isinstance(body, dict) else {}
        sb.reset(
            state=bool(options.get("state", True)),
            faults=bool(options.get("faults", True)),
            requests=bool(options.get("requests", True)),
        )
        return Reply(204)
    return _missing(path)


def _missing(path: str) -> Reply:
    return Reply(404, {"errorMessages": [f"No sandbox admin resource at {path}."], "errors": {}})
