"""``apply_plan``: execute exactly the plan's items (or the approved subset) and record each result in the
ledger in the same step, so that every write reaches Jira exactly once.

- Creates go in ``POST /issue/bulk`` batches of at most 50 (n new tickets cost ceil(n/50) create calls).
  Right before a batch is sent its fingerprint labels are searched, and only the tickets Jira lacks are
  sent. Search trails writes (Cloud's index lag), so each batch is first recorded as a *create intent*
  (``intents.py``, committed before the POST, deleted with the ledger write): a fingerprint whose earlier
  create was never recorded (a crash, a lost answer) is ``deferred``, neither searched nor sent, until
  ``jira.search_lag_seconds`` have passed; then it is searched, adopted if found, created if absent.
  After an ambiguous failure (read timeout, dropped connection, gateway error) the batch is *never*
  re-sent in the run: its labels are polled with back-off (``actions.confirm``) until Jira's state is known;
  tickets that turn up are recorded, the rest are left ``pending`` for the next run.
- Every comment on a ticket carries a marker naming its step (``escalation-2.c0``, ``resolve.c1``); the
  ticket's comments are read (GET, immediate, unlike search) before posting, so a step whose comment is
  already there (a crash after Jira took it, a lost answer) is recorded, not posted again. An ambiguous
  comment POST is polled for its marker the same way.
- The items of one ticket run in order (update, reopen, resolve, escalation steps 1, 2, 3 ...) and the
  chain stops at the first item that failed or is pending: an escalation level only ever advances by one
  confirmed step, so no step is skipped and none is repeated.
- The entity property mirrors the ledger and is written once per ticket after its items; a failed property
  write does not undo or fail the confirmed steps (they are noted), and the next run rewrites it
  (``sync_property``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pmo_gates.actions import intents
from pmo_gates.actions.confirm import Confirmer
from pmo_gates.actions.ledger import (
    PROPERTY_KEY,
    apply_comment_record,
    apply_record,
    property_value,
)
from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.reconcile import RemoteComment, comments_with_markers, find_by_fingerprints
from pmo_gates.config import Settings
from pmo_gates.connectors import jira_writes as W
from pmo_gates.connectors.client import JiraClient
from pmo_gates.connectors.errors import AmbiguousWriteError, JiraHTTPError, RateLimitError
from pmo_gates.review.markup import find_marker, flatten_adf
from pmo_gates.store import Store
from pmo_gates.store.models import ActionTicket

log = logging.getLogger(__name__)

Status = Literal["applied", "adopted", "failed", "pending", "deferred"]
# Items of one ticket run in this order; escalation steps by their level.
_CHAIN_ORDER = {"update_ticket": 0, "reopen": 1, "resolve": 2, "escalate": 3, "sync_property": 4}


class ItemResult(BaseModel):
    id: str
    op: str
    status: Status = Field(
        description="applied: written now; adopted: Jira already had it (recorded, not written again); "
        "failed: Jira refused (planned again next run); pending: Jira's state is unknown or an earlier step "
        "of the same ticket is not done (left for the next run, never sent blind); deferred: a create of this "
        "fingerprint was sent earlier and never recorded, and Jira's search may not show its ticket yet "
        "(nothing written; looked for once jira.search_lag_seconds have passed)."
    )
    ticket_key: str | None = None
    note: str = ""
    error: str | None = None


class ApplyResult(BaseModel):
    items: list[ItemResult] = Field(default_factory=list)
    create_calls: int = Field(0, description="POST /issue/bulk requests sent.")
    confirm_seconds: float = Field(0.0, description="Time spent waiting for Jira after ambiguous writes.")

    @property
    def failed(self) -> list[ItemResult]:
        return [r for r in self.items if r.status == "failed"]

    @property
    def pending(self) -> list[ItemResult]:
        return [r for r in self.items if r.status == "pending"]

    @property
    def deferred(self) -> list[ItemResult]:
        return [r for r in self.items if r.status == "deferred"]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for result in self.items:
            out[result.status] = out.get(result.status, 0) + 1
        return out


class Pending(Exception):
    """Jira may or may not have done it and polling did not tell: left for the next run."""


def _ambiguous(exc: Exception) -> bool:
    """Jira may or may not have acted. A rate limit or 503 that outlived the retries is a refusal (the
    retry layer re-sends those for every method), so it is a plain failure."""
    if isinstance(exc, RateLimitError):
        return False
    status = getattr(exc, "status_code", None)
    return isinstance(exc, AmbiguousWriteError) or (status is not None and status >= 500)


def _marker_of(body: Any) -> tuple[str, str] | None:
    return find_marker(body if isinstance(body, str) else flatten_adf(body))


def _same_purpose(found: str, wanted: str) -> bool:
    # Comments posted before step markers existed say "escalation-2" for what is now "escalation-2.c0".
    return found == wanted or (wanted.endswith(".c0") and found == wanted[:-3])


class _Applier:
    def __init__(
        self,
        client: JiraClient,
        store: Store,
        plan: Plan,
        settings: Settings,
        now: datetime,
        confirmer: Confirmer,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.clock = clock
        self.store = store
        self.settings = settings
        self.now = now
        self.confirmer = confirmer
        self.api = "3" if plan.markup == "adf" else "2"
        self.result = ApplyResult()
        self._comments: dict[str, list[RemoteComment]] = {}
        self.note = ""  # what the current ticket step wants said (e.g. no transition to done exists)

    def done(self, item: PlanItem, status: Status, key: str | None = None, note: str = "") -> None:
        self.result.items.append(ItemResult(id=item.id, op=item.op, status=status, ticket_key=key, note=note))

    def fail(self, item: PlanItem, exc: Exception | str) -> None:
        error = str(exc)
        log.warning("plan item %s failed: %s", item.id, error)
        self.result.items.append(
            ItemResult(id=item.id, op=item.op, status="failed", ticket_key=item.target, error=error)
        )

    def pending(self, item: PlanItem, why: str, key: str | None = None) -> None:
        log.warning("plan item %s left pending: %s", item.id, why)
        self.result.items.append(
            ItemResult(id=item.id, op=item.op, status="pending", ticket_key=key or item.target, note=why)
        )

    def wait_for(self, probe: Callable[[], Any], **kwargs: Any) -> Any:
        before = self.confirmer.spent
        try:
            return self.confirmer.wait_for(probe, **kwargs)
        finally:
            self.result.confirm_seconds += self.confirmer.spent - before

    # --- creates ---------------------------------------------------------------------------------------------

    def record_created(self, item: PlanItem, key: str, ticket_id: str | None) -> None:
        assert item.ledger is not None
        with self.store.session() as session:
            apply_record(session, item.ledger, self.now, ticket_key=key, ticket_id=ticket_id)
            intents.clear(session, [item.ledger.fingerprint])

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

    def confirm_created(self, pending: list[PlanItem]) -> list[PlanItem]:
        """After an ambiguous bulk create: poll the batch's labels until every ticket is found or the
        window closes; returns the items still unknown."""
        left = list(pending)

        def probe() -> bool:
            nonlocal left
            try:
                left = self.adopt_found(left)
            except JiraHTTPError as exc:  # a failed search tells nothing: keep polling
                log.warning("looking for %d tickets after an ambiguous create: %s", len(left), exc)
            return not left

        self.wait_for(probe)
        return left

    def defer_unsettled(self, items: list[PlanItem]) -> tuple[list[PlanItem], set[str]]:
        """Hold back the items whose earlier create may still be invisible to search; returns the rest and
        the fingerprints among them that had an (old enough) intent, which must be searched for first."""
        with self.store.session() as session:
            open_ = intents.load(session, [i.fingerprint for i in items if i.fingerprint])
        lag = self.settings.jira.search_lag_seconds
        now = self.clock()
        ready: list[PlanItem] = []
        for item in items:
            intent = open_.get(item.fingerprint or "")
            if intent is None:
                ready.append(item)
                continue
            after = intents.searchable_after(intent, lag)
            if now < after:
                sent = intents.aware(intent.sent_at)
                self.done(
                    item,
                    "deferred",
                    note=f"a create of this ticket was sent at {sent.isoformat(timespec='seconds')} and never "
                    "recorded (a crash or a lost answer); Jira's search may not show it yet, so nothing is sent "
                    f"before {after.isoformat(timespec='seconds')} (jira.search_lag_seconds = {lag:g}); the first "
                    "run after that looks for it and creates it only if it is not there",
                )
            else:
                ready.append(item)
        return ready, {i.fingerprint for i in ready if i.fingerprint in open_}  # type: ignore[misc]

    def intend(self, items: list[PlanItem]) -> None:
        """Commit the create intents of a batch before it is sent (see :mod:`pmo_gates.actions.intents`)."""
        with self.store.session() as session:
            intents.record_sent(session, [(i.fingerprint or "", i.project_key) for i in items], self.clock())

    def settle(self, items: list[PlanItem], *, gave_up: bool) -> None:
        """Jira refused these (``gave_up`` False: nothing to wait for) or we stopped waiting for its answer."""
        fingerprints = [i.fingerprint or "" for i in items]
        if not fingerprints:
            return
        with self.store.session() as session:
            if gave_up:
                intents.record_gave_up(session, fingerprints, self.clock())
            else:
                intents.clear(session, fingerprints)

    def create(self, items: list[PlanItem], *, verify: bool) -> None:
        items, in_doubt = self.defer_unsettled(items)
        for start in range(0, len(items), W.BULK_LIMIT):
            batch = items[start : start + W.BULK_LIMIT]
            # An item with an old intent is always looked for: its earlier create may have gone through.
            look = batch if verify else [i for i in batch if i.fingerprint in in_doubt]
            try:
                missing = {i.id for i in self.adopt_found(look)} if look else set()
            except JiraHTTPError as exc:
                # Without the look-up a re-run after a crash could duplicate: do not send blind.
                for item in batch:
                    self.pending(item, f"could not check Jira for existing tickets first: {exc}")
                continue
            looked = {i.id for i in look}
            pending = [i for i in batch if i.id not in looked or i.id in missing]
            if not pending:
                continue
            self.intend(pending)
            self.result.create_calls += 1
            try:
                outcomes = W.bulk_create(self.client, [i.payload for i in pending], api=self.api)
            except JiraHTTPError as exc:
                if not _ambiguous(exc):
                    self.settle(pending, gave_up=False)
                    for item in pending:
                        self.fail(item, exc)
                    continue
                log.warning("bulk create of %d tickets: %s; waiting for Jira before anything else", len(pending), exc)
                unknown = self.confirm_created(pending)
                self.settle(unknown, gave_up=True)
                lag = self.settings.jira.search_lag_seconds
                for item in unknown:
                    self.pending(
                        item,
                        f"{exc}; the ticket did not appear within actions.confirm.wait_seconds, so it was not "
                        f"sent again: it is looked for once jira.search_lag_seconds ({lag:g} s) have passed "
                        "and created only if it is not there",
                    )
                continue
            refused = []
            for item, outcome in zip(pending, outcomes, strict=True):
                if outcome.key:
                    self.record_created(item, outcome.key, outcome.id)
                    self.done(item, "applied", outcome.key)
                else:
                    refused.append(item)
                    self.fail(item, outcome.error or "not created")
            self.settle(refused, gave_up=False)

    # --- comments --------------------------------------------------------------------------------------------

    def markers(self, key: str, *, refresh: bool = False) -> list[RemoteComment]:
        """Our marked comments on ``key`` (read once per run, then kept up to date by our own posts)."""
        if refresh or key not in self._comments:
            self._comments[key] = comments_with_markers(self.client, key)
        return self._comments[key]

    def find_comment(self, key: str, purpose: str, *, refresh: bool = False) -> RemoteComment | None:
        found = [c for c in self.markers(key, refresh=refresh) if _same_purpose(c.purpose, purpose)]
        return found[-1] if found else None

    def post_comment(self, key: str, body: Any) -> tuple[str, bool]:
        """Post a marked comment unless its marker is already on ``key``: ``(comment id, already there)``.
        An ambiguous POST is polled for its marker; still unknown after the window: ``Pending``."""
        marker = _marker_of(body)
        if marker is None:  # every body we build has one; without it nothing can be checked
            return W.add_comment(self.client, key, body, api=self.api), False
        purpose, digest = marker
        existing = self.find_comment(key, purpose)
        if existing is not None:
            return existing.comment_id, True
        try:
            comment_id = W.add_comment(self.client, key, body, api=self.api)
        except JiraHTTPError as exc:
            if not _ambiguous(exc):
                raise
            log.warning("comment on %s: %s; waiting for its marker before anything else", key, exc)

            def probe() -> RemoteComment | None:
                try:
                    return self.find_comment(key, purpose, refresh=True)
                except JiraHTTPError:
                    return None

            found = self.wait_for(probe)
            if found is None:
                raise Pending(
                    f"{exc}; the comment did not appear within actions.confirm.wait_seconds, so it was not "
                    "sent again: the next run looks for its marker first"
                ) from None
            return found.comment_id, True
        self.markers(key).append(
            RemoteComment(issue_key=key, purpose=purpose, comment_id=comment_id, content_hash=digest[:12])
        )
        return comment_id, False

    # --- one ticket's items, in order ------------------------------------------------------------------------

    def transition(self, key: str, category: str, *, hops: int = 3) -> str:
        """Move the ticket into a status of ``category``. Workflows often reach done only through an
        in-progress status (To Do -> In Progress -> Done), so up to ``hops`` intermediate in-progress
        transitions are taken on the way; '' when it arrived, else why not."""
        visited: set[str] = set()
        for _ in range(hops):
            if W.issue_status_category(self.client, key) == category:
                return ""  # already there (a person moved it, or our earlier transition went through)
            options = W.transitions(self.client, key)
            option = W.pick_transition(options, category)
            if option is not None:
                self._transition(key, option["id"], category)
                return ""
            step = next(
                (o for o in options if W.category_of(o) == "indeterminate" and W.status_of(o) not in visited), None
            )
            if step is None:
                break
            visited.add(W.status_of(step))
            self._transition(key, step["id"], "indeterminate")
        return f"the workflow offers no way to a '{category}' status; commented only"

    def _transition(self, key: str, transition_id: str, category: str) -> None:
        """Send one transition into ``category``; a lost answer is confirmed by the ticket's status (GET,
        immediate), polled, or the step is left pending: never sent twice."""
        try:
            W.transition_issue(self.client, key, transition_id)
        except JiraHTTPError as exc:
            if not _ambiguous(exc):
                raise
            log.warning("transition of %s: %s; re-reading its status", key, exc)
            if not self.wait_for(lambda: W.issue_status_category(self.client, key) == category):
                raise Pending(
                    f"{exc}; the ticket did not reach a '{category}' status within actions.confirm.wait_seconds; "
                    "the next run checks it first"
                ) from None

    def ticket_row(self, fingerprint: str) -> ActionTicket | None:
        with self.store.session() as session:
            row = session.get(ActionTicket, fingerprint)
            if row is not None:
                session.expunge(row)
            return row

    def ticket_step(self, item: PlanItem) -> Status:
        """Carry out one item of a ticket and advance the ledger by exactly that step."""
        key = item.target
        assert key is not None
        payload = item.payload
        if item.op == "sync_property":
            return "applied"
        assert item.ledger is not None
        already = False
        if item.op == "update_ticket":
            W.edit_issue(self.client, key, payload, api=self.api)
        elif item.op == "escalate":
            level = item.ledger.escalation_level or 0
            row = self.ticket_row(item.ledger.fingerprint)
            current = row.escalation_level if row is not None else 0
            if current >= level:
                return "adopted"  # another worker took this step after the plan was made
            if current < level - 1:
                raise _Refused(f"escalation step {current + 1} has not been taken yet; step {level} waits for it")
            if payload.get("fields"):
                W.edit_issue(self.client, key, {"fields": payload["fields"]})
            _, already = self.post_comment(key, payload["comment"])
        elif item.op == "resolve":
            _, already = self.post_comment(key, payload["comment"])
            if payload.get("transition_to"):
                self.note = self.transition(key, payload["transition_to"])
        elif item.op == "reopen":
            if W.issue_status_category(self.client, key) == "done":
                # Any status out of done reopens it; a workflow without one leaves a note.
                self.note = self.transition(key, "new", hops=1) and self.transition(key, "indeterminate", hops=1)
            W.edit_issue(self.client, key, {k: payload[k] for k in ("fields", "update") if k in payload}, api=self.api)
            _, already = self.post_comment(key, payload["comment"])
        with self.store.session() as session:
            apply_record(session, item.ledger, self.now, ticket_key=key)
        return "adopted" if already else "applied"

    def ticket_chain(self, items: list[PlanItem]) -> None:
        """The items of one ticket, in order; the first that fails or is pending holds back the rest."""
        items = sorted(
            items, key=lambda i: (_CHAIN_ORDER.get(i.op, 9), (i.ledger.escalation_level or 0) if i.ledger else 0)
        )
        done: list[ItemResult] = []
        blocked: str | None = None
        for item in items:
            if blocked is not None:
                self.pending(item, f"waits for {blocked}")
                continue
            self.note = ""
            try:
                status = self.ticket_step(item)
            except Pending as exc:
                self.pending(item, str(exc))
                blocked = item.id
                continue
            except (JiraHTTPError, _Refused) as exc:
                self.fail(item, exc)
                blocked = item.id
                continue
            note = "already in Jira (found by its marker); recorded" if status == "adopted" else ""
            self.done(item, status, item.target, "; ".join(n for n in (note, self.note) if n))
            done.append(self.result.items[-1])
        if done:
            self.mirror_property(items[0], done)

    def mirror_property(self, item: PlanItem, results: list[ItemResult]) -> None:
        """The entity property mirrors the ledger, so a fresh database recovers level and content hash."""
        key, fingerprint = item.target, item.fingerprint or (item.ledger.fingerprint if item.ledger else None)
        row = self.ticket_row(fingerprint) if fingerprint else None
        if key is None or row is None:
            return
        try:
            W.set_issue_property(self.client, key, PROPERTY_KEY, property_value(row))
        except JiraHTTPError as exc:
            log.warning("entity property of %s not updated: %s", key, exc)
            note = f"entity property not updated ({exc}); rewritten on the next run"
            for result in results:
                if result.op == "sync_property":
                    result.status, result.error = "failed", str(exc)
                else:
                    result.note = "; ".join(n for n in (result.note, note) if n)

    def kept_comment(self, item: PlanItem) -> None:
        key, record = item.target, item.comment_record
        assert key is not None and record is not None
        body = item.payload["body"]
        comment_id = item.comment_id
        note = ""
        if not comment_id:
            # Posted before (a crash before the record was written, or a lost answer): edit that one.
            existing = self.find_comment(key, record.purpose)
            if existing is not None:
                comment_id, note = existing.comment_id, "found by its marker"
                if existing.content_hash == record.content_hash[:12]:
                    with self.store.session() as session:
                        apply_comment_record(session, record, comment_id, self.now)
                    self.done(item, "adopted", key, "already in Jira (found by its marker); recorded")
                    return
        if comment_id:
            try:
                W.update_comment(self.client, key, comment_id, body, api=self.api)
            except JiraHTTPError as exc:
                if exc.status_code != 404:
                    raise
                comment_id, note = None, "the earlier comment was deleted; posted a new one"
        status: Status = "applied"
        if not comment_id:
            comment_id, already = self.post_comment(key, body)
            status = "adopted" if already else "applied"
        with self.store.session() as session:
            apply_comment_record(session, record, comment_id, self.now)
        self.done(item, status, key, note)


class _Refused(Exception):
    """An item that must not be applied now (an escalation step whose predecessor is missing)."""


def apply_plan(
    client: JiraClient,
    store: Store,
    plan: Plan,
    settings: Settings,
    *,
    approved: Iterable[str] | None = None,
    now: datetime | None = None,
    verify_before_create: bool = True,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> ApplyResult:
    """Apply ``plan`` (only the ``approved`` item ids when given) and return each item's result.

    Items fail or wait one by one (the error or reason is in the result, the ledger keeps its previous
    state, the next run plans the item again); nothing here raises for a single item's Jira error.
    ``sleep`` is the confirmation poller's and ``clock`` the wall clock that stamps and ages create intents
    (``now`` is the run's logical time); tests pass fakes.
    """
    plan = plan.subset(set(approved) if approved is not None else None)
    confirmer = Confirmer(settings.actions.confirm, **({"sleep": sleep} if sleep is not None else {}))
    applier = _Applier(
        client, store, plan, settings, now or datetime.now(UTC), confirmer, clock or (lambda: datetime.now(UTC))
    )
    applier.create([item for item in plan.items if item.op == "create_ticket"], verify=verify_before_create)
    chains: dict[str, list[PlanItem]] = {}
    for item in plan.items:
        if item.op == "create_ticket":
            continue
        if item.comment_record is not None:
            try:
                applier.kept_comment(item)
            except Pending as exc:
                applier.pending(item, str(exc))
            except JiraHTTPError as exc:
                applier.fail(item, exc)
            continue
        chains.setdefault(item.target or item.id, []).append(item)
    for items in chains.values():
        applier.ticket_chain(items)
    return applier.result
