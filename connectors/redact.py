"""Scrub credentials out of any text before it reaches a message, a log line or the store."""

from __future__ import annotations

import base64
from collections.abc import Iterable

MASK = "***"


class Redactor:
    """Replaces each secret, and the Basic-auth encodings built from it, with ``***``.

    >>> Redactor(["s3cret"])("token=s3cret")
    'token=***'
    """

    def __init__(self, secrets: Iterable[str], *, email: str | None = None) -> None:
        needles = {s for s in secrets if s and len(s) >= 4}
        if email:
            for secret in list(needles):
                needles.add(base64.b64encode(f"{email}:{secret}".encode()).decode())
        # Longest first, so an encoding is masked whole before a substring of it could be.
        self._needles = sorted(needles, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, MASK)
        return text
