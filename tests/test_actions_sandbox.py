"""Corrective actions and gate-review comments end to end: the real ``jira`` client over HTTP against the
sandbox, the ledger on SQLite and PostgreSQL, with faults, crashes, a lost database and two workers."""

from __future__ import annotations

import json
import logging
import math
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from pmo_gates.actions import apply as apply_module
from pmo_gates.actions.ledger import fingerprint_label, load_tickets
from pmo_gates.actions.requests import ActionRequest
from pmo_gates.actions.run import run_actions
from pmo_gates.connectors import jira_writes
from pmo_gates.connectors.errors import AmbiguousWriteError
from pmo_gates.review import review_portfolio
from pmo_gates.review.markup import find_marker
from pmo_gates.store import Store
from tests.fixtures_sandbox import STRICT_INDEX_LAG
from tests.fixtures_sandbox_actions import TOKEN, world

TODAY = date(2026, 11, 2)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, tzinfo=UTC)


def run(w, today, review=False, **facts):
    inputs = w.inputs(today, **facts)
    result = None
    if review:
        result = review_portfolio(
            w.store, w.rules, inputs.facts, today=today, rules_hash=w.rules.digest, evaluation=inputs.evaluation,
            now=at(today),
        )  # fmt: skip
    client = w.client()
    try:
        return run_actions(
            w.settings, store=w.store, client=client, today=today, now=at(today), inputs=inputs, review=result
        )
    finally:
        client.close()


def comments_with(w, key, purpose_prefix):
    return [
        c
        for c in w.sandbox.state.comments(key)
        if (m := find_marker(str(c.get("body")))) and m[0].startswith(purpose_prefix)
    ]


def test_ticket_lifecycle_and_zero_writes_on_unchanged_rerun(store, tmp_path, sandbox_flavour):
    with world(store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        bad, advisory = w.projects[0], w.projects[1]
        broken = {bad: {"has_charter": False}, advisory: {"has_project_manager": False}}
        first = run(w, TODAY, review=True, **broken)
        assert not first.applied.failed, first.applied.failed
        (ticket,) = w.our_tickets()
        fields = ticket["fields"]
        assert fields["summary"] == f"[PMO] {bad}: link the approved project charter"
        assert "pmo-gates" in fields["labels"] and any(label.startswith("pmo-fp-") for label in fields["labels"])
        assert fields["duedate"] == "2026-11-16"
        assert w.sandbox.state.properties(ticket["key"])["pmo-gates"]["state"] == "open"
        assert len(comments_with(w, w.anchors[bad], "gate-review:planning")) == 1
        assert len(comments_with(w, w.anchors[advisory], "advisory:manager-named")) == 1

        w.sandbox.requests.reset()
        again = run(w, TODAY, review=True, **broken)
        assert again.plan.items == [] and w.sandbox.requests.writes() == []
        w.sandbox.requests.reset()
        run(w, TODAY + timedelta(days=3), **broken)  # later day, same data, not yet overdue
        assert w.sandbox.requests.writes() == []

        fixed = run(w, TODAY + timedelta(days=4))
        assert [i.op for i in fixed.plan.items] == ["resolve"]
        (ticket,) = w.our_tickets()
        assert ticket["fields"]["status"]["statusCategory"]["key"] == "done"
        assert comments_with(w, ticket["key"], "resolve")

        reopened = run(w, TODAY + timedelta(days=10), **broken)
        assert [i.op for i in reopened.plan.items] == ["reopen"]
        (ticket,) = w.our_tickets()
        assert ticket["fields"]["status"]["statusCategory"]["key"] != "done"
        with w.store.session() as session:
            row = next(iter(load_tickets(session).values()))
            assert (row.state, row.reopen_count, row.ticket_key) == ("open", 1, ticket["key"])


def test_overdue_ticket_climbs_the_ladder_once_per_step(store, tmp_path, sandbox_flavour):
    with world(store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        bad = {w.projects[0]: {"has_charter": False}}
        run(w, TODAY, **bad)
        due = TODAY + timedelta(days=14)
        ops = {}
        for late in (0, 1, 2, 7, 8, 14, 15):
            ops[late] = [i.id.rsplit(":", 1)[-1] for i in run(w, due + timedelta(days=late), **bad).plan.items]
        assert ops == {0: [], 1: ["1"], 2: [], 7: ["2"], 8: [], 14: ["3"], 15: []}
        (ticket,) = w.our_tickets()
        assert ticket["fields"]["priority"]["name"] == "High"
        assert len(comments_with(w, ticket["key"], "escalation-")) == 3
        mention = comments_with(w, ticket["key"], "escalation-3")[0]
        assert w.settings.actions.pmo_lead in json.dumps(mention["body"])


def test_crash_after_jira_created_before_the_store_recorded(store, tmp_path, monkeypatch, sandbox_flavour):
    with world(store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        bad = {w.projects[0]: {"has_charter": False}, w.projects[1]: {"has_charter": False}}
        original = apply_module._Applier.record_created

        def crash(self, item, key, ticket_id):
            raise RuntimeError("killed between Jira's answer and our commit")

        monkeypatch.setattr(apply_module._Applier, "record_created", crash)
        with pytest.raises(RuntimeError, match="killed"):
            run(w, TODAY, **bad)
        assert len(w.our_tickets()) == 2
        with w.store.session() as session:
            assert load_tickets(session) == {}
        monkeypatch.setattr(apply_module._Applier, "record_created", original)
        # At once (a flow retry): search does not show the two tickets yet, so nothing is sent again.
        again = run(w, TODAY, **bad)
        summary = again.summary()
        assert len(summary["deferred"]) == 2 and summary["created"] == [] and summary["create_calls"] == 0
        assert len(w.our_tickets()) == 2
        # Later, past the search lag allowance and the index lag: found and adopted, still none created.
        w.settings = w.settings.model_copy(
            update={"jira": w.settings.jira.model_copy(update={"search_lag_seconds": 0})}
        )
        w.sandbox.state.settle_index()
        later = run(w, TODAY, **bad)
        assert later.adopted["tickets"] == 2 and later.plan.counts["create_ticket"] == 0
        assert len(w.our_tickets()) == 2


def test_rate_limits_503s_and_lost_responses_during_bulk_create(store, tmp_path, monkeypatch, sandbox_flavour):
    from pmo_gates.sandbox import FaultRule

    with world(store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        w.sandbox.faults.add(FaultRule.rate_limit(count=2, retry_after=0, method="POST", path=r"/issue/bulk$"))
        w.sandbox.faults.add(FaultRule.server_error(503, count=1, method="POST", path=r"/issue/bulk$"))
        bad = {key: {"has_charter": False} for key in w.projects[:3]}
        result = run(w, TODAY, **bad)
        assert not result.applied.failed and len(w.our_tickets()) == 3

        # Jira creates, the answer is lost: found by label, never sent twice.
        real = jira_writes.bulk_create
        calls = []

        def lost_answer(client, issues, *, api="2"):
            calls.append(len(issues))
            real(client, issues, api=api)
            if len(calls) == 1:
                raise AmbiguousWriteError("POST /issue/bulk: connection lost", method="POST", path="/issue/bulk")
            raise AssertionError("re-sent a create that Jira already had")

        monkeypatch.setattr(jira_writes, "bulk_create", lost_answer)
        more = {key: {"has_charter": False} for key in w.projects[:5]}
        result = run(w, TODAY, **more)
        assert calls == [2]
        assert {r.status for r in result.applied.items if r.op == "create_ticket"} == {"adopted"}
        assert len(w.our_tickets()) == 5


def test_fresh_database_finds_existing_tickets_and_comments(sqlite_store, tmp_path, sandbox_flavour):
    with world(sqlite_store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        bad = {key: {"has_charter": False} for key in w.projects[:2]}
        run(w, TODAY, review=True, **bad)
        tickets = {t["key"] for t in w.our_tickets()}
        w.sandbox.state.settle_index()  # the store is lost later, once Jira's search shows our writes
        fresh = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
        try:
            from pmo_gates.connectors.sync import sync_portfolio
            from tests.fixtures_sandbox_actions import connection

            sync_portfolio(connection(w.sandbox.url, w.flavour), fresh, w.settings, full=True)
            w.store, original = fresh, w.store
            w.sandbox.requests.reset()
            result = run(w, TODAY, review=True, **bad)
            w.store = original
        finally:
            fresh.dispose()
        assert result.plan.counts["create_ticket"] == 0 and result.plan.counts["post_gate_comment"] == 0
        assert {t["key"] for t in w.our_tickets()} == tickets
        assert w.sandbox.requests.writes() == []


def test_bulk_creation_uses_ceil_n_over_50_calls(sqlite_store, tmp_path, sandbox_flavour):
    with world(sqlite_store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        requests = [
            ActionRequest(
                fingerprint=f"rca-{i:03d}",
                kind="rca",
                rule_id="blocked-by-dependencies",
                project_key=w.projects[i % len(w.projects)],
                period="2026-11",
                status="failing",
                summary=f"[PMO] delay cause {i}",
                description="Blocked by another project.",
                due_days=7,
            )
            for i in range(120)
        ]
        client = w.client()
        try:
            result = run_actions(
                w.settings, store=w.store, client=client, today=TODAY, now=at(TODAY), inputs=w.inputs(TODAY),
                extra_requests=requests,
            )  # fmt: skip
        finally:
            client.close()
        assert result.applied.create_calls == math.ceil(120 / 50)
        assert w.sandbox.requests.count("POST", "/rest/api/2/issue/bulk") == 3
        labels = {label for t in w.our_tickets() for label in t["fields"]["labels"]}
        assert fingerprint_label("rca-119") in labels and len(w.our_tickets()) == 120


@pytest.mark.postgres
def test_two_workers_at_once_create_no_duplicates(pg_store, tmp_path, sandbox_flavour):
    with world(pg_store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        bad = {key: {"has_charter": False} for key in w.projects}
        errors = []

        def worker():
            try:
                run(w, TODAY, **bad)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert errors == []
        fingerprints = [
            label for t in w.our_tickets() for label in t["fields"]["labels"] if label.startswith("pmo-fp-")
        ]
        assert len(fingerprints) == len(set(fingerprints)) == len(w.projects)


def test_data_center_flavour_and_no_token_anywhere(store, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with world(store, tmp_path, flavour="dc") as w:
        run(w, TODAY, review=True, **{w.projects[0]: {"has_charter": False}})
        (ticket,) = w.our_tickets()
        assert isinstance(ticket["fields"]["description"], str)
        # Data Center takes {"name": login}: the ticket went to a person known by that login, not by a key.
        assignee = ticket["fields"]["assignee"]
        assert assignee and w.sandbox.state.site.user_by_name(assignee["name"]) is not None
        dump = json.dumps(
            [w.sandbox.state.issues(), [w.sandbox.state.comments(k) for k in w.anchors.values()]], default=str
        )
        assert TOKEN not in dump and TOKEN not in caplog.text
        with w.store.session() as session:
            assert TOKEN not in json.dumps([r.__dict__ for r in load_tickets(session).values()], default=str)


def test_cloud_rest_v3_sends_adf_bodies(sqlite_store, tmp_path):
    with world(sqlite_store, tmp_path) as w:
        inputs = w.inputs(TODAY, **{w.projects[0]: {"has_charter": False}})
        review = review_portfolio(
            w.store, w.rules, inputs.facts, today=TODAY, rules_hash=w.rules.digest, evaluation=inputs.evaluation
        )
        client = w.client()
        try:
            result = run_actions(
                w.settings, store=w.store, client=client, today=TODAY, now=at(TODAY), inputs=inputs, review=review,
                markup="adf",
            )  # fmt: skip
        finally:
            client.close()
        assert not result.applied.failed
        assert w.sandbox.requests.count("POST", "/rest/api/3/issue/bulk") == 1
        assert w.sandbox.requests.count("POST", "/rest/api/3/issue/") >= len(w.projects)  # gate comments
        (ticket,) = w.our_tickets()
        assert "charter" in json.dumps(ticket["fields"]["description"])


@pytest.mark.postgres
def test_two_worker_processes_share_a_postgresql_store_without_duplicates(pg_store, tmp_path, sandbox_flavour):
    """Two separate ``pmo-gates actions`` processes at once, as two Prefect workers would run them: the
    PostgreSQL advisory lock serialises plan and apply, so every ticket exists once."""
    import os
    import subprocess
    import sys

    from ruamel.yaml import YAML

    with world(pg_store, tmp_path, sandbox_flavour, index_lag=STRICT_INDEX_LAG) as w:
        config = w.settings.model_dump(mode="json", exclude_none=True)
        config["jira"]["auth"] = {"email": "pmo-bot@example.com", "token_env": "PMO_TWO_WORKERS_TOKEN"}
        config["database"] = {"url": pg_store.url}
        config["today"] = TODAY.isoformat()
        path = tmp_path / "pmo-gates.yaml"
        with path.open("w") as handle:
            YAML().dump(config, handle)
        env = {**os.environ, "PMO_TWO_WORKERS_TOKEN": TOKEN}
        command = [sys.executable, "-m", "pmo_gates.cli", "actions", "--config", str(path), "--json"]
        workers = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outputs = [worker.communicate(timeout=240) for worker in workers]
        assert [worker.returncode for worker in workers] == [0, 0], [err[-2000:] for _, err in outputs]
        created = [json.loads(out)["result"]["created"] for out, _ in outputs]
        fingerprints = [
            label for t in w.our_tickets() for label in t["fields"]["labels"] if label.startswith("pmo-fp-")
        ]
        assert fingerprints and len(fingerprints) == len(set(fingerprints))
        assert sorted(created[0] + created[1]) == sorted(t["key"] for t in w.our_tickets())
        assert min(len(keys) for keys in created) == 0  # the second worker found everything done
        assert TOKEN not in outputs[0][1] + outputs[1][1]


def test_data_center_people_keep_key_and_login_and_writes_use_the_login(store, tmp_path):
    """Data Center names a person by login (``name``) and by an immutable user key (``JIRAUSER12345``); the
    store keeps both, and every write (assignee, ``[~login]`` mention) goes out by login, even when the PMO
    lead is configured by key (DC answers ``User 'JIRAUSER10000' does not exist`` to a key)."""
    from pmo_gates.store.models import Person

    with world(store, tmp_path, flavour="dc") as w:
        login = w.settings.actions.pmo_lead
        site = w.sandbox.state.site
        key = site.dc_key(site.user_by_name(login))
        assert key.startswith("JIRAUSER") and key != login
        with w.store.session() as session:
            person = session.get(Person, login)
            assert (person.user_key, person.login) == (key, login)
        w.settings = w.settings.model_copy(update={"actions": w.settings.actions.model_copy(update={"pmo_lead": key})})
        bad = {w.projects[0]: {"has_charter": False}}
        first = run(w, TODAY, **bad)
        assert not first.applied.failed, first.applied.failed
        late = run(w, TODAY + timedelta(days=14 + 15), **bad)
        assert not late.applied.failed, late.applied.failed
        (ticket,) = w.our_tickets()
        mention = comments_with(w, ticket["key"], "escalation-3")[0]
        assert f"[~{login}]" in mention["body"] and key not in mention["body"]
        assignee = ticket["fields"]["assignee"]
        assert assignee["name"] == login and assignee["key"] == key
