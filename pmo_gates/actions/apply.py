"""``apply_plan``: execute exactly the plan's items (or the approved subset) and record each result in the
ledger in the same step.

Creates go in ``POST /issue/bulk`` batches of at most 50, so n new tickets cost ceil(n/50) create calls.
Before a batch is sent, and again after any ambiguous failure (gateway error, dropped connection, rate
limit that outlived the retries), the batch's fingerprints are searched by label: tickets Jira already has
are recorded, only the others are (re-)sent. Comments carry a marker line, so an ambiguous comment POST is
checked the same way before being sent again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pmo_gates.actions.ledger import (
    PROPERTY_KEY,
    apply_comment_record,
    apply_record,
    property_value,
)
from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.reconcile import comments_with_markers, find_by_fingerprints
from pmo_gates.config import Settings
from pmo_gates.connectors import jira_writes as W
from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.errors import AmbiguousWriteError, JiraHTTPError, RateLimitError
from pmo_gates.review.markup import find_marker, flatten_adf
from pmo_gates.store import Store

log = logging.getLogger(__name__)

Status = Literal["applied", "adopted", "failed"]


class ItemResult(BaseModel):
    id: str
    op: str
    status: Status
    ticket_key: str | None = None
    note: str = ""
    error: str | None = None


class ApplyResult(BaseModel):
    items: list[ItemResult] = Field(default_factory=list)
    create_calls: int = Field(0, description="POST /issue/bulk requests sent.")

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.items if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for result in self.items:
            out[result.status] = out.get(result.status, 0) + 1
        return out


def _ambiguous(exc: Exception) -> bool:
    """Jira may or may not have acted: look before sending again."""
    status = getattr(exc, "status_code", None)
    return isinstance(exc, AmbiguousWriteError | RateLimitError) or (status is not None and status >= 500)


class _Applier:
    def __init__(self, client: JiraClient, store: Store, plan: Plan, settings: Settings, now: datetime) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.now = now
        self.api = "3" if plan.markup == "adf" else "2"
        self.result = ApplyResult()

    def done(self, item: PlanItem, status: Status, key: str | None = None, note: str = "") -> None:
        self.result.items.append(ItemResult(id=item.id, op=item.op, status=status, ticket_key=key, note=note))

    def fail(self, item: PlanItem, exc: Exception | str) -> None:
        error = str(exc)
        log.warning("plan item %s failed: %s", item.id, error)
        self.result.items.append(
            ItemResult(id=item.id, op=item.op, status="failed", ticket_key=item.target, error=error)
        )

    # --- creates ---------------------------------------------------------------------------------------------

    def record_created(self, item: PlanItem, key: str, ticket_id: str | None) -> None:
        assert item.ledger is not None
        with self.store.session() as session:
            apply_record(session, item.ledger, self.now, ticket_key=key, ticket_id=ticket_id)

    def adopt_found(self, pending: list[PlanItem]) -> list[PlanItem]:
        """Record the pending items Jira already has a ticket for; return the rest."""
        found = find_by_fingerprints(
            self.client,
            label=self.settings.actions.label,
            fingerprints=[i.fingerprint for i in pending if i.fingerprint],
        )
        rest = []
        for item in pending:
            remote = found.get(item.fingerprint or "")
            if remote is None:
                rest.append(item)
                continue
            self.record_created(item, remote.key, remote.id)
            self.done(item, "adopted", remote.key, "already in Jira (found by its fingerprint label)")
        return rest

    def create(self, items: list[PlanItem], *, verify: bool, max_rounds: int) -> None:
        for start in range(0, len(items), W.BULK_LIMIT):
            pending = items[start : start + W.BULK_LIMIT]
            if verify:
                pending = self.adopt_found(pending)
            error: Exception | None = None
            rounds = 0
            while pending and rounds < max_rounds:
                rounds += 1
                try:
                    self.result.create_calls += 1
                    outcomes = W.bulk_create(self.client, [i.payload for i in pending], api=self.api)
                except JiraHTTPError as exc:
                    if not _ambiguous(exc):
                        error = exc
                        break
                    error = exc
                    log.warning("bulk create of %d tickets: %s; looking for them before re-sending", len(pending), exc)
                    pending = self.adopt_found(pending)
                    continue
                for item, outcome in zip(pending, outcomes, strict=True):
                    if outcome.key:
                        self.record_created(item, outcome.key, outcome.id)
                        self.done(item, "applied", outcome.key)
                    else:
                        self.fail(item, outcome.error or "not created")
                pending = []
            for item in pending:
                self.fail(item, error or "not created")

    # --- one ticket or comment at a time ---------------------------------------------------------------------

    def comment(self, key: str, body: Any) -> str:
        """Post a marked comment; after an ambiguous failure, look for its marker before sending again."""
        try:
            return W.add_comment(self.client, key, body, api=self.api)
        except JiraHTTPError as exc:
            if not _ambiguous(exc):
                raise
            text = body if isinstance(body, str) else flatten_adf(body)
            marker = find_marker(text)
            if marker:
                for found in comments_with_markers(self.client, key):
                    if (found.purpose, found.content_hash) == marker:
                        return found.comment_id
            return W.add_comment(self.client, key, body, api=self.api)

    def transition(self, key: str, category: str, *, hops: int = 3) -> str:
        """Move the ticket into a status of ``category``. Workflows often reach done only through an
        in-progress status (To Do -> In Progress -> Done), so up to ``hops`` intermediate in-progress
        transitions are taken on the way; '' when it arrived, else why not."""
        visited: set[str] = set()
        for _ in range(hops):
            options = W.transitions(self.client, key)
            option = W.pick_transition(options, category)
            if option is not None:
                W.transition_issue(self.client, key, option["id"])
                return ""
            step = next(
                (o for o in options if W.category_of(o) == "indeterminate" and W.status_of(o) not in visited), None
            )
            if step is None:
                break
            visited.add(W.status_of(step))
            W.transition_issue(self.client, key, step["id"])
        return f"the workflow offers no way to a '{category}' status; commented only"

    def ticket(self, item: PlanItem) -> None:
        key = item.target
        assert key is not None and item.ledger is not None
        payload = item.payload
        note = ""
        if item.op == "update_ticket":
            W.edit_issue(self.client, key, payload, api=self.api)
        elif item.op == "escalate":
            if payload.get("fields"):
                W.edit_issue(self.client, key, {"fields": payload["fields"]})
            self.comment(key, payload["comment"])
        elif item.op == "resolve":
            self.comment(key, payload["comment"])
            if payload.get("transition_to"):
                note = self.transition(key, payload["transition_to"])
        elif item.op == "reopen":
            if W.issue_status_category(self.client, key) == "done":
                # Any status out of done reopens it; a workflow without one leaves a note.
                note = self.transition(key, "new", hops=1) and self.transition(key, "indeterminate", hops=1)
            W.edit_issue(self.client, key, {k: payload[k] for k in ("fields", "update") if k in payload}, api=self.api)
            self.comment(key, payload["comment"])
        with self.store.session() as session:
            row = apply_record(session, item.ledger, self.now, ticket_key=key)
            value = property_value(row)
        # The property mirrors the ledger so a fresh database recovers escalation level and content hash.
        W.set_issue_property(self.client, key, PROPERTY_KEY, value)
        self.done(item, "applied", key, note)

    def kept_comment(self, item: PlanItem) -> None:
        key, record = item.target, item.comment_record
        assert key is not None and record is not None
        body = item.payload["body"]
        comment_id = item.comment_id
        note = ""
        if comment_id:
            try:
                W.update_comment(self.client, key, comment_id, body, api=self.api)
            except JiraHTTPError as exc:
                if exc.status_code != 404:
                    raise
                comment_id, note = None, "the earlier comment was deleted; posted a new one"
        if not comment_id:
            comment_id = self.comment(key, body)
        with self.store.session() as session:
            apply_comment_record(session, record, comment_id, self.now)
        self.done(item, "applied", key, note)


def apply_plan(
    client: JiraClient,
    store: Store,
    plan: Plan,
    settings: Settings,
    *,
    approved: Iterable[str] | None = None,
    now: datetime | None = None,
    verify_before_create: bool = True,
    max_create_rounds: int = 3,
) -> ApplyResult:
    """Apply ``plan`` (only the ``approved`` item ids when given) and return each item's result.

    Items fail one by one (the error is in the result, the ledger keeps its previous state, the next run
    plans the item again); nothing here raises for a single item's Jira error.
    """
    plan = plan.subset(set(approved) if approved is not None else None)
    applier = _Applier(client, store, plan, settings, now or datetime.now(UTC))
    creates = [item for item in plan.items if item.op == "create_ticket"]
    applier.create(creates, verify=verify_before_create, max_rounds=max_create_rounds)
    for item in plan.items:
        if item.op == "create_ticket":
            continue
        try:
            if item.comment_record is not None:
                applier.kept_comment(item)
            else:
                applier.ticket(item)
        except JiraHTTPError as exc:
            applier.fail(item, exc)
    return applier.result
