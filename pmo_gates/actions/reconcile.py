"""Reading back what Jira holds of ours: tickets (by label, with their ``pmo-gates`` entity property) and the
comments we keep in place on anchor issues (by their marker line). Reads only; the ledger adopts the result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.actions.ledger import FP_LABEL_PREFIX, PROPERTY_KEY, fingerprint_label, fingerprint_of_labels
from pmo_gates.review.markup import find_marker, flatten_adf

log = logging.getLogger(__name__)

SEARCH_FIELDS = "summary,status,labels,duedate,priority,assignee,project"
# JQL stays short enough for a GET URL; Cloud also wants every search bounded, which these clauses are.
_CHUNK = 50


class RemoteTicket(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    id: str
    fingerprint: str
    project_key: str
    summary: str = ""
    status: str = ""
    status_category: str = "new"  # new | indeterminate | done
    labels: list[str] = Field(default_factory=list)
    due_date: date | None = None
    metadata: dict[str, Any] | None = None


class RemoteComment(BaseModel):
    model_config = ConfigDict(frozen=True)

    issue_key: str
    purpose: str
    comment_id: str
    content_hash: str  # the 12 hex digits the marker carries


class JiraState(BaseModel):
    """Our tickets and kept comments as Jira holds them now."""

    tickets: dict[str, RemoteTicket] = Field(default_factory=dict, description="By fingerprint.")
    duplicates: dict[str, list[str]] = Field(
        default_factory=dict, description="Fingerprints found on more than one ticket: the extra keys."
    )
    comments: list[RemoteComment] = Field(default_factory=list)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search(
    client: Any, jql: str, *, fields: str = SEARCH_FIELDS, properties: str | None = PROPERTY_KEY
) -> Iterator[dict]:
    """Every issue matching ``jql``: ``/search/jql`` with page tokens on Cloud, ``/search`` with ``startAt``
    on Data Center."""
    page_size = 100
    params: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": page_size}
    if properties:
        params["properties"] = properties
    if client.is_cloud:
        token: str | None = None
        while True:
            page = client.get("/search/jql", params={**params, **({"nextPageToken": token} if token else {})})
            yield from page.get("issues", [])
            token = page.get("nextPageToken")
            if not token or page.get("isLast"):
                return
    start = 0
    while True:
        page = client.get("/search", params={**params, "startAt": start})
        issues = page.get("issues", [])
        yield from issues
        start += len(issues)
        if not issues or start >= int(page.get("total", 0)):
            return


def _remote(issue: dict[str, Any], known: set[str] | None) -> list[RemoteTicket]:
    fields = issue.get("fields") or {}
    labels = list(fields.get("labels") or [])
    meta = (issue.get("properties") or {}).get(PROPERTY_KEY)
    meta = meta if isinstance(meta, dict) else None
    fingerprints = [meta["fingerprint"]] if meta and meta.get("fingerprint") else fingerprint_of_labels(labels)
    status = fields.get("status") or {}
    due = fields.get("duedate")
    out = []
    for fingerprint in fingerprints:
        if known is not None and fingerprint not in known:
            continue
        out.append(
            RemoteTicket(
                key=issue["key"],
                id=str(issue["id"]),
                fingerprint=fingerprint,
                project_key=(fields.get("project") or {}).get("key") or issue["key"].rsplit("-", 1)[0],
                summary=fields.get("summary") or "",
                status=status.get("name", ""),
                status_category=(status.get("statusCategory") or {}).get("key", "new"),
                labels=labels,
                due_date=date.fromisoformat(due[:10]) if due else None,
                metadata=meta,
            )
        )
    return out


def _collect(state: JiraState, issues: Iterable[dict], known: set[str] | None) -> None:
    for issue in issues:
        for ticket in _remote(issue, known):
            current = state.tickets.get(ticket.fingerprint)
            if current is None:
                state.tickets[ticket.fingerprint] = ticket
            elif current.key != ticket.key:
                # Two tickets for one fingerprint (made before this tool kept its ledger, or by hand): keep
                # the oldest (lowest id) and report the other, never create a third.
                keep, extra = sorted([current, ticket], key=lambda t: int(t.id) if t.id.isdigit() else 0)
                state.tickets[ticket.fingerprint] = keep
                state.duplicates.setdefault(ticket.fingerprint, []).append(extra.key)


def fetch_tickets(client: Any, *, label: str, projects: Iterable[str]) -> JiraState:
    """All tickets carrying ``label`` in ``projects`` (searched 50 projects per query)."""
    state = JiraState()
    keys = sorted(set(projects))
    for start in range(0, len(keys), _CHUNK):
        chunk = ", ".join(_quote(k) for k in keys[start : start + _CHUNK])
        _collect(state, search(client, f"labels = {_quote(label)} AND project in ({chunk}) ORDER BY key"), None)
    return state


def find_by_fingerprints(client: Any, *, label: str, fingerprints: Iterable[str]) -> dict[str, RemoteTicket]:
    """The tickets of these fingerprints, searched by their ``pmo-fp-`` labels (used before any re-send)."""
    state = JiraState()
    wanted = sorted(set(fingerprints))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        labels = ", ".join(_quote(fingerprint_label(fp)) for fp in chunk)
        _collect(state, search(client, f"labels = {_quote(label)} AND labels in ({labels})"), set(chunk))
    return state.tickets


def comments_with_markers(client: Any, issue_key: str) -> list[RemoteComment]:
    """Our marked comments on one issue (all pages)."""
    found: list[RemoteComment] = []
    start = 0
    while True:
        page = client.get(f"/issue/{issue_key}/comment", params={"startAt": start, "maxResults": 100})
        comments = page.get("comments", [])
        for comment in comments:
            body = comment.get("body")
            marker = find_marker(body if isinstance(body, str) else flatten_adf(body))
            if marker:
                found.append(
                    RemoteComment(
                        issue_key=issue_key, purpose=marker[0], comment_id=str(comment["id"]), content_hash=marker[1]
                    )
                )
        start += len(comments)
        if not comments or start >= int(page.get("total", 0)):
            return found


def _kept_comments(client: Any, issue_key: str) -> list[RemoteComment]:
    """One anchor's marked comments, one per purpose: the newest wins if a crash left two."""
    latest: dict[str, RemoteComment] = {}
    for comment in comments_with_markers(client, issue_key):
        latest[comment.purpose] = comment
    return list(latest.values())


def read_anchor_comments(client: Any, keys: Iterable[str], *, workers: int = 1) -> list[RemoteComment]:
    """The kept comments of every anchor in ``keys``, in sorted key order whatever the read order.

    A fresh store reads every anchor (2,000 GETs for a large portfolio's review), each waiting on Jira:
    up to ``workers`` are read at once (the client is thread-safe, as the sync's workers use it). The
    first failure (in key order among those that failed before the rest were cancelled) is raised; reads
    not yet started are cancelled, so a broken Jira is not asked 2,000 times."""
    ordered = sorted(set(keys))
    if workers <= 1 or len(ordered) <= 1:
        return [comment for key in ordered for comment in _kept_comments(client, key)]
    with ThreadPoolExecutor(min(workers, len(ordered)), thread_name_prefix="pmo-gates-comments") as pool:
        futures = [pool.submit(_kept_comments, client, key) for key in ordered]
        _done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
    # The pool has shut down: every future not cancelled has finished.
    for future in futures:
        if not future.cancelled() and future.exception() is not None:
            raise future.exception()  # type: ignore[misc]
    return [comment for future in futures for comment in future.result()]


def fetch_jira_state(
    client: Any,
    *,
    label: str,
    projects: Iterable[str],
    anchors_without_record: Iterable[str] = (),
    workers: int = 1,
) -> JiraState:
    """Our tickets in ``projects``, plus the marked comments on the anchor issues the store has no
    comment record for (normally none: only a fresh database pays for these reads, ``workers`` at once)."""
    state = fetch_tickets(client, label=label, projects=projects)
    state.comments.extend(read_anchor_comments(client, anchors_without_record, workers=workers))
    if state.duplicates:
        log.warning("tickets sharing a fingerprint (kept the oldest): %s", state.duplicates)
    return state


__all__ = [
    "FP_LABEL_PREFIX",
    "JiraState",
    "RemoteComment",
    "RemoteTicket",
    "comments_with_markers",
    "fetch_jira_state",
    "fetch_tickets",
    "find_by_fingerprints",
    "read_anchor_comments",
    "search",
]
