"""The corrective-actions run end to end, as one plain function the CLI, the Prefect flow and the demo call:
rules + facts -> requests -> (lock) read Jira back -> plan -> approve -> apply -> (unlock).

Prefect's approval pause is the flow's business: it calls :func:`prepare` and :func:`apply_plan` itself (or
passes ``approve``); everything here is synchronous and testable without Prefect.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from pmo_gates.actions.apply import ApplyResult, apply_plan
from pmo_gates.actions.from_findings import OwnerDirectory, open_due_dates, requests_from_evaluation
from pmo_gates.actions.ledger import adopt_remote, load_comments
from pmo_gates.actions.locking import portfolio_lock
from pmo_gates.actions.payloads import JiraTarget
from pmo_gates.actions.plan import Plan
from pmo_gates.actions.planner import plan_actions
from pmo_gates.actions.reconcile import JiraState, fetch_jira_state
from pmo_gates.actions.requests import ActionRequest
from pmo_gates.bulk_gc import fewer_collections
from pmo_gates.config import Settings
from pmo_gates.connectors.client import JiraClient
from pmo_gates.review.models import ReviewResult
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.rules.results import Evaluation
from pmo_gates.rules.ruleset import RuleSet
from pmo_gates.store import Store
from pmo_gates.store.data_errors import DataProblem
from pmo_gates.store.models import ActionTicket, Person, Project
from pmo_gates.store.readiness import require_projects

log = logging.getLogger(__name__)

# One lock for every run that writes to Jira (gate reviews and corrective actions alike).
JIRA_WRITES_LOCK = "jira-writes"
Approver = Callable[[Plan], Iterable[str] | None]


@dataclass
class Inputs:
    """What a review or corrective-actions run works from."""

    today: date
    rule_set: RuleSet
    facts: dict[str, dict[str, Any]]
    evaluation: Evaluation
    problems: list[DataProblem] = field(default_factory=list)  # facts that failed, per project


def rule_paths(settings: Settings) -> list[Path]:
    """The rule files and folders a config runs: ``rules.paths`` (default: the shipped packs) and its waivers.
    ``validate``, ``rules test`` and ``schema`` read the same list, so they check what runs."""
    from pmo_gates.rules.loader import shipped_packs

    return [*(settings.rules.paths or shipped_packs()), *settings.rules.waivers]


def load_rules(settings: Settings, today: date, *, check_examples: bool = True) -> RuleSet:
    from pmo_gates.rules.facts.registry import default_catalog
    from pmo_gates.rules.loader import load_rule_set

    return load_rule_set(
        rule_paths(settings),
        default_catalog(),
        enabled_packs=settings.rules.enabled_packs,
        today=today,
        check_examples=check_examples,
    )


def load_inputs(
    settings: Settings,
    store: Store,
    *,
    today: date,
    rule_set: RuleSet | None = None,
    facts: dict[str, dict[str, Any]] | None = None,
) -> Inputs:
    from pmo_gates.rules.facts.compute import compute_fact_table

    rule_set = rule_set or load_rules(settings, today)
    problems: list[DataProblem] = []
    if facts is None:
        with store.session() as session:
            require_projects(session)
        table = compute_fact_table(store, today=today, params=settings.fact_params())
        facts, problems = table.values, table.problems
    evaluation = evaluate(rule_set, facts, today=today)
    return Inputs(today=today, rule_set=rule_set, facts=facts, evaluation=evaluation, problems=problems)


class ActionsRun(BaseModel):
    """What a run planned and (unless dry-run) applied."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    dry_run: bool
    plan: Plan
    applied: ApplyResult | None = None
    approved: list[str] | None = Field(None, description="Approved item ids (None: all, or no approval step).")
    adopted: dict[str, int] = Field(default_factory=dict, description="Tickets/comments found in Jira, recorded.")
    jira_requests: dict[str, int] = Field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The demo's ``actions`` object: planned and applied changes, ticket keys."""
        applied = self.applied.items if self.applied else []
        done = [r for r in applied if r.status != "failed"]
        return {
            "dry_run": self.dry_run,
            "planned": {op: n for op, n in self.plan.counts.items() if n},
            "unchanged": self.plan.unchanged,
            "advisory": self.plan.advisory,
            "shadow": self.plan.shadow,
            "applied": self.applied.counts() if self.applied else {},
            "applied_ops": dict(Counter(r.op for r in done)),
            "created": sorted(r.ticket_key for r in done if r.op == "create_ticket" and r.ticket_key),
            "create_calls": self.applied.create_calls if self.applied else 0,
            "tickets": sorted({r.ticket_key for r in applied if r.ticket_key and r.status != "failed"}),
            "failed": [r.model_dump() for r in applied if r.status == "failed"],
            "pending": [r.model_dump() for r in applied if r.status == "pending"],
            "deferred": [r.model_dump() for r in applied if r.status == "deferred"],
            "confirm_seconds": round(self.applied.confirm_seconds, 3) if self.applied else 0.0,
            "warnings": self.plan.warnings,
        }


def target_of(
    client: JiraClient | None, markup: Literal["wiki", "adf"] = "wiki", store: Store | None = None
) -> JiraTarget:
    """How to write to this Jira; on Data Center with the store's key -> login map of the people synced."""
    flavour = client.flavour if client is not None else "cloud"
    if markup == "adf" and flavour != "cloud":
        raise ValueError("ADF bodies need Jira Cloud (REST v3); Data Center takes wiki markup")
    logins: dict[str, str] = {}
    if flavour == "dc" and store is not None:
        with store.session() as session:
            query = select(Person.account_id, Person.user_key, Person.login).where(Person.login.is_not(None))
            for account_id, key, login in session.execute(query):
                if account_id != login:  # renamed since (connectors/people.py): the old login is refused
                    logins[account_id] = login
                elif key and key != login:
                    logins.setdefault(key, login)
    return JiraTarget(flavour=flavour, markup=markup, logins=logins)


def _scope(store: Store, settings: Settings, projects: Iterable[str]) -> list[str]:
    """Projects our tickets can live in: the configured ticket project, or every portfolio project plus any
    the ledger remembers."""
    if settings.actions.project:
        return [settings.actions.project]
    with store.session() as session:
        remembered = set(session.scalars(select(ActionTicket.project_key).distinct()))
    return sorted(set(projects) | remembered)


def anchors_lacking(store: Store, wanted: Iterable[tuple[str, str]]) -> list[str]:
    """Anchor issues of ``(anchor_key, purpose)`` pairs with no comment record: only those are read back."""
    with store.session() as session:
        known = load_comments(session)
    return sorted({anchor for anchor, purpose in wanted if (anchor, purpose) not in known})


def prepare(
    store: Store,
    client: JiraClient | None,
    settings: Settings,
    build: Callable[[JiraState | None], Plan],
    *,
    projects: Iterable[str],
    anchors: list[tuple[str, str]],
    now: datetime,
    dry_run: bool,
) -> tuple[Plan, dict[str, int]]:
    """Read Jira back (our tickets, unrecorded kept comments), adopt it into the ledger (not in dry-run:
    then the planner reads it directly) and plan."""
    state = None
    adopted: dict[str, int] = {}
    if client is not None:
        state = fetch_jira_state(
            client,
            label=settings.actions.label,
            projects=_scope(store, settings, projects),
            anchors_without_record=anchors_lacking(store, anchors),
            # As many reads in flight as the sync may have: the limit the user set for this Jira.
            workers=settings.sync.concurrency,
        )
        if not dry_run:
            with store.session() as session:
                adopted = adopt_remote(session, state, now)
    return build(state), adopted


def execute(
    store: Store,
    client: JiraClient | None,
    settings: Settings,
    build: Callable[[JiraState | None], Plan],
    *,
    projects: Iterable[str],
    anchors: list[tuple[str, str]],
    now: datetime,
    dry_run: bool,
    approve: Approver | None,
    lock_name: str,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> ActionsRun:
    """Plan and apply under the portfolio lock (see :mod:`pmo_gates.actions.locking`)."""
    with portfolio_lock(store, lock_name):
        plan, adopted = prepare(
            store, client, settings, build, projects=projects, anchors=anchors, now=now, dry_run=dry_run
        )
        run = ActionsRun(dry_run=dry_run or client is None, plan=plan, adopted=adopted)
        if run.dry_run or not plan.items:
            return run
        approved = approve(plan) if approve is not None else None
        run.approved = sorted(approved) if approved is not None else None
        assert client is not None
        run.applied = apply_plan(
            client, store, plan, settings, approved=run.approved, now=now, clock=clock, sleep=sleep
        )
    run.jira_requests = client.stats.as_dict()
    return run


@fewer_collections()
def run_actions(
    settings: Settings,
    *,
    store: Store,
    client: JiraClient | None,
    today: date | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    extra_requests: Sequence[ActionRequest] = (),
    inputs: Inputs | None = None,
    markup: Literal["wiki", "adf"] | None = None,
    approve: Approver | None = None,
    review: ReviewResult | None = None,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> ActionsRun:
    """Corrective actions for every failing mandatory rule (plus ``extra_requests`` from root-cause
    analysis): plan, and unless ``dry_run``, apply. ``client=None`` plans from the ledger alone (offline).
    ``review`` adds its gate-review comments to the same plan (the demo does one pass). ``clock`` is the
    wall clock create intents are stamped and aged with (``now`` is the review's logical time) and ``sleep``
    the confirmation poller's; tests pass fakes."""
    today = today or settings.today or date.today()
    now = now or datetime.now(UTC)
    inputs = inputs or load_inputs(settings, store, today=today)
    with store.session() as session:
        owners = OwnerDirectory.from_store(session, settings.actions.pmo_lead)
        due_dates = open_due_dates(session)
    found = requests_from_evaluation(inputs.evaluation, inputs.rule_set, owners, due_dates=due_dates)
    requests = [*found, *extra_requests]
    target = target_of(client, markup or settings.jira.markup, store)
    anchors = _advisory_anchors(store, requests)
    if review is not None:
        anchors += gate_anchors(review)

    def build(state: JiraState | None) -> Plan:
        return plan_actions(store, requests, review, settings, today=today, jira_state=state, target=target)

    return execute(
        store, client, settings, build, projects=inputs.facts, anchors=anchors, now=now, dry_run=dry_run,
        approve=approve, lock_name=JIRA_WRITES_LOCK, clock=clock, sleep=sleep,
    )  # fmt: skip


def gate_anchors(review: ReviewResult) -> list[tuple[str, str]]:
    return [(r.anchor_issue_key, f"gate-review:{r.gate}") for r in review.reviews if r.anchor_issue_key]


def _advisory_anchors(store: Store, requests: Sequence[ActionRequest]) -> list[tuple[str, str]]:
    wanted = [r for r in requests if r.status == "failing" and r.rollout == "advisory" and r.comment]
    if not wanted:
        return []
    with store.session() as session:
        keys = list({r.project_key for r in wanted})
        query = select(Project.key, Project.anchor_issue_key).where(Project.key.in_(keys))
        anchors = {key: anchor for key, anchor in session.execute(query)}
    return [(anchors[r.project_key], f"advisory:{r.rule_id}"[:64]) for r in wanted if anchors.get(r.project_key)]
