"""Rule findings -> ``ActionRequest``s: outcome to status, the rule's rendered ticket/comment text, and the
owner routed to a Jira account."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pmo_gates.actions.requests import ActionRequest
from pmo_gates.rules.models import Outcome
from pmo_gates.rules.results import Evaluation, Finding
from pmo_gates.rules.ruleset import PMO_LEAD, RuleSet
from pmo_gates.store.models import ActionTicket, Person, Project

STATUS = {
    Outcome.FAIL: "failing",
    Outcome.PASS: "passing",
    # No longer applying, or covered by an approved waiver: nothing is asked of the team any more.
    Outcome.NOT_APPLICABLE: "passing",
    Outcome.WAIVED: "passing",
    Outcome.UNKNOWN: "unknown",
}


class OwnerDirectory:
    """Routes a finding's owner to a Jira account: an account id as is, a display name (the
    ``project_manager`` fact) through the people and projects synced, ``pmo_lead`` (or anyone unknown) to
    the configured PMO lead."""

    def __init__(self, accounts: set[str], names: dict[str, str], pmo_lead: str | None) -> None:
        self.accounts = accounts
        self.names = names
        self.pmo_lead = pmo_lead

    @classmethod
    def from_store(cls, session: Session, pmo_lead: str | None) -> OwnerDirectory:
        accounts: set[str] = set()
        names: dict[str, str] = {}
        for account_id, name, user_key in session.execute(
            select(Person.account_id, Person.display_name, Person.user_key)
        ):
            accounts.add(account_id)
            if user_key:  # a Data Center key is a person too; the write turns it into the login (JiraTarget)
                accounts.add(user_key)
            if name:
                names.setdefault(name, account_id)
        for account_id, name in session.execute(select(Project.project_manager_id, Project.project_manager_name)):
            if account_id:
                accounts.add(account_id)
                if name:
                    names[name] = account_id
        return cls(accounts, names, pmo_lead)

    def route(self, owner: str | None) -> str | None:
        if not owner or owner == PMO_LEAD:
            return self.pmo_lead
        if owner in self.accounts:
            return owner
        return self.names.get(owner, self.pmo_lead)


def _ticket_text(rule_set: RuleSet, finding: Finding, today: date) -> dict[str, object]:
    compiled = rule_set.rules.get(finding.rule_id)
    out: dict[str, object] = {
        "summary": f"[PMO] {finding.project_key}: {finding.title}",
        "description": compiled.rule.description if compiled else "",
    }
    if compiled is None:
        return out
    for action in compiled.render_actions(finding, today=today, settings=rule_set.settings):
        if action.type == "ticket":
            out.update(
                summary=action.fields.get("summary") or out["summary"],
                description=action.fields.get("description") or "",
                issue_type=action.fields.get("issue_type"),
                labels=[label for label in action.fields.get("labels", []) if label],
            )
        elif action.type == "comment":
            out["comment"] = action.fields.get("body")
    return out


def requests_from_evaluation(
    evaluation: Evaluation,
    rule_set: RuleSet,
    owners: OwnerDirectory,
    *,
    due_dates: Mapping[str, date] | None = None,
    rules: Iterable[str] | None = None,
) -> list[ActionRequest]:
    """One request per finding that can matter to Jira (shadow and advisory included: the planner counts
    them). ``rules`` restricts to some rule ids.

    ``due_dates`` (fingerprint -> due date of the open ticket, see :func:`open_due_dates`) keeps an open
    ticket's due date fixed: templates render ``{due_date}`` with it, not with today + due_days, which
    would change the ticket's text every day.
    """
    due_dates = due_dates or {}
    wanted = set(rules) if rules is not None else None
    today = evaluation.today
    requests = []
    for finding in evaluation.findings:
        if wanted is not None and finding.rule_id not in wanted:
            continue
        status = STATUS[finding.outcome]
        text: dict[str, object] = {}
        if status == "failing":
            # Rendering only for failures: the planner needs no text to resolve or skip a ticket.
            if finding.fingerprint in due_dates:
                finding = finding.model_copy(update={"due_date": due_dates[finding.fingerprint]})
            text = _ticket_text(rule_set, finding, today)
        compiled = rule_set.rules.get(finding.rule_id)
        requests.append(
            ActionRequest(
                fingerprint=finding.fingerprint,
                kind="finding",
                rule_id=finding.rule_id,
                project_key=finding.project_key,
                period=finding.period,
                status=status,
                outcome=finding.outcome.value,
                rollout=finding.rollout.value,
                severity=finding.severity.value,
                title=finding.title,
                summary=str(text.get("summary") or f"[PMO] {finding.project_key}: {finding.title}")[:255],
                description=str(text.get("description") or ""),
                evidence={k: v for k, v in finding.evidence.items()},
                next_steps=[
                    f"Meet the standard: {finding.title}",
                    "If it cannot be met, ask the PMO for a waiver (rule, reason, expiry).",
                ],
                owner=owners.route(finding.owner),
                due_days=compiled.rule.due_days if compiled else 14,
                issue_type=text.get("issue_type"),  # type: ignore[arg-type]
                labels=list(text.get("labels") or []),  # type: ignore[call-overload]
                comment=text.get("comment"),  # type: ignore[arg-type]
            )
        )
    return requests


def open_due_dates(session: Session) -> dict[str, date]:
    """Due dates of the open tickets in the ledger, by fingerprint."""
    rows = session.execute(
        select(ActionTicket.fingerprint, ActionTicket.due_date).where(
            ActionTicket.state == "open", ActionTicket.due_date.is_not(None)
        )
    )
    return {fingerprint: due for fingerprint, due in rows}
