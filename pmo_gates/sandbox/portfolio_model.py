"""What a generated portfolio is made of: project profiles and the PMO custom fields.

The custom field *names* are the contract with the rest of pmo-gates (facts look fields up by name and by
``schema.custom`` type); the ids are examples, like a real site's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from pmo_gates.sandbox import catalog

PHASES = ("Initiation", "Planning", "Execution", "Closure")
TRAITS = ("healthy", "late", "blocked", "over_budget", "scope_creep", "incomplete")

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
# name -> (id, schema type, schema custom type, schema items)
CUSTOM_FIELDS: dict[str, tuple[str, str, str, str | None]] = {
    "PMO Phase": ("customfield_10100", "option", _CF + "select", None),
    "Planned Start": ("customfield_10101", "date", _CF + "datepicker", None),
    "Planned End": ("customfield_10102", "date", _CF + "datepicker", None),
    "Budget": ("customfield_10103", "number", _CF + "float", None),
    "Actual Cost": ("customfield_10104", "number", _CF + "float", None),
    "Project Manager": ("customfield_10105", "user", _CF + "userpicker", None),
    "Strategic Value": ("customfield_10106", "number", _CF + "float", None),
    "Expected ROI": ("customfield_10107", "number", _CF + "float", None),
    "Charter": ("customfield_10108", "string", _CF + "url", None),
    "Budget Approved": ("customfield_10109", "option", _CF + "select", None),
    "Lessons Learned": ("customfield_10110", "string", _CF + "textarea", None),
    "Phase Baseline Date": ("customfield_10111", "date", _CF + "datepicker", None),
    "Hourly Rate": ("customfield_10112", "number", _CF + "float", None),
    "Story Points": ("customfield_10016", "number", _CF + "float", None),
    "Sprint": ("customfield_10020", "array", "com.pyxis.greenhopper.jira:gh-sprint", "json"),
    "Epic Link": ("customfield_10014", "any", "com.pyxis.greenhopper.jira:gh-epic-link", None),
}
CF = {name: spec[0] for name, spec in CUSTOM_FIELDS.items()}
SELECT_OPTIONS: dict[str, dict[str, str]] = {
    "PMO Phase": {"Initiation": "10200", "Planning": "10201", "Execution": "10202", "Closure": "10203"},
    "Budget Approved": {"Yes": "10210", "No": "10211"},
}


@dataclass(frozen=True)
class ProjectProfile:
    """What a generated project looks like: its PMO phase and its traits (see ``TRAITS``)."""

    phase: str
    traits: tuple[str, ...] = ("healthy",)

    def has(self, trait: str) -> bool:
        return trait in self.traits

    def check(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"unknown phase {self.phase!r}; expected one of {', '.join(PHASES)}")
        unknown = [t for t in self.traits if t not in TRAITS]
        if unknown:
            raise ValueError(f"unknown traits {unknown}; expected some of {', '.join(TRAITS)}")


# The sample's ten projects: one or two healthy ones in each phase, the rest with problems to find.
SAMPLE_PROFILES: tuple[ProjectProfile, ...] = (
    ProjectProfile("Initiation"),
    ProjectProfile("Initiation", ("incomplete",)),
    ProjectProfile("Planning"),
    ProjectProfile("Planning", ("late",)),
    ProjectProfile("Execution"),
    ProjectProfile("Execution", ("late",)),
    ProjectProfile("Execution", ("blocked", "late")),
    ProjectProfile("Execution", ("over_budget", "scope_creep")),
    ProjectProfile("Closure"),
    ProjectProfile("Closure", ("late", "over_budget")),
)


def default_profiles(count: int, rng: random.Random) -> list[ProjectProfile]:
    """The sample's mix first, then random phases and traits in similar proportions."""
    profiles = list(SAMPLE_PROFILES[:count])
    problems = ("late", "blocked", "over_budget", "scope_creep", "incomplete")
    while len(profiles) < count:
        phase = rng.choices(PHASES, weights=(2, 2, 5, 2))[0]
        if rng.random() < 0.45:
            profiles.append(ProjectProfile(phase))
        else:
            k = 1 if rng.random() < 0.7 else 2
            profiles.append(ProjectProfile(phase, tuple(sorted(rng.sample(problems, k)))))
    return profiles


def field_definitions() -> list[dict[str, Any]]:
    """``GET /field`` for a generated site: the system fields plus the PMO and agile custom fields."""
    defs = catalog.system_fields()
    for name, (field_id, type_, custom, items) in CUSTOM_FIELDS.items():
        custom_id = int(field_id.rsplit("_", 1)[1])
        schema: dict[str, Any] = {"type": type_, "custom": custom, "customId": custom_id}
        if items:
            schema["items"] = items
        defs.append(
            {
                "id": field_id,
                "key": field_id,
                "name": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{custom_id}]", name],
                "schema": schema,
            }
        )
    return defs
