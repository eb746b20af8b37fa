"""One slip figure everywhere, and a gate never says "go" for a project the delay analysis calls late:
the bundled sample through the real sync, facts, rules, gate review and root-cause analysis."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmo_gates.actions.from_findings import OwnerDirectory, requests_from_evaluation
from pmo_gates.actions.run import load_inputs
from pmo_gates.connectors.sync import sync_portfolio
from pmo_gates.rca.actions import rca_action_requests
from pmo_gates.rca.detect import DetectionThresholds, assess_schedule
from pmo_gates.rca.run import run_rca
from pmo_gates.review import review_portfolio
from pmo_gates.rules.facts.builtin.delay import delay_of
from pmo_gates.sandbox import SandboxServer, sample_portfolio_path
from pmo_gates.sandbox.generate import SAMPLE_TODAY
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sandbox_actions import connection
from tests.fixtures_sandbox_actions import settings as sandbox_settings


@pytest.fixture(scope="module", params=FLAVOURS)
def sample(tmp_path_factory, request):
    from pmo_gates.store import Store

    store = Store(f"sqlite:///{tmp_path_factory.mktemp('delay') / 'store.db'}")
    with SandboxServer(sample_portfolio_path(), flavour=request.param, index_lag=STRICT_INDEX_LAG) as sandbox:
        cfg = sandbox_settings(sandbox.url)
        keys = sorted(p["key"] for p in sandbox.state.projects())
        cfg = cfg.model_copy(
            update={"portfolio": cfg.portfolio.model_copy(update={"projects": keys}), "today": SAMPLE_TODAY}
        )
        sync_portfolio(connection(sandbox.url, request.param), store, cfg, full=True)
    inputs = load_inputs(cfg, store, today=SAMPLE_TODAY)
    report = run_rca(cfg, store=store, persist=False)
    review = review_portfolio(
        store, inputs.rule_set, inputs.facts, today=SAMPLE_TODAY, rules_hash=inputs.rule_set.digest
    )
    yield inputs, report, review
    store.dispose()


def test_rca_quotes_the_delay_days_fact(sample) -> None:
    inputs, report, _ = sample
    assert report.delayed, "the sample has late projects"
    for project in report.projects:
        assert project.slip_days == inputs.facts[project.key]["delay_days"], project.key


def test_tickets_say_the_same_number_as_rca(sample) -> None:
    inputs, report, _ = sample
    slips = {p.key: p.slip_days for p in report.delayed}
    rule_tickets = [
        f for f in inputs.evaluation.findings if f.rule_id == "project-on-schedule" and f.outcome.value == "fail"
    ]
    assert rule_tickets, "late projects fail project-on-schedule"
    tickets = [r for r in rca_action_requests(report) if r.status == "failing"]
    assert {r.project_key for r in tickets} == set(slips)
    for request in tickets:
        number = re.search(r"(\d+) days late", request.summary)
        assert number is not None and float(number.group(1)) == slips[request.project_key], request.summary
    owners = OwnerDirectory(set(), {}, None)
    rule_requests = requests_from_evaluation(
        inputs.evaluation, inputs.rule_set, owners, rules=["project-on-schedule", "delay-analysed-monthly"]
    )
    failing = [r for r in rule_requests if r.status == "failing"]
    assert failing
    for request in failing:
        number = re.search(r"(\d+) days late", request.summary)
        assert number is not None, request.summary
        assert float(number.group(1)) == inputs.facts[request.project_key]["delay_days"], request.summary
        if request.project_key in slips:
            assert float(number.group(1)) == slips[request.project_key], request.summary


def test_no_go_for_a_project_the_analysis_calls_late(sample) -> None:
    _, report, review = sample
    delayed = {p.key for p in report.delayed}
    decisions = {r.project_key: r for r in review.reviews}
    judged_late = [decisions[k] for k in delayed if k in decisions and decisions[k].gate == "execution"]
    assert judged_late, "the sample has late projects in execution"
    for r in judged_late:
        assert r.decision != "go", (r.project_key, r.why())
        assert "project-on-schedule" in r.why()


dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    slip=st.one_of(st.none(), st.integers(-60, 400)),
    spi=st.one_of(st.none(), st.floats(0, 1.5)),
    pct=st.one_of(st.none(), st.floats(0, 100)),
    start=st.one_of(st.none(), dates),
    length=st.integers(1, 700),
    today=dates,
)
def test_delayed_by_the_analysis_means_over_the_rule_threshold(slip, spi, pct, start, length, today) -> None:
    """With the shipped thresholds (rule 14 days, playbook 14/14), whatever the facts: rca delayed implies
    delay_days > 14, so project-on-schedule (a must-meet) fails and the gate cannot be go."""
    end = (start or date(2026, 1, 1)).fromordinal((start or date(2026, 1, 1)).toordinal() + length)
    facts = {"planned_start": start, "planned_end": end, "schedule_slip_days": slip, "spi": spi,
             "percent_complete_issues": pct}  # fmt: skip
    facts["delay_days"] = delay_of(
        slip=slip, spi=spi, percent_complete=pct, start=start, end=end, finished=False, today=today
    )
    status = assess_schedule(facts, DetectionThresholds(), today)
    assert status.slip_days == facts["delay_days"]
    if status.delayed:
        assert facts["delay_days"] is not None and facts["delay_days"] > 14
