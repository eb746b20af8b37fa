"""A PMO can explain every answer from the terminal: why each decision, which projects were not judged and
why, numbers as people write them, no Python dicts."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from rich.console import Console

from pmo_gates.actions.payloads import evidence_table
from pmo_gates.commands.review import print_not_judged, scorecard
from pmo_gates.formatting import number, plain
from pmo_gates.review import render_gate_comment, review_portfolio
from pmo_gates.review.markup import to_wiki
from pmo_gates.store.models import Project
from tests.fixtures_actions import facts, rule_set

TODAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (53700.0, "53,700"),
        (53712.45, "53,712"),
        (1234567, "1,234,567"),
        (12.5, "12.5"),
        (0.8456, "0.85"),
        (1.0, "1"),
        (0.0031, "0.0031"),
        (0.0, "0"),
        (-5.0, "-5"),
        (float("nan"), "unknown"),
        (2.5e9, "2,500,000,000"),
    ],
)
def test_numbers_are_written_for_people(value: float, text: str) -> None:
    assert number(value) == text
    assert "e+" not in number(value) and "e-" not in number(value)


def test_no_python_dicts_or_lists_in_text() -> None:
    assert plain({"create_ticket": 3, "comment": 2}) == "create_ticket 3, comment 2"
    assert plain([1.5, None, date(2026, 1, 2)]) == "1.5, unknown, 2026-01-02"
    assert plain({}) == "none" and plain(True) == "yes"


def _render(renderable: object) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _review(store, tmp_path, **projects):
    with store.session() as session:
        for key in projects:
            session.add(Project(key=key, jira_id=key, name=key, anchor_issue_key=f"{key}-1", synced_at=NOW))
    rules = rule_set(tmp_path)
    return review_portfolio(store, rules, facts(**projects), today=TODAY, rules_hash=rules.digest, now=NOW)


def test_the_table_says_why_even_when_a_must_meet_has_no_data(sqlite_store, tmp_path) -> None:
    result = _review(sqlite_store, tmp_path, ALPHA={}, BETA={"has_charter": None}, GAMMA={"has_charter": False})
    by_key = {r.project_key: r for r in result.reviews}
    # BETA is recycled for a must-meet without data: failed_must_meet (outcome fail) is empty, the reason is not.
    assert by_key["BETA"].decision == "recycle" and by_key["BETA"].failed_must_meet == []
    assert by_key["BETA"].why() == "missed must-meet: charter-approved (no data)"
    assert by_key["GAMMA"].why() == "missed must-meet: charter-approved"
    assert "score 100 >= 80" in by_key["ALPHA"].why()
    text = _render(scorecard(result))
    assert "why" in text and "charter-approved (no data)" in text and "score 100 >= 80" in text
    assert {row["project"]: row["why"] for row in result.summary()}["BETA"].startswith("missed must-meet")


def test_projects_that_could_not_be_reviewed_are_listed_with_the_reason(sqlite_store, tmp_path) -> None:
    result = _review(
        sqlite_store,
        tmp_path,
        ALPHA={},
        NOPHASE={"phase": None, "current_gate": None},
        DONE={"phase": "closed", "current_gate": None},
    )
    assert result.without_gate == ["DONE", "NOPHASE"]
    assert "fields.phase" in result.not_judged["NOPHASE"] and "closed" in result.not_judged["DONE"]
    console = Console(file=io.StringIO(), width=200, color_system=None)
    print_not_judged(result, console)
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0].startswith("not reviewed: DONE: closed") and lines[1].startswith("not reviewed: NOPHASE: no")


def test_gate_comment_and_ticket_evidence_write_numbers_for_people(sqlite_store, tmp_path) -> None:
    (review,) = _review(sqlite_store, tmp_path, ALPHA={"budget": 53700.0}).reviews
    patched = review.model_copy(
        update={
            "criteria": [c.model_copy(update={"evidence": {"budget": 53700.0, "spi": 0.8456}}) for c in review.criteria]
        }
    )
    comment = render_gate_comment(patched)
    assert "53,700" in comment and "0.85" in comment and "e+04" not in comment
    ticket = to_wiki(evidence_table({"eac": 537000.0, "by_status": {"Done": 3}}))
    assert "537,000" in ticket and "Done 3" in ticket and "{" not in ticket.replace("{noformat}", "")
