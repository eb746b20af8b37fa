"""What each mapped PMO field is: the Jira custom field type ``init`` creates for it, and whether it lives
on the anchor issue (project metadata) or on work issues."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pmo_gates.connectors.mapping import PHASES

TYPES = "com.atlassian.jira.plugin.system.customfieldtypes:"


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # the config key under ``fields:``
    custom_type: str | None  # None: Jira Software owns the field; it cannot be created through REST
    searcher: str | None = None
    options: tuple[str, ...] = ()
    on_anchor: bool = True  # project metadata on the anchor issue (doctor lists it when empty)


def _spec(key: str, short: str | None, searcher: str | None, *, options: tuple[str, ...] = (), on_anchor: bool = True):
    return FieldSpec(
        key=key,
        custom_type=TYPES + short if short else None,
        searcher=TYPES + searcher if searcher else None,
        options=options,
        on_anchor=on_anchor,
    )


PHASE_OPTIONS = tuple(p.capitalize() for p in PHASES)

SPECS: dict[str, FieldSpec] = {
    s.key: s
    for s in (
        _spec("phase", "select", "multiselectsearcher", options=PHASE_OPTIONS),
        _spec("planned_start", "datepicker", "daterange"),
        _spec("planned_end", "datepicker", "daterange"),
        _spec("baseline_date", "datepicker", "daterange"),
        _spec("budget", "float", "exactnumber"),
        _spec("actual_cost", "float", "exactnumber"),
        _spec("hourly_rate", "float", "exactnumber"),
        _spec("project_manager", "userpicker", "userpickergroupsearcher"),
        _spec("strategic_value", "float", "exactnumber"),
        _spec("expected_roi", "float", "exactnumber"),
        _spec("charter", "url", "exacttextsearcher"),
        _spec("budget_approved", "select", "multiselectsearcher", options=("Yes", "No")),
        _spec("lessons_learned", "textarea", "textsearcher"),
        _spec("story_points", "float", "exactnumber", on_anchor=False),
        _spec("sprint", None, None, on_anchor=False),
        _spec("epic_link", None, None, on_anchor=False),
    )
}

# Without these a project cannot be judged at all (no phase: no gate).
REQUIRED_FOR_REVIEW = frozenset({"phase"})
