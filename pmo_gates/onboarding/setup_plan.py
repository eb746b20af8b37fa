"""``init``'s Jira changes as a plan, like every other Jira write of pmo-gates: itemised, each with its
reason and payload, printed by ``--dry-run``, applied item by item (or only the approved ``--only`` ids).

Two kinds of item:

- ``create_field``: a PMO custom field Jira lacks (Cloud only: ``POST /field``, its select options in the
  field's global context, ``POST /screens/addToDefault``). Data Center's REST API cannot add select
  options, so there the plan lists the field under ``manual`` instead.
- ``create_anchor``: the anchor issue of a project that has none, with the phase given (default
  Initiation) and the project lead as project manager; the other PMO fields are left for the PMO to fill.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from pmo_gates.onboarding.field_specs import SPECS
from pmo_gates.onboarding.survey import JiraSurvey

SetupOp = Literal["create_field", "create_anchor"]


class SetupItem(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Stable id (op:subject) used to approve items with --only.")
    op: SetupOp
    project_key: str | None = None
    target: str = Field(description="The field name or the project key.")
    reason: str
    payload: dict[str, Any]


class SetupPlan(BaseModel):
    items: list[SetupItem] = Field(default_factory=list)
    manual: list[str] = Field(default_factory=list, description="What init cannot do through REST here.")
    warnings: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def counts(self) -> dict[str, int]:
        return dict(Counter(item.op for item in self.items))

    def subset(self, ids: list[str] | None) -> SetupPlan:
        if ids is None:
            return self
        unknown = set(ids) - {item.id for item in self.items}
        if unknown:
            raise ValueError(f"approved ids not in the plan: {', '.join(sorted(unknown))}")
        return self.model_copy(update={"items": [i for i in self.items if i.id in set(ids)]})

    def render_table(self, title: str = "Planned Jira changes"):  # type: ignore[no-untyped-def]
        from rich.table import Table

        table = Table(title=title)
        for column in ("id", "op", "target", "reason"):
            table.add_column(column, overflow="fold")
        for item in self.items:
            table.add_row(item.id, item.op, item.target, item.reason)
        table.caption = f"{len(self.items)} changes" + "".join(f", {op} {n}" for op, n in self.counts.items())
        return table


def plan_setup(
    survey: JiraSurvey,
    *,
    field_names: dict[str, str],
    create_fields: bool,
    anchors_for: list[str],
    phase: str,
) -> SetupPlan:
    """``field_names``: config key -> the Jira name the config maps it to."""
    plan = SetupPlan()
    if create_fields:
        _plan_fields(plan, survey, field_names)
    pm_id = None
    for key in anchors_for:
        project = survey.project(key)
        if project is None:
            plan.warnings.append(f"{key}: not among the surveyed projects; no anchor planned")
            continue
        if project.anchors:
            continue  # it has one: nothing to do
        if survey.anchor_issue_type not in project.issue_types:
            plan.manual.append(
                f"{key}: issue type {survey.anchor_issue_type!r} is not available; a Jira admin adds it to the "
                "project's issue type scheme, then run init again"
            )
            continue
        pmo: dict[str, Any] = {"phase": {"value": phase.capitalize()}}
        pm_id = _person(project.lead, survey.flavour)
        if pm_id:
            pmo["project_manager"] = pm_id
        plan.items.append(
            SetupItem(
                id=f"create_anchor:{key}",
                op="create_anchor",
                project_key=key,
                target=key,
                reason=f"{key} has no {survey.anchor_issue_type} issue: gate reviews cannot judge it",
                payload={
                    "fields": {
                        "project": {"key": key},
                        "issuetype": {"name": survey.anchor_issue_type},
                        "summary": project.name,
                    },
                    "pmo": pmo,
                },
            )
        )
    return plan


def _plan_fields(plan: SetupPlan, survey: JiraSurvey, field_names: dict[str, str]) -> None:
    for key, spec in SPECS.items():
        match = survey.fields[key]
        name = field_names[key]
        if match.found or name in survey.field_names:
            continue
        if match.near:
            plan.warnings.append(
                f"fields.{key}: Jira has {match.near[0]!r}, close to {name!r}: not created; map it under fields: "
                "if it is the same thing"
            )
            continue
        if spec.custom_type is None:
            plan.manual.append(f"fields.{key}: {name!r} comes with Jira Software; set its name on your site")
            continue
        kind = spec.custom_type.rsplit(":", 1)[1] + (f" with options {', '.join(spec.options)}" if spec.options else "")
        if survey.flavour != "cloud":
            plan.manual.append(
                f"fields.{key}: create custom field {name!r} ({kind}) in Administration > Issues > Custom fields "
                f"and add it to the screens of the {survey.anchor_issue_type} issue type (Data Center's REST API "
                "cannot add select options)"
            )
            continue
        plan.items.append(
            SetupItem(
                id=f"create_field:{key}",
                op="create_field",
                target=name,
                reason=f"Jira has no field {name!r} (fields.{key}): create it as {kind}",
                payload={
                    "field": {
                        "name": name,
                        "type": spec.custom_type,
                        "searcherKey": spec.searcher,
                        "description": f"pmo-gates: fields.{key}",
                    },
                    "options": list(spec.options),
                },
            )
        )
    if any(i.op == "create_field" for i in plan.items):
        plan.manual.append(
            "new fields go on Jira's default screen only: projects with their own screens need them added there "
            "(Project settings > Screens) before the PMO can fill them in"
        )


def _person(lead: dict[str, Any] | None, flavour: str) -> dict[str, str] | None:
    if not lead:
        return None
    if flavour == "cloud":
        return {"accountId": lead["accountId"]} if lead.get("accountId") else None
    return {"name": lead["name"]} if lead.get("name") else None
