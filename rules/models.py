"""The rule file format: pydantic models for rules, gates, waivers and their examples.

A rule file is YAML with any of the top-level sections ``pack`` + ``rules``, ``gates``, ``waivers``
and ``settings``. These models are the file format (and the JSON Schema editors use); the compiled,
ready-to-evaluate form is :class:`pmo_gates.rules.ruleset.RuleSet`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SerializeAsAny, Strict, model_validator

from pmo_gates.rules.actions import Action

KEBAB_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"
StrictInt = Annotated[int, Strict()]
StrictNumber = Annotated[float, Strict()]  # strict floats still accept ints


class Pack(StrEnum):
    """The PMO maturity phase that introduces a rule (seed 000); a PMO enables the packs it has reached."""

    ESTABLISHMENT = "establishment"
    STANDARDIZATION = "standardization"
    MATURITY = "maturity"


class LifecycleGate(StrEnum):
    """The lifecycle gate a project is at (the ``current_gate`` fact)."""

    INITIATION = "initiation"
    PLANNING = "planning"
    EXECUTION = "execution"
    CLOSURE = "closure"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Rollout(StrEnum):
    """How far a rule's failures reach: ``shadow`` only records findings (and does not count in gates),
    ``advisory`` informs (e.g. a comment), ``mandatory`` asks for a corrective action."""

    SHADOW = "shadow"
    ADVISORY = "advisory"
    MANDATORY = "mandatory"


class Recurrence(StrEnum):
    """Period of a recurring obligation; it becomes part of the finding's fingerprint."""

    NONE = "none"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"
    WAIVED = "waived"


class ExampleExpect(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"  # same as not_applicable
    NOT_APPLICABLE = "not_applicable"
    UNKNOWN = "unknown"

    def outcome(self) -> Outcome:
        return Outcome.NOT_APPLICABLE if self is ExampleExpect.SKIP else Outcome(self.value)


class Decision(StrEnum):
    """Stage-Gate decisions, from best to worst."""

    GO = "go"
    CONDITIONAL_GO = "conditional_go"
    HOLD = "hold"
    RECYCLE = "recycle"
    KILL = "kill"


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    # Where the item was written (path, line, col); set by the loader, never read from the file.
    _location: tuple[str, int, int] = PrivateAttr(default=("<memory>", 0, 0))

    @property
    def location(self) -> tuple[str, int, int]:
        return self._location

    def located(self, path: str, line: int, col: int) -> _FileModel:
        self._location = (path, line, col)
        return self


class RuleExample(_FileModel):
    """Facts in, expected outcome out: a rule's executable test."""

    name: str = Field(min_length=1, description="What the example shows, e.g. 'late project fails'.")
    facts: dict[str, Any] = Field(default_factory=dict, description="Fact values; facts left out are unknown.")
    today: dt.date | None = Field(None, description="Evaluation date; required when the rule uses today().")
    expect: ExampleExpect = Field(description="pass | fail | skip (not applicable) | unknown")


class RuleSpec(_FileModel):
    """One PMO standard as written in a rule file."""

    id: str = Field(pattern=KEBAB_ID, description="kebab-case id, unique across all loaded files")
    title: str = Field(min_length=1, description="One line a project manager understands.")
    description: str = Field("", description="Why the rule exists and how to satisfy it.")
    seed: str | None = Field(None, description="The PMO function it serves (traceability to the seeds).")
    applies: str = Field("true", description="Expression: when the rule applies (default: always).")
    check: str = Field(description="Expression that is true when the project meets the standard.")
    severity: Severity = Field(description="info | low | medium | high | critical")
    rollout: Rollout = Field(Rollout.ADVISORY, description="shadow | advisory | mandatory")
    owner: str = Field(
        "pmo_lead",
        min_length=1,
        description="Who fixes a failure: a string fact holding a person (e.g. project_manager), "
        "a fixed user/account id, or 'pmo_lead'.",
    )
    due_days: StrictInt = Field(14, ge=0, le=3650, description="Days to fix a failure, from the evaluation date.")
    recurrence: Recurrence = Field(Recurrence.NONE, description="none | weekly | monthly")
    actions: list[dict[str, Any]] = Field(
        default_factory=list, description="What to do on failure; each has a registered 'type'."
    )
    examples: list[RuleExample] = Field(default_factory=list, description="Executable examples.")


class Rule(RuleSpec):
    """A loaded rule: the file's fields plus its pack and its validated action objects."""

    pack: Pack
    actions: list[SerializeAsAny[Action]] = Field(default_factory=list)  # type: ignore[assignment]


class ShouldMeet(_FileModel):
    rule: str = Field(description="Rule id.")
    weight: StrictNumber = Field(1, gt=0, le=1000, description="Points when the rule passes.")


class Thresholds(_FileModel):
    go: StrictNumber = Field(80, ge=0, le=100, description="Score (0-100) at or above which the decision is go.")
    conditional_go: StrictNumber = Field(60, ge=0, le=100, description="Score for conditional_go.")

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.conditional_go > self.go:
            raise ValueError("conditional_go must not be above go")
        return self


class GateExample(_FileModel):
    name: str = Field(min_length=1)
    facts: dict[str, Any] = Field(default_factory=dict, description="Fact values; facts left out are unknown.")
    today: dt.date | None = Field(None, description="Evaluation date; required when a criterion uses today().")
    expect: Decision = Field(description="go | conditional_go | hold | recycle | kill")
    score: StrictNumber | None = Field(None, ge=0, le=100, description="Expected score, if it matters.")


class GateSpec(_FileModel):
    """The criteria and decision thresholds of one lifecycle gate."""

    gate: LifecycleGate = Field(description="initiation | planning | execution | closure")
    title: str = ""
    description: str = ""
    must_meet: list[str] = Field(default_factory=list, description="Knock-out rule ids: any failure decides.")
    should_meet: list[ShouldMeet] = Field(default_factory=list, description="Weighted rule ids scored 0-100.")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    on_must_meet_fail: Decision = Field(Decision.RECYCLE, description="Decision when a must-meet fails.")
    on_low_score: Decision = Field(Decision.HOLD, description="Decision when the score is below conditional_go.")
    kill: str | None = Field(None, description="Expression: when true, the decision is kill.")
    examples: list[GateExample] = Field(default_factory=list)

    @property
    def criteria(self) -> list[str]:
        """Every rule id the gate names, must-meet first."""
        return [*self.must_meet, *(c.rule for c in self.should_meet)]

    @model_validator(mode="after")
    def _sane_decisions(self) -> GateSpec:
        for name in ("on_must_meet_fail", "on_low_score"):
            if getattr(self, name) in (Decision.GO, Decision.CONDITIONAL_GO):
                raise ValueError(f"{name} must be hold, recycle or kill")
        return self


class Waiver(_FileModel):
    """An approved exception: ``rule`` does not count against ``project`` until ``expires`` (inclusive)."""

    rule: str = Field(description="Rule id.")
    project: str = Field(min_length=1, description="Jira project key.")
    approver: str = Field(min_length=1, description="Who approved the exception.")
    reason: str = Field(min_length=1)
    expires: dt.date = Field(description="Last day the waiver applies (YYYY-MM-DD).")
    granted: dt.date | None = Field(None, description="When it was approved.")

    def active(self, today: dt.date) -> bool:
        return today <= self.expires


SettingValue = Annotated[bool, Strict()] | StrictInt | StrictNumber | str | dt.date


class RuleFile(_FileModel):
    """A whole rule file (the JSON Schema root). Any section may be left out."""

    kind: Literal["rules"] | None = Field(
        None, description="Optional marker; YAML files under a rules folder with another kind are not rule files."
    )
    pack: Pack | None = Field(None, description="Maturity phase of the rules in this file (required with rules).")
    settings: dict[str, SettingValue] = Field(
        default_factory=dict, description="Tunable thresholds, used in expressions as settings.<name>."
    )
    rules: list[RuleSpec] = Field(default_factory=list)
    gates: list[GateSpec] = Field(default_factory=list)
    waivers: list[Waiver] = Field(default_factory=list)
