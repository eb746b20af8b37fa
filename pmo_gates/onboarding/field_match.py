"""Find a configured field name among Jira's fields: exactly, ignoring case, or as near misses
(``difflib``), so doctor can say "no field 'Planned End'; did you mean 'Planned end date'?"."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, Field


class FieldMatch(BaseModel):
    wanted: str
    field_id: str | None = None
    jira_name: str | None = None
    how: str = Field("missing", description="exact | id | case | missing")
    near: list[str] = Field(default_factory=list, description="Similar Jira field names, best first.")

    @property
    def found(self) -> bool:
        return self.field_id is not None


def match_field(wanted: str, fields: list[dict[str, Any]], *, near_cutoff: float = 0.6) -> FieldMatch:
    """``wanted`` is a field name (or a field id) as written under ``fields:``."""
    for how, test in (
        ("id", lambda f: f.get("id") == wanted),
        ("exact", lambda f: f.get("name") == wanted),
        ("case", lambda f: str(f.get("name", "")).casefold() == wanted.casefold()),
    ):
        hits = sorted((f for f in fields if test(f)), key=lambda f: (not f.get("custom"), str(f.get("id"))))
        if hits:
            return FieldMatch(wanted=wanted, field_id=str(hits[0]["id"]), jira_name=str(hits[0].get("name")), how=how)
    # PMO data lives in custom fields: a system field ("Project" for "Project Manager") is no near miss.
    names = sorted({str(f.get("name")) for f in fields if f.get("name") and f.get("custom")})
    by_fold = {n.casefold(): n for n in names}
    near = difflib.get_close_matches(wanted.casefold(), list(by_fold), n=3, cutoff=near_cutoff)
    return FieldMatch(wanted=wanted, near=[by_fold[n] for n in near])
