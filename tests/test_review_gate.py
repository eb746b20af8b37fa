"""Gate reviews: decisions, decision records and their history, and the rendered comment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pmo_gates.review import render_gate_comment, render_gate_comment_adf, review_portfolio
from pmo_gates.review.markup import Table as TableBlock
from pmo_gates.review.markup import find_marker, flatten_adf, to_wiki
from pmo_gates.review.records import facts_hash, history, rule_files_hash
from pmo_gates.store.models import Project
from tests.fixtures_actions import facts, rule_set

TODAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def _projects(store):
    with store.session() as session:
        for key in ("ALPHA", "BETA"):
            session.add(Project(key=key, jira_id=key, name=key.title(), anchor_issue_key=f"{key}-1", synced_at=NOW))


def test_review_decides_and_records_with_evidence(store, tmp_path):
    _projects(store)
    rules = rule_set(tmp_path)
    data = facts(ALPHA={}, BETA={"has_charter": False}, GAMMA={"current_gate": None})
    result = review_portfolio(store, rules, data, today=TODAY, rules_hash=rules.digest, rules_commit="abc", now=NOW)
    by_key = {r.project_key: r for r in result.reviews}
    assert by_key["ALPHA"].decision == "go" and by_key["ALPHA"].score == 100
    assert by_key["BETA"].decision == "recycle"
    assert by_key["BETA"].failed_must_meet == ["charter-approved"]
    assert by_key["BETA"].anchor_issue_key == "BETA-1"
    assert any("charter" in step for step in by_key["BETA"].next_steps)
    assert result.without_gate == ["GAMMA"]
    assert result.recorded == 2
    with store.session() as session:
        (row,) = history(session, "BETA")
        assert (row.gate, row.decision, row.rules_hash, row.rules_commit) == (
            "planning",
            "recycle",
            rules.digest,
            "abc",
        )
        assert row.data_hash == facts_hash(data["BETA"])
        charter = next(c for c in row.criteria if c["rule_id"] == "charter-approved")
        assert charter["outcome"] == "fail" and charter["evidence"]["has_charter"] is False


def test_identical_rerun_same_day_adds_no_row_new_day_or_change_does(store, tmp_path):
    _projects(store)
    rules = rule_set(tmp_path)
    data = facts(ALPHA={})

    def run(day, values, approver=None):
        return review_portfolio(
            store, rules, values, today=day, rules_hash=rules.digest, approved_by=approver,
            now=datetime.combine(day, NOW.timetz()),
        )  # fmt: skip

    assert run(TODAY, data).recorded == 1
    assert run(TODAY, data).recorded == 0
    assert run(TODAY, facts(ALPHA={"has_project_manager": False})).recorded == 1  # changed data
    assert run(TODAY, facts(ALPHA={"has_project_manager": False}), "pmo-lead").recorded == 1  # approver
    assert run(TODAY + timedelta(days=7), facts(ALPHA={"has_project_manager": False}), "pmo-lead").recorded == 1
    with store.session() as session:
        decisions = [(r.decision, r.evaluated_at.date()) for r in history(session, "ALPHA")]
    assert decisions[0] == ("go", TODAY) and decisions[-1][1] == TODAY + timedelta(days=7)
    assert len(decisions) == 4


def test_rule_files_hash_is_content_and_order_stable(tmp_path):
    (tmp_path / "b.yaml").write_text("b")
    (tmp_path / "a.yml").write_text("a")
    first = rule_files_hash([tmp_path])
    assert first == rule_files_hash([tmp_path / "a.yml", tmp_path / "b.yaml"])
    (tmp_path / "b.yaml").write_text("changed")
    assert rule_files_hash([tmp_path]) != first


def test_comment_renders_table_decision_and_next_steps(store, tmp_path):
    _projects(store)
    rules = rule_set(tmp_path)
    data = facts(BETA={"has_charter": False, "has_project_manager": None})
    (review,) = review_portfolio(store, rules, data, today=TODAY, rules_hash="f" * 64, now=NOW).reviews
    wiki = render_gate_comment(review, rules_hash="f" * 64)
    assert "h3. Gate review: planning gate of BETA" in wiki
    assert "Decision: *Recycle*" in wiki
    assert "||Criterion||Type||Result||Evidence||" in wiki
    assert "|Project has an approved charter|must-meet|FAIL|has\\_charter=no;" in wiki
    assert "no data" in wiki and "What to do next" in wiki and "ffffffffffff" in wiki
    adf = render_gate_comment_adf(review)
    assert adf["type"] == "doc" and adf["version"] == 1
    assert [n["type"] for n in adf["content"]][:3] == ["heading", "paragraph", "table"]
    assert "Recycle" in flatten_adf(adf)


def test_wiki_escapes_markup_in_values_and_markers_round_trip():
    table = TableBlock(header=["a|b"], rows=[["[link]{code}*bold*"]])
    assert to_wiki([table]) == "||a\\|b||\n|\\[link\\]\\{code\\}\\*bold\\*|"
    from pmo_gates.review.markup import Marker, to_adf

    marker = Marker(purpose="gate-review:planning", content_hash="0123456789abcdef")
    assert find_marker(to_wiki([marker])) == ("gate-review:planning", "0123456789ab")
    assert find_marker(flatten_adf(to_adf([marker]))) == ("gate-review:planning", "0123456789ab")
