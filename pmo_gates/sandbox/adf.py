"""Atlassian Document Format (ADF) <-> plain text, for the fields v3 serves as documents and v2 as strings."""

from __future__ import annotations

from typing import Any


def is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc"


def text_to_adf(text: str) -> dict[str, Any]:
    """One paragraph per blank-line-separated block; single newlines become hard breaks."""
    paragraphs = []
    for block in text.split("\n\n"):
        content: list[dict[str, Any]] = []
        for i, line in enumerate(block.split("\n")):
            if i:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_to_text(doc: dict[str, Any]) -> str:
    """The text of an ADF document: blocks joined by blank lines, hard breaks as newlines."""
    blocks = [_inline_text(node) for node in doc.get("content") or []]
    return "\n\n".join(blocks)


def _inline_text(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji"):
        return str((node.get("attrs") or {}).get("text", ""))
    children = node.get("content") or []
    sep = "\n" if kind in ("bulletList", "orderedList", "table", "tableRow") else ""
    return sep.join(_inline_text(child) for child in children)


def for_api_version(value: Any, api_version: str) -> Any:
    """The value as the given REST version serves it: v3 documents, v2 strings; None stays None."""
    if value is None:
        return None
    if api_version == "3":
        return value if is_adf(value) else text_to_adf(str(value))
    return adf_to_text(value) if is_adf(value) else value


def validate_document(value: Any) -> str | None:
    """Why ``value`` is neither a string nor an ADF document, or None when it is acceptable."""
    if isinstance(value, str) or is_adf(value):
        return None
    return "Operation value must be a string or an Atlassian Document"
