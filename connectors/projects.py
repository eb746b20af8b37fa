"""Project records from GET /project/search (name, lead, category), 50 keys per request."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.mapping import person_id

KEYS_PER_CALL = 50  # the documented limit of the ``keys`` parameter


def fetch_projects(client: JiraClient, keys: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The raw project objects (with ``lead`` expanded) of ``keys`` that exist and are visible."""
    keys = sorted(set(keys))
    for start in range(0, len(keys), KEYS_PER_CALL):
        chunk = keys[start : start + KEYS_PER_CALL]
        at = 0
        while True:
            data = client.get(
                "/project/search", {"keys": chunk, "startAt": at, "maxResults": KEYS_PER_CALL, "expand": "lead"}
            )
            values = data.get("values") or []
            yield from values
            at += len(values)
            if data.get("isLast", True) or not values:
                break


def project_row(raw: dict[str, Any], synced_at: datetime) -> dict[str, Any]:
    category = raw.get("projectCategory")
    return {
        "key": str(raw["key"])[:64],
        "jira_id": str(raw.get("id") or f"key:{raw['key']}")[:32],
        "name": str(raw.get("name") or raw["key"])[:255],
        "lead_account_id": (person_id(raw.get("lead")) or None),
        "category": str(category.get("name"))[:255] if isinstance(category, dict) and category.get("name") else None,
        "metadata_json": {},
        "synced_at": synced_at,
    }
