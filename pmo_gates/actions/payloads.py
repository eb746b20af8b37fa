"""The exact Jira bodies of corrective-action tickets and their comments (wiki markup or ADF).

Nothing here reads the clock or the network: the same request, ledger row and date give the same bytes,
which is what makes "unchanged data plans zero items" a hash comparison.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pmo_gates.actions.ledger import PROPERTY_KEY, content_hash, fingerprint_label
from pmo_gates.actions.requests import ActionRequest
from pmo_gates.formatting import plain
from pmo_gates.review.markup import (
    Block,
    BulletList,
    Heading,
    Marker,
    Markup,
    Mention,
    Paragraph,
    Strong,
    Table,
    render,
    to_adf,
    to_wiki,
)


class JiraTarget(BaseModel):
    """How to talk to this Jira: Cloud wants ``accountId``s, Data Center usernames; REST v3 wants ADF."""

    model_config = ConfigDict(frozen=True)

    flavour: Literal["cloud", "dc"] = "cloud"
    markup: Markup = "wiki"
    logins: dict[str, str] = Field(
        default_factory=dict,
        description="Data Center user key -> login name, from the people synced: DC's writes take the login "
        "only, so a person named by key (a configured PMO lead, an id from a changelog) is written by login.",
    )

    @property
    def cloud(self) -> bool:
        return self.flavour == "cloud"

    def write_id(self, person: str) -> str:
        """The id a write names ``person`` by: the accountId on Cloud, the login on Data Center."""
        return person if self.cloud else self.logins.get(person, person)

    def user(self, account: str) -> dict[str, str]:
        return {"accountId": account} if self.cloud else {"name": self.write_id(account)}


def _text(value: Any) -> str:
    return "(unknown)" if value is None else plain(value)


def evidence_table(evidence: dict[str, Any]) -> list[Block]:
    if not evidence:
        return []
    return [Table(header=["Fact", "Value"], rows=[[k, _text(v)] for k, v in sorted(evidence.items())])]


def description_blocks(request: ActionRequest) -> list[Block]:
    blocks: list[Block] = [Paragraph(parts=[p.strip()]) for p in request.description.split("\n\n") if p.strip()]
    if request.evidence:
        blocks.append(Heading(text="Evidence", level=4))
        blocks += evidence_table(request.evidence)
    if request.next_steps:
        blocks.append(Heading(text="What to do", level=4))
        blocks.append(BulletList(items=[[step] for step in request.next_steps]))
    origin = f"rule {request.rule_id}" if request.kind == "finding" else f"root-cause analysis ({request.rule_id})"
    period = f", period {request.period}" if request.period else ""
    blocks.append(
        Paragraph(
            parts=[
                f"Raised by pmo-gates from {origin} for project {request.project_key}{period} "
                f"(severity {request.severity}). This ticket is updated in place, and resolves itself "
                "when the rule passes again."
            ]
        )
    )
    return blocks


class TicketContent(BaseModel):
    """What we want a ticket to say; its hash is what the ledger compares."""

    model_config = ConfigDict(frozen=True)

    summary: str
    description: str | dict[str, Any]
    due_date: date | None
    assignee: str | None
    issue_type: str
    labels: list[str]

    @property
    def hash(self) -> str:
        return content_hash(self.model_dump(mode="json"))


def ticket_content(
    request: ActionRequest,
    *,
    target: JiraTarget,
    issue_type: str,
    label: str,
    due_date: date | None,
    assignee: str | None,
) -> TicketContent:
    labels = sorted({label, fingerprint_label(request.fingerprint), *request.labels})
    return TicketContent(
        summary=request.summary[:255],
        description=render(description_blocks(request), target.markup),
        due_date=due_date,
        assignee=assignee,
        issue_type=request.issue_type or issue_type,
        labels=labels,
    )


def _fields(content: TicketContent, target: JiraTarget) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": content.summary,
        "description": content.description,
        "duedate": content.due_date.isoformat() if content.due_date else None,
    }
    if content.assignee:
        fields["assignee"] = target.user(content.assignee)
    return fields


def create_payload(
    content: TicketContent, *, project: str, target: JiraTarget, metadata: dict[str, Any]
) -> dict[str, Any]:
    """One ``issueUpdates`` element of ``POST /issue/bulk``: labels and the ledger property go in the
    create itself, so the ticket is findable from the instant it exists."""
    fields = {
        "project": {"key": project},
        "issuetype": {"name": content.issue_type},
        **_fields(content, target),
        "labels": content.labels,
    }
    if fields["duedate"] is None:
        del fields["duedate"]
    return {"fields": fields, "properties": [{"key": PROPERTY_KEY, "value": metadata}]}


def update_payload(content: TicketContent, *, target: JiraTarget) -> dict[str, Any]:
    """``PUT /issue/{key}`` body. Labels are only ever added, so labels people put on the ticket stay."""
    return {
        "fields": _fields(content, target),
        "update": {"labels": [{"add": label} for label in content.labels]},
    }


def step_purpose(step: str, cycle: int) -> str:
    """The marker purpose of a ticket's step comment: unique per ticket, step and open/resolve cycle
    (``escalation-2.c0``; after the first reopen ``reopen.c1``, ``escalation-1.c1`` ...), so a comment
    found on the ticket proves that exactly this step was posted, whatever its day-dependent text."""
    return f"{step}.c{cycle}"


def comment_body(blocks: list[Block], purpose: str, target: JiraTarget) -> tuple[str | dict[str, Any], str]:
    """The comment body with its marker line, and the hash the marker carries (of the wiki rendering, so
    the hash is the same whichever format is posted)."""
    wiki = to_wiki(blocks)
    digest = content_hash(wiki)
    marker = Marker(purpose=purpose, content_hash=digest)
    if target.markup == "wiki":
        return f"{wiki}\n{to_wiki([marker])}", digest
    return to_adf([*blocks, marker]), digest


RESOLVED_BECAUSE = {
    "waived": "the PMO approved a waiver for it",
    "not_applicable": "it no longer applies to this project",
}


def resolve_blocks(request: ActionRequest, today: date) -> list[Block]:
    because = RESOLVED_BECAUSE.get(request.outcome or "", "it passes again")
    what = request.title or request.rule_id
    return [
        Paragraph(parts=[Strong(text="Resolved by pmo-gates"), f": {what}: {because} ({today.isoformat()})."]),
        *evidence_table(request.evidence),
    ]


def reopen_blocks(request: ActionRequest, today: date, reason: str) -> list[Block]:
    return [
        Paragraph(parts=[Strong(text="Reopened by pmo-gates"), f": {reason} ({today.isoformat()})."]),
        *evidence_table(request.evidence),
    ]


def escalation_blocks(
    action: str, *, overdue: int, due: date | None, lead: str | None, priority: str | None, target: JiraTarget
) -> list[Block]:
    due_text = due.isoformat() if due else "its due date"
    text = f"This corrective action is overdue: due {due_text}, {overdue} day(s) late."
    if action == "raise_priority":
        return [Paragraph(parts=[Strong(text="Escalation"), f": {text} Priority raised to {priority}."])]
    if action == "assign_pmo_lead" and lead:
        return [Paragraph(parts=[Strong(text="Escalation"), f": {text} Assigned to the PMO lead."])]
    if action == "mention_pmo_lead" and lead:
        return [
            Paragraph(
                parts=[
                    Strong(text="Escalation"),
                    f": {text} ",
                    Mention(account_id=target.write_id(lead), cloud=target.cloud),
                    " please follow up.",
                ]
            )
        ]
    return [Paragraph(parts=[Strong(text="Escalation"), f": {text} Please update or fix it."])]
