"""A tiny document model rendered two ways: Jira wiki markup (REST v2, Data Center) and Atlassian Document
Format (REST v3, Cloud). Gate-review comments, ticket descriptions and escalation comments are built once
as blocks, so the two renderings can never say different things.

Example::

    >>> doc = [Heading(text="Gate review"), Paragraph(parts=["Decision: ", Strong(text="Go")])]
    >>> print(to_wiki(doc))
    h3. Gate review
    Decision: *Go*
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Markup = Literal["wiki", "adf"]


class _Block(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Strong(_Block):
    text: str


class Code(_Block):
    """A fixed identifier (a cause id, a fact name) shown in monospace."""

    text: str


class Mention(_Block):
    """A person: ``account_id`` is the Cloud accountId, or the username on Data Center."""

    account_id: str
    cloud: bool = True


Inline = str | Strong | Code | Mention


class Heading(_Block):
    text: str
    level: int = 3


class Paragraph(_Block):
    parts: list[Inline]


class BulletList(_Block):
    items: list[list[Inline]]


class NumberedList(_Block):
    items: list[list[Inline]]


class Table(_Block):
    header: list[str]
    rows: list[list[str]]


class Marker(_Block):
    """The last line of every comment we post: lets a later run (even with a fresh database) recognise its
    own comment and the content it carried, instead of posting it again."""

    purpose: str
    content_hash: str


Block = Heading | Paragraph | BulletList | NumberedList | Table | Marker

MARKER_RE = re.compile(r"pmo-gates · (?P<purpose>[A-Za-z0-9:._-]+) · (?P<hash>[0-9a-f]{12})")
# The characters that start wiki markup mid-line (tables, links/mentions, macros, bold, italics, images,
# super/subscript, underline, citations), escaped with a backslash; a newline inside a cell would end the row.
_WIKI_ESCAPES = str.maketrans({**{c: "\\" + c for c in "\\|[]{}*_!^~+?"}, "\n": " "})
# A dash only opens strikethrough (-text-) after a space and before a word: dates and In-Review stay as is.
_WIKI_DASH = re.compile(r"(?<!\S)-(?=\S)")


def _marker_text(marker: Marker) -> str:
    return f"pmo-gates · {marker.purpose} · {marker.content_hash[:12]}"


def find_marker(text: str) -> tuple[str, str] | None:
    """``(purpose, hash12)`` of the pmo-gates marker in a comment body (wiki text or flattened ADF)."""
    match = MARKER_RE.search(text)
    return (match["purpose"], match["hash"]) if match else None


def flatten_adf(node: Any) -> str:
    """All text of an ADF document (or a plain string) joined, for marker detection."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        own = node.get("text", "") if node.get("type") == "text" else ""
        return own + " ".join(flatten_adf(child) for child in node.get("content", []) or [])
    if isinstance(node, list):
        return " ".join(flatten_adf(child) for child in node)
    return ""


# --- wiki markup -----------------------------------------------------------------------------------------


def wiki_escape(text: str) -> str:
    """``text`` with wiki-markup characters escaped, so a status like ``QA|UAT`` cannot break a table."""
    return _WIKI_DASH.sub(r"\\-", text.translate(_WIKI_ESCAPES))


def _wiki_inline(parts: list[Inline]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Strong):
            out.append(f"*{wiki_escape(part.text)}*")
        elif isinstance(part, Code):
            out.append("{{" + wiki_escape(part.text) + "}}")
        elif isinstance(part, Mention):
            out.append(f"[~accountid:{part.account_id}]" if part.cloud else f"[~{part.account_id}]")
        else:
            out.append(wiki_escape(part))
    return "".join(out)


def to_wiki(blocks: list[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines.append(f"h{block.level}. {wiki_escape(block.text)}")
        elif isinstance(block, Paragraph):
            lines.append(_wiki_inline(block.parts))
        elif isinstance(block, BulletList):
            lines.extend(f"* {_wiki_inline(item)}" for item in block.items)
        elif isinstance(block, NumberedList):
            lines.extend(f"# {_wiki_inline(item)}" for item in block.items)
        elif isinstance(block, Table):
            lines.append("||" + "||".join(wiki_escape(h) for h in block.header) + "||")
            for row in block.rows:
                lines.append("|" + "|".join(wiki_escape(c) or " " for c in row) + "|")
        elif isinstance(block, Marker):
            lines.append("{color:#97a0af}" + _marker_text(block) + "{color}")
    return "\n".join(lines)


# --- Atlassian Document Format ---------------------------------------------------------------------------


def _adf_text(text: str, marks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        node["marks"] = marks
    return node


def _adf_inline(parts: list[Inline]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, Strong):
            if part.text:
                out.append(_adf_text(part.text, [{"type": "strong"}]))
        elif isinstance(part, Code):
            if part.text:
                out.append(_adf_text(part.text, [{"type": "code"}]))
        elif isinstance(part, Mention):
            out.append({"type": "mention", "attrs": {"id": part.account_id}})
        elif part:
            out.append(_adf_text(part))
    return out


def _adf_paragraph(parts: list[Inline]) -> dict[str, Any]:
    return {"type": "paragraph", "content": _adf_inline(parts)}


def to_adf(blocks: list[Block]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, Heading):
            content.append({"type": "heading", "attrs": {"level": block.level}, "content": [_adf_text(block.text)]})
        elif isinstance(block, Paragraph):
            content.append(_adf_paragraph(block.parts))
        elif isinstance(block, BulletList):
            items = [{"type": "listItem", "content": [_adf_paragraph(item)]} for item in block.items]
            content.append({"type": "bulletList", "content": items})
        elif isinstance(block, NumberedList):
            items = [{"type": "listItem", "content": [_adf_paragraph(item)]} for item in block.items]
            content.append({"type": "orderedList", "content": items})
        elif isinstance(block, Table):
            rows = [
                {
                    "type": "tableRow",
                    "content": [{"type": "tableHeader", "content": [_adf_paragraph([h])]} for h in block.header],
                }
            ]
            rows += [
                {"type": "tableRow", "content": [{"type": "tableCell", "content": [_adf_paragraph([c])]} for c in row]}
                for row in block.rows
            ]
            content.append({"type": "table", "content": rows})
        elif isinstance(block, Marker):
            mark = [{"type": "textColor", "attrs": {"color": "#97a0af"}}]
            content.append({"type": "paragraph", "content": [_adf_text(_marker_text(block), mark)]})
    return {"type": "doc", "version": 1, "content": content}


def render(blocks: list[Block], markup: Markup) -> str | dict[str, Any]:
    """The body Jira expects: a wiki string for REST v2, an ADF document for REST v3."""
    return to_wiki(blocks) if markup == "wiki" else to_adf(blocks)
