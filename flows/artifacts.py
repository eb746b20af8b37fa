"""Publishing Prefect artifacts with valid keys and no secrets.

Every text and every table cell goes through the run's ``Redactor`` (the Jira token and its Basic-auth
encoding) before it leaves the process: artifacts are readable by anyone with access to the Prefect UI.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.artifacts import (
    create_image_artifact,
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from pmo_gates.connectors.redact import Redactor

_NOT_KEY = re.compile(r"[^a-z0-9]+")
# A chart bigger than this is left to the HTML report: artifacts live in the Prefect server's database.
MAX_IMAGE_BYTES = 1_000_000


def png_data_url(path: Path) -> str | None:
    """``data:image/png;base64,...`` for a PNG file: the Prefect UI shows it without reaching the worker's
    disk (a ``file://`` link would point at the worker). None when the file is over ``MAX_IMAGE_BYTES``."""
    data = path.read_bytes()
    if len(data) > MAX_IMAGE_BYTES:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def artifact_key(*parts: str) -> str:
    """``artifact_key("Scorecard", "ABC_1")`` -> ``"scorecard-abc-1"``: lowercase letters, digits, dashes."""
    key = "-".join(_NOT_KEY.sub("-", part.lower()).strip("-") for part in parts if part)
    key = re.sub(r"-{2,}", "-", key).strip("-")
    if not key:
        raise ValueError(f"no artifact key can be made from {parts!r}")
    return key


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return ", ".join(str(_cell(v)) for v in value)
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GitHub-flavoured markdown table (pipes in cells escaped)."""
    if not rows:
        return "_(none)_"
    columns = list(columns or rows[0].keys())

    def fmt(value: Any) -> str:
        text = "" if value is None else str(_cell(value))
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


class ArtifactPublisher:
    """Creates artifacts for the current flow run, scrubbing ``secrets`` out of everything first."""

    def __init__(self, secrets: Iterable[str] = (), *, email: str | None = None) -> None:
        self._redact = Redactor(secrets, email=email)

    def _text(self, text: str | None) -> str | None:
        return None if text is None else self._redact(text)

    def markdown(self, key: str, markdown: str, description: str | None = None) -> UUID:
        return create_markdown_artifact(
            markdown=self._redact(markdown), key=artifact_key(key), description=self._text(description)
        )

    def table(self, key: str, rows: Sequence[Mapping[str, Any]], description: str | None = None) -> UUID:
        clean = [
            {str(k): (self._redact(v) if isinstance(v, str) else v) for k, v in ((k, _cell(v)) for k, v in r.items())}
            for r in rows
        ]
        return create_table_artifact(table=clean, key=artifact_key(key), description=self._text(description))

    def image(self, key: str, image_url: str, description: str | None = None) -> UUID:
        return create_image_artifact(
            image_url=self._redact(image_url), key=artifact_key(key), description=self._text(description)
        )

    def link(self, key: str, target: str | Path, text: str, description: str | None = None) -> UUID:
        link = target.resolve().as_uri() if isinstance(target, Path) else target
        return create_link_artifact(
            link=self._redact(link),
            link_text=self._redact(text),
            key=artifact_key(key),
            description=self._text(description),
        )
