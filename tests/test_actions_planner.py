"""The planner and the ledger without Jira: what gets planned for each state of a fingerprint."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pmo_gates.actions.ledger import apply_comment_record, apply_record, fingerprint_label, load_tickets
from pmo_gates.actions.payloads import JiraTarget
from pmo_gates.actions.planner import plan_actions
from pmo_gates.actions.reconcile import JiraState, RemoteTicket
from pmo_gates.actions.requests import ActionRequest
from pmo_gates.config import Settings
from pmo_gates.review.models import CriterionView, ProjectReview
from pmo_gates.store.models import Project

TODAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def settings(**actions) -> Settings:
    return Settings.model_validate(
        {"jira": {"url": "http://jira.invalid"}, "portfolio": {"projects": ["ALPHA"]}, "actions": actions}
    )


def request(status: str = "failing", **over) -> ActionRequest:
    values = dict(
        fingerprint="a" * 32,
        rule_id="charter-approved",
        project_key="ALPHA",
        status=status,
        rollout="mandatory",
        title="Project has an approved charter",
        summary="[PMO] ALPHA: link the approved project charter",
        description="ALPHA has no charter.",
        evidence={"has_charter": False, "phase": "planning"},
        owner="acc-pm",
        due_days=14,
    )
    values.update(over)
    return ActionRequest(**values)


def apply_all(store, plan, key_prefix="ALPHA-", now=NOW):
    """Record every item as if Jira had accepted it (the ledger half of apply)."""
    with store.session() as session:
        for n, item in enumerate(plan.items, start=100):
            if item.ledger is not None:
                apply_record(session, item.ledger, now, ticket_key=item.target or f"{key_prefix}{n}")
            if item.comment_record is not None:
                apply_comment_record(session, item.comment_record, str(n), now)


def test_failing_mandatory_plans_one_create_with_labels_and_property(store):
    plan = plan_actions(store, [request()], None, settings(pmo_lead="acc-lead"), today=TODAY)
    assert [i.op for i in plan.items] == ["create_ticket"]
    payload = plan.items[0].payload
    assert payload["fields"]["labels"] == sorted(["pmo-gates", fingerprint_label("a" * 32)])
    assert payload["fields"]["duedate"] == "2026-11-16"
    assert payload["fields"]["assignee"] == {"accountId": "acc-pm"}
    assert payload["fields"]["project"] == {"key": "ALPHA"}
    assert payload["properties"][0]["key"] == "pmo-gates"
    assert payload["properties"][0]["value"]["fingerprint"] == "a" * 32
    assert plan.counts["create_ticket"] == 1


def test_data_center_assignee_and_ticket_project_from_config(store):
    target = JiraTarget(flavour="dc")
    plan = plan_actions(store, [request()], None, settings(project="PMO"), today=TODAY, target=target)
    fields = plan.items[0].payload["fields"]
    assert fields["assignee"] == {"name": "acc-pm"}
    assert fields["project"] == {"key": "PMO"}


def test_shadow_advisory_and_unknown_write_nothing(store):
    requests = [
        request(fingerprint="s" * 32, rollout="shadow"),
        request(fingerprint="v" * 32, rollout="advisory"),
        request(fingerprint="u" * 32, status="unknown"),
        request(fingerprint="p" * 32, status="passing"),
    ]
    plan = plan_actions(store, requests, None, settings(), today=TODAY)
    assert plan.items == []
    assert (plan.shadow, plan.advisory) == (1, 1)


def test_advisory_with_comment_action_keeps_one_comment_on_the_anchor(store):
    with store.session() as session:
        session.add(Project(key="ALPHA", jira_id="1", name="Alpha", anchor_issue_key="ALPHA-1", synced_at=NOW))
    advisory = request(rollout="advisory", comment="Please consider a charter.")
    plan = plan_actions(store, [advisory], None, settings(), today=TODAY)
    assert [(i.op, i.target, i.comment_id) for i in plan.items] == [("comment", "ALPHA-1", None)]
    apply_all(store, plan)
    assert plan_actions(store, [advisory], None, settings(), today=TODAY).items == []
    changed = request(rollout="advisory", comment="Please consider a charter.", evidence={"has_charter": None})
    edit = plan_actions(store, [changed], None, settings(), today=TODAY).items
    assert [(i.op, i.comment_id) for i in edit] == [("comment", "100")]


def test_lifecycle_unchanged_update_resolve_reopen(store):
    cfg = settings()
    apply_all(store, plan_actions(store, [request()], None, cfg, today=TODAY))
    # Same data, later days (before the due date): nothing to write.
    for day in (TODAY, TODAY + timedelta(days=3)):
        plan = plan_actions(store, [request()], None, cfg, today=day)
        assert plan.items == [] and plan.unchanged == 1
    # New evidence: updated in place, due date kept.
    changed = request(evidence={"has_charter": False, "phase": "execution"})
    plan = plan_actions(store, [changed], None, cfg, today=TODAY + timedelta(days=3))
    assert [i.op for i in plan.items] == ["update_ticket"]
    assert plan.items[0].payload["fields"]["duedate"] == "2026-11-16"
    assert {"add": "pmo-gates"} in plan.items[0].payload["update"]["labels"]
    apply_all(store, plan)
    # Fixed: resolved with a comment and a transition to done.
    plan = plan_actions(store, [request(status="passing", outcome="pass")], None, cfg, today=TODAY)
    assert [(i.op, i.payload["transition_to"]) for i in plan.items] == [("resolve", "done")]
    apply_all(store, plan)
    assert plan_actions(store, [request(status="passing")], None, cfg, today=TODAY).items == []
    # Broken again: reopened, new due date, escalation reset.
    later = TODAY + timedelta(days=30)
    plan = plan_actions(store, [request()], None, cfg, today=later)
    assert [i.op for i in plan.items] == ["reopen"]
    assert plan.items[0].ledger.reopen_count == 1
    assert plan.items[0].payload["fields"]["duedate"] == (later + timedelta(days=14)).isoformat()
    apply_all(store, plan)
    with store.session() as session:
        row = load_tickets(session)["a" * 32]
        assert (row.state, row.reopen_count, row.escalation_level) == ("open", 1, 0)


def test_escalation_ladder_each_step_once(store):
    cfg = settings(pmo_lead="acc-lead")
    apply_all(store, plan_actions(store, [request()], None, cfg, today=TODAY))
    due = TODAY + timedelta(days=14)
    fp = "a" * 32
    expected = {1: [f"escalate:{fp}:1"], 7: [f"escalate:{fp}:2"], 14: [f"escalate:{fp}:3"]}
    for late in range(17):
        plan = plan_actions(store, [request()], None, cfg, today=due + timedelta(days=late))
        assert [i.id for i in plan.items] == expected.get(late, []), late
        apply_all(store, plan)
    with store.session() as session:
        assert load_tickets(session)[fp].escalation_level == 3


def test_escalation_payloads_and_catch_up(store):
    cfg = settings(pmo_lead="acc-lead")
    apply_all(store, plan_actions(store, [request()], None, cfg, today=TODAY))
    plan = plan_actions(store, [request()], None, cfg, today=TODAY + timedelta(days=14 + 20))
    assert [i.op for i in plan.items] == ["escalate"] * 3
    first, second, third = (i.payload for i in plan.items)
    assert "overdue" in first["comment"]
    assert second["fields"] == {"priority": {"name": "High"}}
    assert "[~accountid:acc-lead]" in third["comment"]


def test_assign_step_keeps_the_lead_as_assignee_on_later_updates(store):
    cfg = settings(pmo_lead="acc-lead", escalation=[{"after_days": 0, "action": "assign_pmo_lead"}])
    apply_all(store, plan_actions(store, [request()], None, cfg, today=TODAY))
    plan = plan_actions(store, [request()], None, cfg, today=TODAY + timedelta(days=15))
    assert plan.items[0].payload["fields"] == {"assignee": {"accountId": "acc-lead"}}
    apply_all(store, plan)
    update = plan_actions(store, [request(evidence={"x": 1})], None, cfg, today=TODAY + timedelta(days=16))
    assert update.items[0].payload["fields"]["assignee"] == {"accountId": "acc-lead"}


def test_fresh_database_trusts_the_ticket_found_in_jira(store):
    cfg = settings()
    created = plan_actions(store, [request()], None, cfg, today=TODAY).items[0]
    meta = created.payload["properties"][0]["value"]
    remote = RemoteTicket(
        key="ALPHA-9", id="10009", fingerprint="a" * 32, project_key="ALPHA", status="To Do",
        status_category="new", labels=created.payload["fields"]["labels"], metadata=meta,
    )  # fmt: skip
    state = JiraState(tickets={"a" * 32: remote})
    assert plan_actions(store, [request()], None, cfg, today=TODAY, jira_state=state).items == []
    # Closed by a person while still failing: reopened.
    closed = JiraState(tickets={"a" * 32: remote.model_copy(update={"status_category": "done"})})
    plan = plan_actions(store, [request()], None, cfg, today=TODAY, jira_state=closed)
    assert [(i.op, i.target) for i in plan.items] == [("reopen", "ALPHA-9")]
    # Passing while closed in Jira:
    plan = plan_actions(store, [request(status="passing")], None, cfg, today=TODAY, jira_state=closed)
    assert plan.items == []  # already closed in Jira: nothing left to resolve


def review(decision="go", score=90.0, evidence=None) -> ProjectReview:
    return ProjectReview(
        project_key="ALPHA", anchor_issue_key="ALPHA-1", gate="planning", decision=decision, score=score,
        criteria=[CriterionView(rule_id="charter-approved", title="Charter", kind="must_meet", outcome="pass",
                                evidence=evidence or {"has_charter": True})],
        next_steps=["Proceed"], data_hash="x",
    )  # fmt: skip


def test_gate_comment_posted_then_left_alone_then_edited_in_place(store):
    cfg = settings()
    plan = plan_actions(store, [], [review()], cfg, today=TODAY)
    assert [(i.op, i.target) for i in plan.items] == [("post_gate_comment", "ALPHA-1")]
    assert "pmo-gates · gate-review:planning · " in plan.items[0].payload["body"]
    apply_all(store, plan)
    assert plan_actions(store, [], [review()], cfg, today=TODAY + timedelta(days=7)).items == []
    plan = plan_actions(store, [], [review("hold", 40.0)], cfg, today=TODAY)
    assert [(i.op, i.comment_id) for i in plan.items] == [("update_gate_comment", "100")]


def test_adf_target_renders_documents(store):
    plan = plan_actions(store, [request()], [review()], settings(), today=TODAY, target=JiraTarget(markup="adf"))
    assert plan.markup == "adf"
    bodies = [i.payload.get("body") or i.payload["fields"]["description"] for i in plan.items]
    assert all(body["type"] == "doc" for body in bodies)


def test_plan_json_table_and_subset(store):
    plan = plan_actions(store, [request(), request(fingerprint="b" * 32)], [review()], settings(), today=TODAY)
    data = plan.model_dump(mode="json")
    assert data["counts"]["create_ticket"] == 2 and data["counts"]["post_gate_comment"] == 1
    assert '"create_ticket"' in plan.to_json()
    assert plan.render_table().row_count == 3
    assert len(plan.subset(["gate:ALPHA"]).items) == 1
    with pytest.raises(ValueError, match="not in the plan"):
        plan.subset(["nope"])


def test_bad_requests_are_rejected_with_reasons():
    with pytest.raises(ValueError, match="fingerprint"):
        request(fingerprint="has space")
    with pytest.raises(ValueError, match="period"):
        request(period="November")
    with pytest.raises(ValueError, match="labels"):
        request(labels=["two words"])
