"""``run_rca``, ``pmo-gates rca``, the stored results, the Jira comment and the ledger requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from pmo_gates.actions.requests import ActionRequest
from pmo_gates.cli import app
from pmo_gates.config import parse_settings
from pmo_gates.rca.actions import RCA_RULE_ID, previous_period, rca_action_requests, rca_comments, rca_fingerprint
from pmo_gates.rca.comment import escape, render_rca_comment
from pmo_gates.rca.run import playbook_path, run_rca
from pmo_gates.review.markup import flatten_adf, to_wiki
from pmo_gates.store import Store
from pmo_gates.store.models import RcaResult
from tests.fixtures_rca import TODAY, RcaPortfolio, days_ago


def portfolio() -> RcaPortfolio:
    """LATE: delayed by scope creep (6 added items) and a cross-project blocker; FINE: on time."""
    p = RcaPortfolio()
    todo = p.delayed_project()
    for n in range(6):
        p.work("LATE", "To Do", type="Story", created=days_ago(30 - n))
    p.project("OTHER", planned_start=TODAY, planned_end=TODAY + timedelta(days=30))
    blocker = p.work("OTHER", "In Progress", created=days_ago(20))
    for blocked in todo[:4]:
        p.link(blocker, blocked)
    p.on_time_project()
    return p


def settings_for(url: str, extra: str = ""):
    return parse_settings(
        "jira: {url: 'https://example.atlassian.net'}\n"
        "portfolio: {projects: [LATE, FINE, OTHER]}\n"
        f"database: {{url: '{url}'}}\n"
        f"today: {TODAY.isoformat()}\n" + extra
    )


def test_run_rca_keeps_one_result_per_project_and_month(store):
    portfolio().save(store)
    first = run_rca(settings_for(store.url), store=store, now=datetime(2026, 11, 2, 8, tzinfo=UTC))
    run_rca(settings_for(store.url), store=store, now=datetime(2026, 11, 2, 9, tzinfo=UTC))  # same month
    with store.session() as session:
        rows = {r.project_key: r for r in session.scalars(select(RcaResult))}
    assert set(rows) == {"LATE", "FINE", "OTHER"} and all(r.period == "2026-11" for r in rows.values())
    late = rows["LATE"]
    assert late.delayed and late.slip_days == first.projects[1].slip_days
    # the added items nobody holds also count as unstaffed (inferred: no due dates, so a lower confidence)
    assert [c["cause"] for c in late.causes] == ["scope_creep", "dependency_blocked", "unstaffed_work"]
    assert [c["confidence"] for c in late.causes] == [1.0, 1.0, 0.5]
    assert late.causes[0]["evidence"]["numbers"]["added_items"] == 6
    assert [r["id"] for r in late.remedies][:2] == ["change_control", "rebaseline"]
    assert late.analysed_at.replace(tzinfo=UTC) == datetime(2026, 11, 2, 9, tzinfo=UTC)  # updated in place
    assert not rows["FINE"].delayed and rows["FINE"].causes == []


def test_rca_command_prints_the_json_contract(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    portfolio().save(Store(url))
    config = tmp_path / "pmo-gates.yaml"
    config.write_text(
        "jira: {url: 'https://example.atlassian.net'}\n"
        "portfolio: {projects: [LATE, FINE]}\n"
        f"database: {{url: '{url}'}}\n"
        f"today: {TODAY.isoformat()}\n"
    )
    result = CliRunner().invoke(app, ["rca", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["projects"]
    by_key = {p["key"]: p for p in data["projects"]}
    assert set(by_key) == {"LATE", "FINE", "OTHER"}
    for project in data["projects"]:
        assert set(project) >= {"key", "delayed", "slip_days", "causes", "remedies"}  # new keys may be added
        assert set(project) == {
            "key",
            "delayed",
            "slip_days",
            "causes",
            "remedies",
            "unexplained_days",
            "scope_baseline",
        }
        if project["delayed"]:
            explained = sum(c["impact_days"] for c in project["causes"] if c["cause"] != "unexplained")
            assert explained <= project["slip_days"] + 0.5  # rounding of each impact to 0.1 day
            assert project["causes"] and all(0 <= c["confidence"] <= 1 for c in project["causes"])
        scores = [c["score"] for c in project["causes"]]
        assert scores == sorted(scores, reverse=True)
        for cause in project["causes"]:
            assert {"cause", "score", "evidence"} <= set(cause)
    late = by_key["LATE"]
    assert late["delayed"] is True and late["slip_days"] > 14
    assert late["causes"][0]["cause"] == "scope_creep"
    assert late["causes"][1]["evidence"]["projects"] == ["OTHER"]
    assert late["remedies"][0]["kind"] == "change_control"
    fine = {k: by_key["FINE"][k] for k in ("key", "delayed", "slip_days", "causes", "remedies", "unexplained_days")}
    assert fine == {
        "key": "FINE",
        "delayed": False,
        "slip_days": 0.0,
        "causes": [],
        "remedies": [],
        "unexplained_days": None,
    }
    assert by_key["FINE"]["scope_baseline"]["source"] == "mapped"

    table = CliRunner().invoke(app, ["rca", "--config", str(config)])
    assert table.exit_code == 0 and "LATE" in table.output and "scope_creep" in table.output


def test_rca_command_reports_a_bad_playbook_with_its_position(tmp_path):
    bad = tmp_path / "rules" / "rca.yaml"
    bad.parent.mkdir()
    bad.write_text("kind: rca-playbook\ndetection:\n  slip_days: -1\n")
    config = tmp_path / "pmo-gates.yaml"
    config.write_text(
        "jira: {url: 'https://example.atlassian.net'}\nportfolio: {projects: [A]}\n"
        f"database: {{url: 'sqlite:///{tmp_path / 'store.db'}'}}\nrules: {{paths: ['{bad.parent}']}}\n"
    )
    result = CliRunner().invoke(app, ["rca", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{bad}:3:14: detection.slip_days: Input should be greater than or equal to 0" in result.output


def test_playbook_path_prefers_the_configured_rule_folders(tmp_path):
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "rca.yaml").write_text("kind: rca-playbook\n")
    settings = settings_for("sqlite://", f"rules: {{paths: ['{tmp_path}']}}\n")
    assert playbook_path(settings, "rca.yaml") == tmp_path / "playbooks" / "rca.yaml"
    assert playbook_path(None, "rca.yaml").is_file()  # the shipped one


@pytest.fixture
def late_report(sqlite_store):
    portfolio().save(sqlite_store)
    return run_rca(settings_for(sqlite_store.url), store=sqlite_store, persist=False)


def test_comment_shows_causes_evidence_and_remedies_in_wiki_markup(late_report):
    late = next(p for p in late_report.projects if p.key == "LATE")
    text = render_rca_comment(late)
    assert text.startswith("h3. Delay root-cause analysis 2026-11\n*LATE* is *")
    assert "||#||Cause||Share of delay||Est. days||Confidence||What we found||" in text
    assert "|1|Scope creep after the baseline (scope\\_creep)|" in text and "({{scope\\_creep}})" in text
    assert "h4. Evidence" in text and "OTHER-1 (In Progress)" in text
    assert "h4. What to do (PMO playbook)" in text and "# *Put scope changes under change control*" in text
    fine = next(p for p in late_report.projects if p.key == "FINE")
    assert "no delay to analyse" in render_rca_comment(fine)


def test_escape_keeps_user_text_from_breaking_the_markup():
    assert escape("QA|UAT {x} [link] *bold* -strike-") == r"QA\|UAT \{x\} \[link\] \*bold\* \-strike-"
    assert escape("2026-11-02 and In-Review") == "2026-11-02 and In-Review"


def test_action_requests_one_per_project_and_month(late_report):
    requests = {(r.project_key, r.period): r for r in rca_action_requests(late_report)}
    late, fine = requests[("LATE", "2026-11")], requests[("FINE", "2026-11")]
    assert isinstance(late, ActionRequest)
    assert (late.kind, late.rule_id, late.period, late.status, late.rollout) == (
        "rca",
        RCA_RULE_ID,
        "2026-11",
        "failing",
        "mandatory",
    )
    assert late.fingerprint == rca_fingerprint("LATE", "2026-11") != rca_fingerprint("LATE", "2026-12")
    assert late.owner == "pm-1" and late.severity == "high"
    assert late.summary.startswith("[PMO] LATE: ") and "top cause: Scope creep after the baseline" in late.summary
    assert "1. Scope creep after the baseline" in late.description
    assert late.evidence["causes"] == {c.cause: c.share for c in late_report.projects[1].causes}
    assert late.next_steps[0].startswith("Put scope changes under change control: ")
    assert fine.status == "passing" and fine.fingerprint == rca_fingerprint("FINE", "2026-11")
    # last month's ticket of every judged project is superseded (resolved if it is still open)
    october = requests[("LATE", "2026-10")]
    assert october.status == "passing" and october.fingerprint == rca_fingerprint("LATE", "2026-10")
    assert october.outcome == "superseded by the 2026-11 analysis"
    # OTHER starts today: not judged yet, so no request touches its tickets
    assert set(requests) == {(key, month) for key in ("LATE", "FINE") for month in ("2026-10", "2026-11")}


def test_previous_period_wraps_the_year():
    assert previous_period("2026-01") == "2025-12" and previous_period("2026-11") == "2026-10"


def test_comments_go_to_the_anchor_issue_of_delayed_projects(late_report):
    comments = rca_comments(late_report)
    assert [(c.project_key, c.anchor_issue_key, c.purpose) for c in comments] == [("LATE", "LATE-1", "rca:2026-11")]
    assert to_wiki(comments[0].blocks) == render_rca_comment(late_report.projects[1])
    adf = render_rca_comment(late_report.projects[1], markup="adf")
    assert adf["type"] == "doc" and "Scope creep after the baseline" in flatten_adf(adf)
