"""Project records (name, lead, category): Cloud's GET /project/search, 50 keys per request; Data Center
has no /project/search, so one GET /project lists the visible projects and we keep the wanted ones."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.mapping import person_id

KEYS_PER_CALL = 50  # the documented limit of the ``keys`` parameter


def fetch_projects(
    client: JiraClient, keys: Iterable[str], *, expand: str = "lead", executor: Executor | None = None
) -> Iterator[dict[str, Any]]:
    """The raw project objects of ``keys`` that exist and are visible to the sync user. With an
    ``executor`` the 50-key chunks are requested concurrently (each one a request paying Jira's latency;
    2,000 projects are 40 of them), still yielded in key order."""
    keys = sorted(set(keys))
    if not keys:
        return
    if not client.is_cloud:
        wanted = set(keys)
        for project in client.get("/project", {"expand": expand}) or []:
            if isinstance(project, dict) and project.get("key") in wanted:
                yield project
        return
    chunks = [keys[start : start + KEYS_PER_CALL] for start in range(0, len(keys), KEYS_PER_CALL)]
    if executor is None or len(chunks) == 1:
        for chunk in chunks:
            yield from _chunk(client, chunk, expand)
        return
    for values in executor.map(lambda chunk: _chunk(client, chunk, expand), chunks):
        yield from values


def _chunk(client: JiraClient, chunk: list[str], expand: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    at = 0
    while True:
        params = {"keys": chunk, "startAt": at, "maxResults": KEYS_PER_CALL, "expand": expand}
        data = client.get("/project/search", params)
        values = data.get("values") or []
        found.extend(values)
        at += len(values)
        if data.get("isLast", True) or not values:
            return found


def project_row(raw: dict[str, Any], synced_at: datetime) -> dict[str, Any]:
    category = raw.get("projectCategory")
    category_name = category.get("name") if isinstance(category, dict) else None
    return {
        "key": str(raw["key"])[:64],
        "jira_id": str(raw.get("id") or f"key:{raw['key']}")[:32],
        "name": str(raw.get("name") or raw["key"])[:255],
        "lead_account_id": person_id(raw.get("lead")),
        "category": str(category_name)[:255] if category_name else None,
        "metadata_json": {},
        "synced_at": synced_at,
    }
