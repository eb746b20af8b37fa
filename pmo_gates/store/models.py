"""SQLAlchemy models of everything pmo-gates keeps: synced Jira data, sync state, and (added by later
migrations) decision records and the corrective-action ledger.

Jira keys are the natural identity of projects and issues, but issue keys change when an issue moves
between projects, so issues are keyed by Jira's immutable numeric id and carry their key as a unique column.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, list[Any]: JSON}


class Project(Base):
    """A Jira project in the portfolio, with the PMO metadata read from its anchor issue."""

    __tablename__ = "projects"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    jira_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    lead_account_id: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(255))
    anchor_issue_key: Mapped[str | None] = mapped_column(String(64))
    # Mapped PMO metadata (config `fields:`); None when the field is absent or unparseable.
    phase: Mapped[str | None] = mapped_column(String(32))
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    baseline_date: Mapped[date | None] = mapped_column(Date)
    budget: Mapped[float | None] = mapped_column(Float)
    actual_cost: Mapped[float | None] = mapped_column(Float)
    hourly_rate: Mapped[float | None] = mapped_column(Float)
    project_manager_id: Mapped[str | None] = mapped_column(String(128))
    project_manager_name: Mapped[str | None] = mapped_column(String(255))
    strategic_value: Mapped[float | None] = mapped_column(Float)
    expected_roi: Mapped[float | None] = mapped_column(Float)
    charter_url: Mapped[str | None] = mapped_column(Text)
    budget_approved: Mapped[bool | None] = mapped_column(Boolean)
    lessons_learned: Mapped[str | None] = mapped_column(Text)
    # Every mapped field's raw value by config name, for facts that need more than the typed columns.
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Person(Base):
    """Someone Jira names. ``account_id`` is the id the store keys people by (issues' ``assignee_id`` and the
    like): the accountId on Cloud; on Data Center the login name, which DC's writes take (``{"name": login}``,
    ``[~login]``). Data Center also has an immutable user key (``JIRAUSER12345``; equal to the login on old
    sites) that some payloads carry alone (changelog ``from``/``to`` of user fields): ``user_key`` and
    ``login`` keep both, so a key can be turned into the login a write needs. Both are null on Cloud."""

    __tablename__ = "people"

    account_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    user_key: Mapped[str | None] = mapped_column(String(128), index=True)
    login: Mapped[str | None] = mapped_column(String(128))


class Issue(Base):
    __tablename__ = "issues"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    project_key: Mapped[str] = mapped_column(String(64), index=True)
    issue_type: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(64))
    status_category: Mapped[str] = mapped_column(String(16))  # new | indeterminate | done
    resolution: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(128), index=True)
    reporter_id: Mapped[str | None] = mapped_column(String(128))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    resolved: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[date | None] = mapped_column(Date)
    story_points: Mapped[float | None] = mapped_column(Float)
    original_estimate_s: Mapped[int | None] = mapped_column(BigInteger)
    time_spent_s: Mapped[int | None] = mapped_column(BigInteger)
    remaining_estimate_s: Mapped[int | None] = mapped_column(BigInteger)
    parent_key: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    sprint: Mapped[str | None] = mapped_column(String(255))
    # Problems found while mapping this issue (bad date, unparseable number...): stored, not fatal.
    data_errors: Mapped[list[str]] = mapped_column(JSON, default=list)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_issues_project_status", "project_key", "status_category"),)


class IssueLink(Base):
    """A directed dependency: ``from_key`` <link outward verb> ``to_key`` (e.g. A-1 blocks B-7)."""

    __tablename__ = "issue_links"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # Jira link id
    issue_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    link_type: Mapped[str] = mapped_column(String(64))
    from_key: Mapped[str] = mapped_column(String(64), index=True)
    to_key: Mapped[str] = mapped_column(String(64), index=True)


class ChangelogItem(Base):
    __tablename__ = "changelog_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    history_id: Mapped[str] = mapped_column(String(32))
    item_index: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[str | None] = mapped_column(String(128))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    field: Mapped[str] = mapped_column(String(128))
    from_value: Mapped[str | None] = mapped_column(Text)
    from_string: Mapped[str | None] = mapped_column(Text)
    to_value: Mapped[str | None] = mapped_column(Text)
    to_string: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("issue_id", "history_id", "item_index", name="uq_changelog_item"),
        Index("ix_changelog_field", "field"),
    )


class Worklog(Base):
    __tablename__ = "worklogs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # Jira worklog id
    issue_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str | None] = mapped_column(String(128), index=True)
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    time_spent_s: Mapped[int] = mapped_column(BigInteger)


class SyncState(Base):
    """Watermark per scope (``portfolio`` or a project key). Advanced only after the data it covers is
    committed, in the same transaction, so a crash never skips data."""

    __tablename__ = "sync_state"

    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    watermark: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_full_sync: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Resumable paging: the next page token/offset of an interrupted sync, cleared when it completes.
    cursor: Mapped[str | None] = mapped_column(Text)
    # What the connector learnt about the Jira site (flavour, user time zone, resolved field ids), kept so
    # an incremental sync needs no metadata requests; refreshed by every full sync.
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mode: Mapped[str] = mapped_column(String(16))  # full | incremental
    status: Mapped[str] = mapped_column(String(16))  # running | completed | failed
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class GateDecision(Base):
    """A reproducible gate-review record: what was decided, on which rules and which data."""

    __tablename__ = "gate_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_key: Mapped[str] = mapped_column(String(64), index=True)
    gate: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(32))  # go | conditional_go | hold | recycle | kill
    score: Mapped[float] = mapped_column(Float)
    rules_hash: Mapped[str] = mapped_column(String(64))
    rules_commit: Mapped[str | None] = mapped_column(String(64))
    data_hash: Mapped[str] = mapped_column(String(64))
    data_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    approved_by: Mapped[str | None] = mapped_column(String(255))
    criteria: Mapped[list[Any]] = mapped_column(JSON, default=list)  # every criterion with its evidence
    run_id: Mapped[str | None] = mapped_column(String(64))


class ActionTicket(Base):
    """The corrective-action ledger: one row per finding fingerprint, mirroring one Jira ticket."""

    __tablename__ = "action_tickets"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="finding")  # finding | rca
    rule_id: Mapped[str] = mapped_column(String(128), index=True)
    project_key: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str | None] = mapped_column(String(16))
    ticket_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # open | resolved
    summary: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str | None] = mapped_column(String(64))  # what we last wrote, to skip no-op writes
    due_date: Mapped[date | None] = mapped_column(Date)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CreateIntent(Base):
    """A create batch sent (or about to be) whose keys the ledger has not recorded yet.

    Written and committed *before* ``POST /issue/bulk`` and deleted in the transaction that records the
    created key, so a row that survives means Jira may hold a ticket we cannot see: JQL search trails writes
    (Cloud's index lag), and until ``jira.search_lag_seconds`` have passed since ``sent_at`` (or since the
    client gave up waiting, ``gave_up_at``) an empty search proves nothing and the fingerprint is not
    created again."""

    __tablename__ = "create_intents"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    gave_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class PostedComment(Base):
    """Comments we keep up to date in place (gate-review and root-cause comments on anchor issues)."""

    __tablename__ = "posted_comments"

    issue_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. gate-review, rca-2026-11
    comment_id: Mapped[str] = mapped_column(String(32))
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RcaResult(Base):
    """One delay root-cause analysis of one project in one period (month), kept for trends."""

    __tablename__ = "rca_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_key: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(16))
    analysed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delayed: Mapped[bool] = mapped_column(Boolean)
    slip_days: Mapped[float | None] = mapped_column(Float)
    causes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    remedies: Mapped[list[Any]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("project_key", "period", name="uq_rca_project_period"),)
