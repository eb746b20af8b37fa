"""Action types: what a failing rule asks for. Users add types by registering a class.

    >>> from pmo_gates.rules.actions import Action, action_registry
    >>> @action_registry.register("email")
    ... class EmailAction(Action):
    ...     type: Literal["email"] = "email"
    ...     to: str
    ...     body: str
    ...     template_fields: ClassVar[tuple[str, ...]] = ("body",)

Each class is a pydantic model (its JSON Schema is the type's schema fragment); ``template_fields``
name the fields rendered with :mod:`pmo_gates.rules.templates`; ``validate_semantics`` adds checks
that need more than the schema. The corrective-action and gate-review flows decide how each rendered
type is carried out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.rules.registry import Registry
from pmo_gates.rules.templates import parse_template, render


class RenderedAction(BaseModel):
    """An action with its templates filled in for one finding."""

    model_config = ConfigDict(frozen=True)

    type: str
    fields: dict[str, Any]


class Action(BaseModel):
    """Base class of action types."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    template_fields: ClassVar[tuple[str, ...]] = ()

    def validate_semantics(self) -> list[tuple[str, str]]:
        """Problems as (field, message) beyond the schema; templates are checked by the loader."""
        return []

    def render(self, context: Mapping[str, Any]) -> RenderedAction:
        fields = self.model_dump(exclude={"type"})
        for name in self.template_fields:
            fields[name] = render(parse_template(getattr(self, name)), context)
        return RenderedAction(type=self.type, fields=fields)


class ActionRegistry(Registry[type[Action]]):
    def __init__(self) -> None:
        super().__init__("action type")

    def add(self, name: str, item: type[Action]) -> None:
        if not (isinstance(item, type) and issubclass(item, Action)):
            raise TypeError(f"action type {name!r} must be a subclass of Action")
        annotation = item.model_fields["type"].annotation
        if annotation != Literal[name]:  # the discriminator must match the registered name
            raise TypeError(f"action type {name!r} must declare type: Literal[{name!r}]")
        super().add(name, item)

    def copy(self) -> ActionRegistry:
        other = ActionRegistry()
        for name, item in self.items():
            other.add(name, item)
        return other


action_registry = ActionRegistry()


@action_registry.register("ticket")
class TicketAction(Action):
    """Open (and keep updated) one Jira issue per failing finding, assigned to the rule's owner."""

    type: Literal["ticket"] = "ticket"
    summary: str = Field("[PMO] {project}: {rule.title}", min_length=1, max_length=255)
    description: str = Field("{rule.description}", description="Ticket body (template).")
    issue_type: str = Field("Task", min_length=1, description="Jira issue type name.")
    labels: list[str] = Field(default_factory=lambda: ["pmo-gates"], description="Jira labels (no spaces).")
    template_fields: ClassVar[tuple[str, ...]] = ("summary", "description")

    def validate_semantics(self) -> list[tuple[str, str]]:
        return [("labels", f"Jira labels cannot contain spaces: {label!r}") for label in self.labels if " " in label]


@action_registry.register("comment")
class CommentAction(Action):
    """Comment on the project's anchor issue (advisory findings, gate notes)."""

    type: Literal["comment"] = "comment"
    body: str = Field(min_length=1, description="Comment text (template).")
    template_fields: ClassVar[tuple[str, ...]] = ("body",)
