"""Project priority scoring from ``rules/playbooks/priority.yaml``: weighted criteria over facts.

Each criterion's ``value`` is an expression of the rule language, compiled against the fact catalog when
the file loads, so a misspelt fact or a criterion that does not give a number is reported at its
``file:line:col`` before any project is scored. A criterion's value is normalised to 0..1 (``range``,
``minmax`` or ``rank``), flipped when less is better, and weighted; the score is the weighted mean x 100.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pmo_gates.rca.playbook import PLAYBOOKS_DIR
from pmo_gates.rca.yamlfile import located, parse_model, read_text
from pmo_gates.rules.catalog import FactCatalog
from pmo_gates.rules.errors import RuleFileError
from pmo_gates.rules.expr import CompiledExpression, ExprError, compile_expression
from pmo_gates.rules.expr.types import NUMBER
from pmo_gates.rules.facts import default_catalog
from pmo_gates.rules.yaml_source import YamlDocument

# The ranking table's own columns: a criterion id (also a column) must not shadow them.
RESERVED_IDS = frozenset({"rank", "project", "name", "score", "delayed"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Normalise(_Model):
    method: Literal["range", "minmax", "rank"]
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normalise:
        if self.method == "range":
            if self.min is None or self.max is None or not self.max > self.min:
                raise ValueError("range needs min and max, with max > min")
        elif self.min is not None or self.max is not None:
            raise ValueError(f"{self.method} takes no min or max: the portfolio's own values set the scale")
        return self


class Criterion(_Model):
    id: str = Field(..., pattern=r"^[a-z][a-z0-9_]*$", description="Column name in the ranking table.")
    title: str | None = Field(None, description="Shown in charts and the summary; default: the id.")
    value: str = Field(..., min_length=1, description="A fact, or an expression over facts giving a number.")
    weight: float = Field(..., gt=0)
    normalise: Normalise
    direction: Literal["higher", "lower"] = Field("higher", description="lower: less is better.")
    missing: float = Field(0.0, ge=0, le=1, description="The 0..1 score of a project whose value is unknown.")

    @property
    def label(self) -> str:
        return self.title or self.id


class PriorityPlaybook(_Model):
    kind: Literal["priority-scoring"]
    version: Literal[1] = 1
    criteria: list[Criterion] = Field(..., min_length=1)


def _semantic_errors(playbook: PriorityPlaybook, document: YamlDocument, catalog: FactCatalog) -> list[RuleFileError]:
    errors = []
    seen: set[str] = set()
    for i, criterion in enumerate(playbook.criteria):
        if criterion.id in seen:
            errors.append(located(document, ("criteria", i, "id"), f"duplicate criterion id {criterion.id!r}"))
        elif criterion.id in RESERVED_IDS:
            errors.append(located(document, ("criteria", i, "id"), f"{criterion.id!r} is a column of the ranking"))
        seen.add(criterion.id)
        where = ("criteria", i, "value")
        try:
            compile_expression(criterion.value, catalog, expect=NUMBER)
        except ExprError as exc:
            # The error's offset is inside the expression: point into the file at that character.
            line, col = document.expression_position(where, exc.offset)
            message = f"{'.'.join(str(p) for p in where)}: {exc.message}"
            errors.append(RuleFileError(path=document.path, line=line, col=col, message=message))
    return errors


def parse_priority(text: str, source: str = "<priority>", catalog: FactCatalog | None = None) -> PriorityPlaybook:
    """Validate a priority file (schema, then ids and expressions); every error at once as
    ``source:line:col: key: message`` in a :class:`~pmo_gates.rca.yamlfile.PlaybookError`."""
    facts = catalog if catalog is not None else default_catalog()
    return parse_model(text, PriorityPlaybook, source, lambda playbook, doc: _semantic_errors(playbook, doc, facts))


def load_priority(path: Path | str | None = None) -> PriorityPlaybook:
    """The priority file at ``path``, or the shipped ``rules/playbooks/priority.yaml``."""
    path = Path(path) if path else PLAYBOOKS_DIR / "priority.yaml"
    return parse_priority(read_text(path), str(path))


@dataclass(frozen=True)
class PriorityRow:
    """One project's place in the ranking."""

    key: str
    score: float
    rank: int = 0
    values: dict[str, float | None] = field(default_factory=dict)  # criterion id -> raw value
    points: dict[str, float] = field(default_factory=dict)  # criterion id -> its share of the 100 points


class PriorityScorer:
    """Scores and ranks projects by a :class:`PriorityPlaybook`; its expressions are compiled once."""

    def __init__(self, playbook: PriorityPlaybook, catalog: FactCatalog | None = None) -> None:
        facts = catalog if catalog is not None else default_catalog()
        self.playbook = playbook
        self._compiled: list[tuple[Criterion, CompiledExpression]] = [
            (criterion, compile_expression(criterion.value, facts, expect=NUMBER)) for criterion in playbook.criteria
        ]
        total = sum(criterion.weight for criterion in playbook.criteria)
        self._scale = {criterion.id: 100.0 * criterion.weight / total for criterion in playbook.criteria}

    @property
    def facts(self) -> set[str]:
        """Every fact the criteria read, so the caller computes only those."""
        return {name for _, compiled in self._compiled for name in compiled.facts}

    def rank(self, facts: Mapping[str, Mapping[str, Any]], today: date) -> list[PriorityRow]:
        """Every project of ``facts`` (key -> fact -> value), best first; ties keep key order."""
        keys = sorted(facts)
        values: dict[str, dict[str, float | None]] = {key: {} for key in keys}
        normalised: dict[str, dict[str, float]] = {key: {} for key in keys}
        for criterion, compiled in self._compiled:
            column = {key: _number(compiled(facts[key], today)) for key in keys}
            scores = _normalise(criterion.normalise, column)
            for key in keys:
                values[key][criterion.id] = column[key]
                score = scores.get(key)
                if score is None:
                    normalised[key][criterion.id] = criterion.missing  # a score, not a value: never flipped
                else:
                    normalised[key][criterion.id] = 1.0 - score if criterion.direction == "lower" else score
        rows = []
        for key in keys:
            raw = {cid: self._scale[cid] * normalised[key][cid] for cid in normalised[key]}
            rows.append(
                PriorityRow(
                    key=key,
                    score=round(sum(raw.values()), 2),
                    values=values[key],
                    points={cid: round(points, 2) for cid, points in raw.items()},
                )
            )
        rows.sort(key=lambda row: (-row.score, row.key))
        return [
            PriorityRow(key=row.key, score=row.score, rank=n, values=row.values, points=row.points)
            for n, row in enumerate(rows, start=1)
        ]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return number if math.isfinite(number) else None  # inf/NaN from a division would poison the scale


def _normalise(spec: Normalise, column: Mapping[str, float | None]) -> dict[str, float]:
    """0..1 per project with a known value (before ``direction``)."""
    known = {key: value for key, value in column.items() if value is not None}
    if not known:
        return {}
    if spec.method == "range":
        assert spec.min is not None and spec.max is not None
        low, span = spec.min, spec.max - spec.min
        return {key: min(1.0, max(0.0, (value - low) / span)) for key, value in known.items()}
    if spec.method == "minmax":
        low, high = min(known.values()), max(known.values())
        if high == low:
            return dict.fromkeys(known, 0.5)  # no spread: the criterion tells the projects apart in no way
        return {key: (value - low) / (high - low) for key, value in known.items()}
    return _percentiles(known)


def _percentiles(known: Mapping[str, float]) -> dict[str, float]:
    """(average rank - 1) / (n - 1): the lowest value 0, the highest 1, ties share their mean rank."""
    if len(known) == 1:
        return dict.fromkeys(known, 0.5)
    ordered = sorted(known.values())
    first: dict[float, int] = {}
    last: dict[float, int] = {}
    for position, value in enumerate(ordered, start=1):
        first.setdefault(value, position)
        last[value] = position
    n = len(ordered)
    return {key: ((first[value] + last[value]) / 2 - 1) / (n - 1) for key, value in known.items()}
