"""Apply a setup plan: fields first (anchors may need them), then anchors, each item on its own so one
failure does not stop the rest. Field ids of the anchors' PMO values are looked up after the fields exist.

Jira Cloud's search trails writes by seconds, and everything after init (doctor, a second init, the sync)
finds anchors through search: so init waits, bounded, until search returns the anchors it created. An
init run again at once would otherwise not see them and create each anchor twice."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.errors import JiraConnectorError, JiraHTTPError
from pmo_gates.onboarding.field_match import match_field
from pmo_gates.onboarding.jira_checks import find_anchors
from pmo_gates.onboarding.setup_plan import SetupItem, SetupPlan


class AppliedItem(BaseModel):
    id: str
    status: Literal["done", "failed"]
    result: str = Field(description="The new field id or issue key, or the error.")


class SetupResult(BaseModel):
    items: list[AppliedItem] = Field(default_factory=list)

    @property
    def failed(self) -> list[AppliedItem]:
        return [i for i in self.items if i.status == "failed"]


INDEX_WAIT_SECONDS = 60.0


def apply_setup(
    client: JiraClient,
    plan: SetupPlan,
    field_names: dict[str, str],
    *,
    index_wait_seconds: float = INDEX_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SetupResult:
    result = _apply_items(client, plan, field_names)
    applied_by_id = {applied.id: applied for applied in result.items}
    created = {  # project -> (anchor issue type, its applied item, whose result starts with the new key)
        item.project_key: (item.payload["fields"]["issuetype"]["name"], applied_by_id[item.id])
        for item in plan.items
        if item.op == "create_anchor" and item.project_key and applied_by_id[item.id].status == "done"
    }
    if created:
        unseen = await_anchors_indexed(
            client,
            {project: (anchor_type, a.result.split()[0]) for project, (anchor_type, a) in created.items()},
            timeout_seconds=index_wait_seconds,
            sleep=sleep,
            clock=clock,
        )
        for project in unseen:
            applied = created[project][1]
            applied.result += (
                f" (Jira's search does not return it yet after {index_wait_seconds:.0f} s: doctor and the sync"
                " find it once Jira has indexed it; wait before running init again)"
            )
    return result


def await_anchors_indexed(
    client: JiraClient,
    anchors: dict[str, tuple[str, str]],
    *,
    timeout_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> list[str]:
    """Poll search (backing off 0.5 s to 4 s) until it returns each project's new anchor ``(issue type,
    key)``, as doctor and the sync will look for it; the projects still unseen at the deadline."""
    deadline = clock() + timeout_seconds
    pause = 0.5
    missing = dict(anchors)
    while True:
        by_type: dict[str, list[str]] = {}
        for project, (anchor_type, _) in missing.items():
            by_type.setdefault(anchor_type, []).append(project)
        for anchor_type, projects in by_type.items():
            found = find_anchors(client, sorted(projects), anchor_type, [])
            for project in projects:
                if any(str(issue["key"]) == missing[project][1] for issue in found.get(project, [])):
                    del missing[project]
        left = deadline - clock()
        if not missing or left <= 0:
            return sorted(missing)
        sleep(min(pause, left))
        pause = min(pause * 2, 4.0)


def _apply_items(client: JiraClient, plan: SetupPlan, field_names: dict[str, str]) -> SetupResult:
    result = SetupResult()
    ordered = sorted(plan.items, key=lambda i: i.op != "create_field")
    field_ids: dict[str, str] | None = None
    for item in ordered:
        try:
            if item.op == "create_field":
                done = _create_field(client, item)
            else:
                if field_ids is None:
                    fields = client.get("/field") or []
                    matched = {k: match_field(n, fields) for k, n in field_names.items()}
                    field_ids = {k: m.field_id for k, m in matched.items() if m.field_id}
                done = _create_anchor(client, item, field_ids, field_names)
        except JiraConnectorError as exc:
            result.items.append(AppliedItem(id=item.id, status="failed", result=str(exc)))
            continue
        result.items.append(AppliedItem(id=item.id, status="done", result=done))
    return result


def _create_field(client: JiraClient, item: SetupItem) -> str:
    field = client.post("/field", item.payload["field"])
    field_id = str(field["id"])
    if item.payload.get("options"):
        contexts = client.get(f"/field/{field_id}/context").get("values") or []
        if not contexts:
            raise JiraConnectorError(f"field {field_id} was created without a context: add its options by hand")
        options = [{"value": value} for value in item.payload["options"]]
        client.post(f"/field/{field_id}/context/{contexts[0]['id']}/option", {"options": options})
    _post_without_body(client, f"/screens/addToDefault/{field_id}")
    return field_id


def _post_without_body(client: JiraClient, path: str) -> Any:
    """A POST that takes no request body (``JiraClient.post`` always sends JSON)."""
    response = client.jira._session.post(client._url(path))
    return client._json(response, "POST", path)


def _create_anchor(client: JiraClient, item: SetupItem, field_ids: dict[str, str], names: dict[str, str]) -> str:
    base: dict[str, Any] = dict(item.payload["fields"])
    pmo = {field_ids[k]: (k, v) for k, v in item.payload.get("pmo", {}).items() if k in field_ids}
    try:
        created = client.post("/issue", {"fields": {**base, **{fid: v for fid, (_, v) in pmo.items()}}})
        return str(created["key"])
    except JiraHTTPError as exc:
        refused = _refused_fields(exc, set(pmo))
        if not refused:
            raise
    # Real Jira refuses a field that is not on the project's create screen: the anchor matters more.
    key = str(client.post("/issue", {"fields": base})["key"])
    left_out = ", ".join(names[pmo[fid][0]] for fid in sorted(refused))
    return f"{key} (without {left_out}: not on the create screen; set them on {key} in Jira)"


def _refused_fields(exc: JiraHTTPError, candidates: set[str]) -> set[str]:
    """The PMO field ids a 400 from POST /issue names in its per-field errors."""
    if exc.status_code != 400 or not exc.server_text:
        return set()
    try:
        errors = json.loads(exc.server_text).get("errors") or {}
    except (ValueError, AttributeError):
        return set()
    return candidates & set(errors) if isinstance(errors, dict) else set()
