"""Resolve the PMO metadata fields named in the config (``fields:``) to Jira field ids via GET /field.

Field names are not unique in Jira (two "Sprint" fields are common after an app install), so a name that
matches several fields is settled by the field's type (``schema.custom``) where we know it, then by
preferring custom fields. A name Jira does not know yields a warning naming it, never a crash: the
column it feeds simply stays empty.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from pmo_gates.config import FieldMap

log = logging.getLogger(__name__)

# The field types that identify a field whatever it is called.
KNOWN_TYPES: dict[str, frozenset[str]] = {
    "sprint": frozenset({"com.pyxis.greenhopper.jira:gh-sprint"}),
    "epic_link": frozenset({"com.pyxis.greenhopper.jira:gh-epic-link"}),
    "story_points": frozenset(
        {
            "com.pyxis.greenhopper.jira:jsw-story-points",
            "com.atlassian.jira.plugin.system.customfieldtypes:float",
        }
    ),
}


class FieldIds(BaseModel):
    """Config name (``budget``) -> Jira field id (``customfield_10031``) for every field found."""

    ids: dict[str, str] = Field(default_factory=dict)
    names: dict[str, str] = Field(default_factory=dict, description="config name -> the configured Jira name")
    warnings: list[str] = Field(default_factory=list)

    def get(self, name: str) -> str | None:
        return self.ids.get(name)

    def matches(self, field_map: FieldMap) -> bool:
        """True when these ids were resolved for the same configured names (so a cached copy still fits)."""
        return self.names == field_map.model_dump()


def _custom_type(field: dict[str, Any]) -> str | None:
    schema = field.get("schema")
    return schema.get("custom") if isinstance(schema, dict) else None


def _pick(name: str, config_name: str, fields: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, str]:
    """The field for ``name`` and a warning ("" when the match was clean)."""
    by_id = [f for f in fields if f.get("id") == name]
    if by_id:
        return by_id[0], ""
    candidates = [f for f in fields if f.get("name") == name]
    if not candidates:
        candidates = [f for f in fields if str(f.get("name", "")).casefold() == name.casefold()]
    types = KNOWN_TYPES.get(config_name, frozenset())
    if not candidates and types:
        typed = [f for f in fields if _custom_type(f) in types]
        if len(typed) == 1:
            return typed[0], (
                f"fields.{config_name}: no Jira field is named {name!r}; using {typed[0].get('name')!r} "
                f"({typed[0]['id']}), the only field of its type"
            )
    if not candidates:
        return None, (
            f"fields.{config_name}: Jira has no field named {name!r}; the data it feeds stays empty. Fix "
            "the name under `fields:` in the config (names are as shown in Jira's field list)"
        )
    if len(candidates) == 1:
        return candidates[0], ""
    typed = [f for f in candidates if _custom_type(f) in types]
    pool = typed or [f for f in candidates if f.get("custom")] or candidates
    pool = sorted(pool, key=lambda f: str(f.get("id")))
    if len(pool) == 1:
        return pool[0], ""
    ids = ", ".join(str(f.get("id")) for f in pool)
    return pool[0], (
        f"fields.{config_name}: {len(pool)} Jira fields are named {name!r} ({ids}); using {pool[0]['id']}. "
        "Put the field id in the config instead of the name to choose another"
    )


def resolve_fields(fields: list[dict[str, Any]], field_map: FieldMap) -> FieldIds:
    """Match every configured name against GET /field's answer."""
    out = FieldIds(names=field_map.model_dump())
    for config_name, jira_name in field_map.model_dump().items():
        field, warning = _pick(jira_name, config_name, fields)
        if field is not None:
            out.ids[config_name] = str(field["id"])
        if warning:
            log.warning(warning)
            out.warnings.append(warning)
    return out
