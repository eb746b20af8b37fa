"""``plan_actions``: requests + ledger (+ what Jira holds) -> the itemised plan. Reads only.

Decisions, per request (one per fingerprint):

- ``unknown`` (missing data): nothing; a ticket never opens or closes on absent data.
- ``shadow`` failing: counted, never written. ``advisory`` failing: no ticket; when the rule has a
  ``comment`` action, one comment on the project's anchor issue, kept up to date in place.
- ``mandatory`` failing: create when no ticket exists; update in place when what we would write (summary,
  description with evidence, due date, assignee) hashes differently from what we last wrote; reopen when
  the ticket is resolved (by us, or closed by a person while the rule still fails); escalate along the
  configured ladder when overdue.
- passing (pass, waived, not applicable) with an open ticket: resolve (comment + transition to done).
- Gate reviews: one comment per project and gate on the anchor issue, edited in place when it changes.
- Other kept comments (``CommentRequest``, e.g. the monthly root-cause analysis): the same, per purpose.

Unchanged data plans zero items: every comparison is against hashes the ledger (or the ticket's entity
property) kept from the last write.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from pmo_gates.actions import payloads as P
from pmo_gates.actions.escalation import days_overdue, ordered, steps_due
from pmo_gates.actions.ledger import load_comments, load_tickets, property_for_record, property_value
from pmo_gates.actions.plan import CommentRecord, LedgerRecord, Plan, PlanItem
from pmo_gates.actions.reconcile import JiraState
from pmo_gates.actions.requests import ActionRequest, CommentRequest
from pmo_gates.config import Settings
from pmo_gates.review.markup import Paragraph
from pmo_gates.review.models import ProjectReview, ReviewResult
from pmo_gates.review.render import gate_comment_blocks
from pmo_gates.store import Store
from pmo_gates.store.models import ActionTicket, Project

ORDER = {
    "create_ticket": 0,
    "update_ticket": 1,
    "reopen": 2,
    "resolve": 3,
    "escalate": 4,
    "sync_property": 5,
    "comment": 6,
}


class _Known:
    """What we know of one fingerprint's ticket: the ledger row, else Jira's copy of it."""

    def __init__(self, row: ActionTicket | None, remote: Any) -> None:
        meta = (remote.metadata or {}) if remote is not None else {}
        self.key: str | None = (remote.key if remote is not None else None) or (row.ticket_key if row else None)
        remote_done = remote is not None and remote.status_category == "done"
        self.closed_in_jira = remote_done
        self.state = row.state if row is not None else ("resolved" if remote_done else meta.get("state", "open"))
        self.content_hash = row.content_hash if row is not None else meta.get("content_hash")
        due = meta.get("due_date")
        self.due_date = row.due_date if row is not None else (date.fromisoformat(due) if due else None)
        if self.due_date is None and remote is not None:
            self.due_date = remote.due_date
        self.escalation_level = row.escalation_level if row is not None else int(meta.get("escalation_level") or 0)
        self.reopen_count = row.reopen_count if row is not None else int(meta.get("reopen_count") or 0)


def _record(request: ActionRequest, **changes: Any) -> LedgerRecord:
    return LedgerRecord(
        fingerprint=request.fingerprint,
        kind=request.kind,
        rule_id=request.rule_id,
        project_key=request.project_key,
        period=request.period,
        **changes,
    )


class _Planner:
    def __init__(self, settings: Settings, today: date, target: P.JiraTarget, rules_hash: str | None) -> None:
        self.actions = settings.actions
        self.today = today
        self.target = target
        self.rules_hash = rules_hash
        self.ladder = ordered(self.actions.escalation)
        self.plan = Plan(markup=target.markup)

    def add(self, **item: Any) -> None:
        self.plan.items.append(PlanItem(**item))

    def assignee(self, request: ActionRequest, level: int) -> str | None:
        # Once the ladder handed the ticket to the PMO lead, later updates must not hand it back.
        handed = any(step.action == "assign_pmo_lead" for step in self.ladder[:level])
        return (self.actions.pmo_lead if handed else None) or request.owner or self.actions.pmo_lead

    def content(self, request: ActionRequest, due: date | None, level: int) -> P.TicketContent:
        return P.ticket_content(
            request,
            target=self.target,
            issue_type=self.actions.issue_type,
            label=self.actions.label,
            due_date=due,
            assignee=self.assignee(request, level),
        )

    # --- tickets -----------------------------------------------------------------------------------------

    def ticket(self, request: ActionRequest, known: _Known, row: ActionTicket | None, remote: Any) -> None:
        planned = len(self.plan.items)
        self._ticket(request, known)
        if len(self.plan.items) == planned and row is not None and row.ticket_key and remote is not None:
            # Nothing else to write: still mirror the ledger if Jira's property is stale (a failed write).
            value = property_value(row)
            if remote.metadata != value:
                self.add(
                    id=f"property:{request.fingerprint}",
                    op="sync_property",
                    target=row.ticket_key,
                    reason="the ticket's pmo-gates property is behind the ledger (an earlier write failed)",
                    project_key=request.project_key,
                    fingerprint=request.fingerprint,
                    rule_id=request.rule_id,
                    payload={"property": value},
                )

    def _ticket(self, request: ActionRequest, known: _Known) -> None:
        base = {
            "project_key": request.project_key,
            "fingerprint": request.fingerprint,
            "rule_id": request.rule_id,
            "evidence": request.evidence,
        }
        if request.status == "passing":
            if known.key and known.state == "open":
                body, _ = P.comment_body(
                    P.resolve_blocks(request, self.today), P.step_purpose("resolve", known.reopen_count), self.target
                )
                self.add(
                    id=f"resolve:{request.fingerprint}",
                    op="resolve",
                    target=known.key,
                    reason=f"{request.rule_id} is {request.outcome or 'passing'} now",
                    **base,
                    payload={"comment": body, "transition_to": None if known.closed_in_jira else "done"},
                    ledger=_record(request, state="resolved"),
                )
            return
        fresh_due = request.due_date or self.today + timedelta(days=request.due_days)
        if known.key is None:
            content = self.content(request, fresh_due, 0)
            record = _record(
                request,
                state="open",
                summary=content.summary,
                content_hash=content.hash,
                due_date=fresh_due,
                escalation_level=0,
                reopen_count=0,
            )
            project = self.actions.project or request.project_key
            self.add(
                id=f"create:{request.fingerprint}",
                op="create_ticket",
                target=None,
                reason=f"{request.rule_id} fails (mandatory)",
                **base,
                payload=P.create_payload(
                    content, project=project, target=self.target, metadata=property_for_record(record)
                ),
                ledger=record,
            )
            return
        if known.state != "open" or known.closed_in_jira:
            why = "closed in Jira while the rule still fails" if known.state == "open" else "the problem is back"
            content = self.content(request, fresh_due, 0)
            purpose = P.step_purpose("reopen", known.reopen_count + 1)
            body, _ = P.comment_body(P.reopen_blocks(request, self.today, why), purpose, self.target)
            self.add(
                id=f"reopen:{request.fingerprint}",
                op="reopen",
                target=known.key,
                reason=f"{request.rule_id} fails again: {why}",
                **base,
                payload={**P.update_payload(content, target=self.target), "comment": body, "transition_to": "new"},
                ledger=_record(
                    request,
                    state="open",
                    summary=content.summary,
                    content_hash=content.hash,
                    due_date=fresh_due,
                    escalation_level=0,
                    reopen_count=known.reopen_count + 1,
                ),
            )
            return
        due = request.due_date or known.due_date or fresh_due
        content = self.content(request, due, known.escalation_level)
        if content.hash != known.content_hash:
            self.add(
                id=f"update:{request.fingerprint}",
                op="update_ticket",
                target=known.key,
                reason=f"{request.rule_id} still fails; summary, evidence, due date or owner changed",
                **base,
                payload=P.update_payload(content, target=self.target),
                ledger=_record(request, summary=content.summary, content_hash=content.hash, due_date=due),
            )
        else:
            self.plan.unchanged += 1
        self.escalate(request, known, due, base)

    def escalate(self, request: ActionRequest, known: _Known, due: date | None, base: dict[str, Any]) -> None:
        lead = self.actions.pmo_lead
        overdue = days_overdue(due, self.today)
        for index, step in steps_due(self.ladder, due, self.today, level=known.escalation_level):
            action = step.action
            if action in ("assign_pmo_lead", "mention_pmo_lead") and not lead:
                self.plan.warnings.append(
                    f"escalation step {index + 1} ({action}) needs actions.pmo_lead; posted as a plain comment"
                )
            blocks = P.escalation_blocks(
                action, overdue=overdue, due=due, lead=lead, priority=step.priority, target=self.target
            )
            purpose = P.step_purpose(f"escalation-{index + 1}", known.reopen_count)
            body, _ = P.comment_body(blocks, purpose, self.target)
            payload: dict[str, Any] = {"comment": body}
            if action == "raise_priority" and step.priority:
                payload["fields"] = {"priority": {"name": step.priority}}
            elif action == "assign_pmo_lead" and lead:
                payload["fields"] = {"assignee": self.target.user(lead)}
            self.add(
                id=f"escalate:{request.fingerprint}:{index + 1}",
                op="escalate",
                target=known.key,
                reason=f"overdue {overdue} day(s): step {index + 1} ({action} at +{step.after_days})",
                **base,
                payload=payload,
                ledger=_record(request, escalation_level=index + 1),
            )

    # --- comments kept in place ----------------------------------------------------------------------------

    def kept_comment(
        self,
        *,
        op_new: str,
        op_edit: str,
        item_id: str,
        anchor: str,
        purpose: str,
        blocks: list,
        existing: Any,
        project_key: str,
        reason: str,
        rule_id: str | None = None,
        fingerprint: str | None = None,
    ) -> None:
        body, digest = P.comment_body(blocks, purpose, self.target)
        if existing is not None and existing.content_hash[:12] == digest[:12]:
            return
        self.add(
            id=item_id,
            op=op_edit if existing is not None else op_new,
            project_key=project_key,
            target=anchor,
            comment_id=existing.comment_id if existing is not None else None,
            rule_id=rule_id,
            fingerprint=fingerprint,
            reason=reason + (" (edited in place)" if existing is not None else ""),
            payload={"body": body},
            comment_record=CommentRecord(issue_key=anchor, purpose=purpose, content_hash=digest),
        )


def _anchors(store: Store, keys: Iterable[str]) -> dict[str, str | None]:
    keys = list(set(keys))
    if not keys:
        return {}
    with store.session() as session:
        query = select(Project.key, Project.anchor_issue_key).where(Project.key.in_(keys))
        return {key: anchor for key, anchor in session.execute(query)}


def plan_actions(
    store: Store,
    requests: Sequence[ActionRequest],
    reviews: ReviewResult | Sequence[ProjectReview] | None,
    settings: Settings,
    *,
    today: date,
    jira_state: JiraState | None = None,
    target: P.JiraTarget | None = None,
    rules_hash: str | None = None,
    comments: Sequence[CommentRequest] = (),
) -> Plan:
    """The plan for ``requests`` (from findings and root-cause analysis alike) and the gate ``reviews``.

    ``jira_state`` (from :func:`pmo_gates.actions.reconcile.fetch_jira_state`) adds what Jira holds: tickets
    the ledger lacks, tickets people closed. Without it the plan trusts the ledger alone (offline dry-run).
    """
    planner = _Planner(settings, today, target or P.JiraTarget(), rules_hash)
    by_fp: dict[str, ActionRequest] = {}
    for request in requests:
        if request.fingerprint in by_fp and by_fp[request.fingerprint] != request:
            planner.plan.warnings.append(f"two requests share fingerprint {request.fingerprint}; the last wins")
        by_fp[request.fingerprint] = request
    review_list = list(reviews.reviews if isinstance(reviews, ReviewResult) else reviews or [])
    if rules_hash is None and isinstance(reviews, ReviewResult):
        planner.rules_hash = reviews.rules_hash
    with store.session() as session:
        rows = load_tickets(session)
        known_comments: dict[tuple[str, str], Any] = dict(load_comments(session))
    if jira_state is not None:
        for remote in jira_state.comments:
            known_comments.setdefault((remote.issue_key, remote.purpose), remote)
        for fingerprint, extra in jira_state.duplicates.items():
            planner.plan.warnings.append(f"fingerprint {fingerprint} is on several tickets; extra: {extra}")
    advisory = [r for r in by_fp.values() if r.status == "failing" and r.rollout == "advisory"]
    anchors = _anchors(store, [r.project_key for r in advisory])
    for fingerprint in sorted(by_fp):
        request = by_fp[fingerprint]
        if request.status == "unknown":
            continue
        if request.status == "failing" and request.rollout != "mandatory":
            if request.rollout == "shadow":
                planner.plan.shadow += 1
                continue
            planner.plan.advisory += 1
            anchor = anchors.get(request.project_key)
            if request.comment and anchor:
                purpose = f"advisory:{request.rule_id}"[:64]
                blocks = [Paragraph(parts=[request.comment]), *P.evidence_table(request.evidence)]
                planner.kept_comment(
                    op_new="comment",
                    op_edit="comment",
                    item_id=f"comment:{fingerprint}",
                    anchor=anchor,
                    purpose=purpose,
                    blocks=blocks,
                    existing=known_comments.get((anchor, purpose)),
                    project_key=request.project_key,
                    reason=f"{request.rule_id} fails (advisory)",
                    rule_id=request.rule_id,
                    fingerprint=fingerprint,
                )
            continue
        remote = jira_state.tickets.get(fingerprint) if jira_state is not None else None
        if request.rollout != "mandatory" and remote is None and fingerprint not in rows:
            continue  # a passing advisory/shadow rule never had a ticket
        row = rows.get(fingerprint)
        planner.ticket(request, _Known(row, remote), row, remote)
    for review in sorted(review_list, key=lambda r: r.project_key):
        if not review.anchor_issue_key:
            planner.plan.warnings.append(f"{review.project_key}: no anchor issue; gate-review comment skipped")
            continue
        purpose = f"gate-review:{review.gate}"
        planner.kept_comment(
            op_new="post_gate_comment",
            op_edit="update_gate_comment",
            item_id=f"gate:{review.project_key}",
            anchor=review.anchor_issue_key,
            purpose=purpose,
            blocks=gate_comment_blocks(review, planner.rules_hash),
            existing=known_comments.get((review.anchor_issue_key, purpose)),
            project_key=review.project_key,
            reason=f"{review.gate} gate: {review.decision} (score {review.score:.0f})",
        )
    for kept in sorted(comments, key=lambda c: (c.anchor_issue_key, c.purpose)):
        planner.kept_comment(
            op_new="comment",
            op_edit="comment",
            item_id=f"comment:{kept.anchor_issue_key}:{kept.purpose}",
            anchor=kept.anchor_issue_key,
            purpose=kept.purpose,
            blocks=kept.blocks,
            existing=known_comments.get((kept.anchor_issue_key, kept.purpose)),
            project_key=kept.project_key,
            reason=kept.reason,
        )
    planner.plan.items.sort(key=lambda item: (ORDER.get(item.op, 9), item.id))
    return planner.plan
