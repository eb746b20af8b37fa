"""Issues that contradict each other: two issues sharing an id or a key in one search, and a second anchor
issue in a project. Each is settled deterministically and reported by key and field, so the store never
holds a silent winner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pmo_gates.connectors.mapping import DataError, MappedIssue
from pmo_gates.store.models import Issue, Project


def _flag(mapped: MappedIssue, field: str, message: str) -> DataError:
    error = DataError(key=mapped.issue["key"], field=field, message=message)
    mapped.errors.append(error)
    mapped.issue["data_errors"] = [*mapped.issue.get("data_errors", []), f"{field}: {message}"]
    return error


def drop_duplicates(mapped: Sequence[MappedIssue]) -> tuple[list[MappedIssue], list[DataError]]:
    """One issue per id and per key: the most recently updated one (on a tie, the later in the search,
    which is ordered by ``updated``). Jira never serves two issues with one id; a paging window that
    straddles a move can, and a broken export does."""
    errors: list[DataError] = []
    kept = list(mapped)
    for field, ident in (("id", lambda m: m.id), ("key", lambda m: m.issue["key"].casefold())):
        winners: dict[Any, int] = {}
        for position, item in enumerate(kept):
            other = winners.get(ident(item))
            if other is None or item.issue["updated"] >= kept[other].issue["updated"]:
                winners[ident(item)] = position
        survivors = set(winners.values())
        for position, item in enumerate(kept):
            if position not in survivors:
                winner = kept[winners[ident(item)]]
                shared = f"id {item.id}" if field == "id" else f"key {item.issue['key']}"
                errors.append(
                    _flag(
                        item,
                        field,
                        f"{shared} is also {winner.issue['key']}'s (id {winner.id}) in the same sync: the one "
                        "updated later is kept, this one is left out",
                    )
                )
                # The left-out issue is not stored: the kept one carries the conflict into the review.
                _flag(winner, field, f"{shared} is also {item.issue['key']}'s (id {item.id}), which was left out")
        kept = [item for position, item in enumerate(kept) if position in survivors]
    return kept, errors


def _age(created: datetime, issue_id: int) -> tuple[datetime, int]:
    created = created.replace(tzinfo=UTC) if created.tzinfo is None else created
    return created, issue_id


def settle_anchors(session: Session, mapped: Sequence[MappedIssue], anchor_issue_type: str) -> list[DataError]:
    """Keep one anchor per project, the oldest (created first, then lowest id), among this batch's anchor
    issues and the one the store already holds; the others lose their PMO metadata and are flagged."""
    errors: list[DataError] = []
    by_project: dict[str, list[MappedIssue]] = {}
    for item in mapped:
        if item.project is not None:
            by_project.setdefault(item.issue["project_key"], []).append(item)
    if not by_project:
        return errors
    batch_keys = {item.issue["key"] for item in mapped}
    rows = session.execute(
        select(Project.key, Project.anchor_issue_key).where(
            Project.key.in_(list(by_project)), Project.anchor_issue_key.is_not(None)
        )
    )
    stored: dict[str, str] = {key: anchor for key, anchor in rows}
    holders = [key for key in stored.values() if key not in batch_keys]
    held: dict[str, tuple[int, datetime]] = {}
    if holders:
        found = session.execute(
            select(Issue.key, Issue.id, Issue.created).where(
                Issue.key.in_(holders), Issue.issue_type == anchor_issue_type
            )
        )
        held = {key: (issue_id, created) for key, issue_id, created in found}
    for project_key, candidates in by_project.items():
        contenders: list[tuple[tuple[datetime, int], str, MappedIssue | None]] = [
            (_age(m.issue["created"], m.id), m.issue["key"], m) for m in candidates
        ]
        holder = stored.get(project_key)
        if holder in held:
            issue_id, created = held[holder]
            contenders.append((_age(created, issue_id), holder, None))
        if len(contenders) < 2:
            continue
        contenders.sort(key=lambda c: c[0])
        anchor = contenders[0][1]
        message = (
            f"a second {anchor_issue_type!r} issue in {project_key}: {anchor}, the oldest, is the anchor; "
            "this one's PMO fields are ignored"
        )
        for _, key, item in contenders[1:]:
            if item is not None:
                item.project = None
                errors.append(_flag(item, "anchor", message))
            else:
                # The stored anchor lost to an older one: its stored row says so until it is synced again.
                flagged = [*(session.scalar(select(Issue.data_errors).where(Issue.key == key)) or [])]
                flagged = [e for e in flagged if not e.startswith("anchor: ")] + [f"anchor: {message}"]
                session.execute(update(Issue).where(Issue.key == key).values(data_errors=flagged))
                errors.append(DataError(key=key, field="anchor", message=message))
    return errors
