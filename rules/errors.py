"""Errors in rule files, each pointing at ``path:line:col``, collected and reported all at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict


class RuleFileError(BaseModel):
    """One problem in a rule file. ``line`` and ``col`` are 1-based; ``severity`` warning does not fail."""

    model_config = ConfigDict(frozen=True)

    path: str
    line: int
    col: int
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}:{self.col}: {prefix}{self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.message)


class RuleFileErrors(Exception):
    """Every error found while loading rule files, sorted by position."""

    def __init__(self, errors: Iterable[RuleFileError]) -> None:
        self.errors = sorted(errors, key=RuleFileError.sort_key)
        super().__init__("\n".join(str(error) for error in self.errors))
