"""The RCA playbook file: delay thresholds, how work is read, each cause's settings, and the remedies.

The ``causes`` section is validated against the cause registry: every registered cause has its own
``params`` model, so a typo in a threshold is an error at ``file:line:col`` before anything runs. A
second phase checks what pydantic cannot: remedy references and remedy text templates.

Remedy ``action`` texts are ``$name`` templates (``string.Template``), filled from a fixed set of
variables (:data:`TEMPLATE_VARIABLES`); nothing in a playbook is ever evaluated as code.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

import pmo_gates.rca.causes  # the shipped causes register on import
import pmo_gates.rules
from pmo_gates.rca.detect import DetectionThresholds
from pmo_gates.rca.profile import StatusClassifier
from pmo_gates.rca.registry import CauseRegistry, cause_registry
from pmo_gates.rca.yamlfile import located, parse_model, read_text
from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.yaml_source import YamlDocument

RemedyKind = Literal[
    "efficiency_improvement",
    "overtime",
    "staffing_adjustment",
    "workflow_reordering",
    "change_control",
    "dependency_escalation",
]

TEMPLATE_VARIABLES = frozenset(
    {"project", "manager", "slip_days", "cause", "summary", "issues", "people", "statuses", "projects"}
)

PLAYBOOKS_DIR = Path(pmo_gates.rules.__file__).parent / "playbooks"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkSection(_Model):
    ignore_issue_types: list[str] = Field(
        default_factory=lambda: ["Project", "Risk"],
        description="Issue types that are not work items (the anchor issue type, risks).",
    )
    blocking_link_types: list[str] = Field(
        default_factory=lambda: ["Blocks"], description="Link types meaning 'from blocks to'."
    )
    status_categories: dict[str, Literal["new", "indeterminate", "done"]] = Field(
        default_factory=dict,
        description="Category of statuses no current issue is in (history only); the store knows the rest.",
    )
    workflow_order: list[str] = Field(
        default_factory=list, description="Statuses in workflow order; moving backwards is a bounce-back."
    )
    throughput_window_days: int = Field(
        42, ge=7, le=365, description="Days of resolved work setting the throughput (forecasts, impact in days)."
    )
    evidence_limit: int = Field(10, ge=1, le=100, description="Most items cited per cause.")

    def classifier(self, known: dict[str, str]) -> StatusClassifier:
        """Statuses classified by ``known`` (from the store), then this section's fallbacks."""
        return StatusClassifier({**self.status_categories, **known}, self.workflow_order)


class Remedy(_Model):
    kind: RemedyKind
    title: str = Field(..., min_length=1)
    action: str = Field(..., min_length=1, description=f"Text with $variables: {sorted(TEMPLATE_VARIABLES)}")


class CauseEntry(_Model):
    enabled: bool = True
    weight: float = Field(1.0, ge=0, description="Multiplies the cause's estimated impact.")
    remedies: list[str] = Field(default_factory=list, description="Remedy ids, most useful first.")
    params: Any = None


class PrescribeSection(_Model):
    max_causes: int = Field(3, ge=1, description="Remedies are drawn from this many top causes ...")
    min_share: float = Field(0.1, ge=0, le=1, description="... each explaining at least this share of the slip.")


class Playbook(_Model):
    kind: Literal["rca-playbook"]
    version: Literal[1] = 1
    detection: DetectionThresholds = DetectionThresholds()
    work: WorkSection = WorkSection()
    prescribe: PrescribeSection = PrescribeSection()
    causes: Any
    unexplained: CauseEntry = Field(
        default_factory=CauseEntry, description="Remedies for a delay no cause explains (the 'unexplained' cause)."
    )
    remedies: dict[str, Remedy] = Field(default_factory=dict)

    def cause(self, name: str) -> CauseEntry:
        return getattr(self.causes, name)


def playbook_model(registry: CauseRegistry = cause_registry) -> type[Playbook]:
    """The Playbook model with a ``causes`` section generated from ``registry`` (one key per cause)."""
    entries: dict[str, Any] = {}
    for name, analyser in registry.items():
        entry = create_model(f"CauseEntry_{name}", __base__=CauseEntry, params=(analyser.params, analyser.params()))
        entries[name] = (entry, entry())
    causes = create_model("Causes", __base__=_Model, **entries)
    return create_model("PlaybookFile", __base__=Playbook, causes=(causes, causes()))


def _semantic_errors(playbook: Playbook, document: YamlDocument, registry: CauseRegistry) -> list[RuleFileError]:
    errors = []
    entries = [(("causes", name), playbook.cause(name)) for name in registry.names()]
    for where, entry in [*entries, (("unexplained",), playbook.unexplained)]:
        for i, remedy in enumerate(entry.remedies):
            if remedy not in playbook.remedies:
                hint = f" (known: {', '.join(sorted(playbook.remedies))})" if playbook.remedies else ""
                errors.append(located(document, (*where, "remedies", i), f"unknown remedy {remedy!r}{hint}"))
    for rid, remedy in playbook.remedies.items():
        where = ("remedies", rid, "action")
        template = Template(remedy.action)
        if not template.is_valid():
            errors.append(located(document, where, "invalid template: write $name, ${name} or $$"))
            continue
        for match in template.pattern.finditer(remedy.action):
            name = match.group("named") or match.group("braced")
            if name and name not in TEMPLATE_VARIABLES:
                line, col = document.expression_position(where, match.start())
                message = f"{'.'.join(where)}: unknown variable ${name} (known: {sorted(TEMPLATE_VARIABLES)})"
                errors.append(RuleFileError(path=document.path, line=line, col=col, message=message))
    return errors


def parse_playbook(text: str, source: str = "<playbook>", registry: CauseRegistry = cause_registry) -> Playbook:
    """Validate a playbook in two phases; every error is reported at once as ``source:line:col: ...``."""
    return parse_model(
        text, playbook_model(registry), source, lambda playbook, doc: _semantic_errors(playbook, doc, registry)
    )


def load_playbook(path: Path | str | None = None) -> Playbook:
    """The playbook at ``path``, or the shipped ``rules/playbooks/rca.yaml``."""
    path = Path(path) if path else PLAYBOOKS_DIR / "rca.yaml"
    return parse_playbook(read_text(path), str(path))
