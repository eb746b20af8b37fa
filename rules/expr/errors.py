"""The one error type of the expression language, positioned inside the expression's source."""

from __future__ import annotations


class ExprError(Exception):
    """A lexing, parsing, typing or limit error at ``offset`` (0-based) in ``source``.

    ``line`` and ``col`` are 1-based and relative to the expression; the rule loader adds the
    expression's own position in its file.
    """

    def __init__(self, message: str, source: str = "", offset: int = 0) -> None:
        self.message = message
        self.source = source
        self.offset = max(0, min(offset, len(source)))
        before = source[: self.offset]
        self.line = before.count("\n") + 1
        self.col = self.offset - (before.rfind("\n") + 1) + 1
        super().__init__(f"{self.line}:{self.col}: {message}")
