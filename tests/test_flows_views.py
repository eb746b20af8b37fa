"""What the flows show (no Prefect server): artifact keys, tables and markdown, secret scrubbing, summaries."""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

import pytest

from pmo_gates.actions.apply import ApplyResult, ItemResult
from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.run import ActionsRun
from pmo_gates.flows import artifacts
from pmo_gates.flows.approval import ApprovalDecision
from pmo_gates.flows.artifacts import ArtifactPublisher, artifact_key, markdown_table
from pmo_gates.flows.results import actions_summary
from pmo_gates.flows.views import approval_markdown, attention_first, plan_markdown, portfolio_markdown, scorecard_rows
from pmo_gates.review.models import CriterionView, ProjectReview, ReviewResult

TOKEN = "tok-3f9a1c2e7b"


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("scorecard", "ABC_1"), "scorecard-abc-1"),
        (("Gate Review", "Plan"), "gate-review-plan"),
        (("report", "cost/EVM  table"), "report-cost-evm-table"),
        (("--x--",), "x"),
    ],
)
def test_artifact_keys_are_lowercase_letters_digits_and_dashes(parts: tuple[str, ...], key: str) -> None:
    assert artifact_key(*parts) == key


def test_an_artifact_key_needs_some_letters_or_digits() -> None:
    with pytest.raises(ValueError, match="no artifact key"):
        artifact_key("!!", "")


def test_markdown_table_escapes_pipes_and_newlines() -> None:
    text = markdown_table([{"a": "x|y", "b": "one\ntwo", "c": ["p", "q"], "d": None}])
    assert text.splitlines() == ["| a | b | c | d |", "|---|---|---|---|", "| x\\|y | one two | p, q |  |"]
    assert markdown_table([]) == "_(none)_"


def test_publisher_scrubs_the_token_and_its_basic_auth_form(monkeypatch) -> None:
    sent: list[dict[str, Any]] = []
    for name in ("create_markdown_artifact", "create_table_artifact", "create_link_artifact"):
        monkeypatch.setattr(artifacts, name, lambda _n=name, **kw: sent.append({"fn": _n, **kw}))
    basic = base64.b64encode(f"pmo@example.com:{TOKEN}".encode()).decode()
    publisher = ArtifactPublisher([TOKEN], email="pmo@example.com")
    publisher.markdown("Plan Summary", f"token {TOKEN} and Basic {basic}", f"about {TOKEN}")
    publisher.table("plan", [{"reason": f"saw {TOKEN}", "when": date(2026, 11, 2), "n": 3}])
    publisher.link("report-html", f"https://example.com/?t={TOKEN}", "report")
    text = repr(sent)
    assert TOKEN not in text and basic not in text
    assert [s["key"] for s in sent] == ["plan-summary", "plan", "report-html"]
    assert sent[1]["table"] == [{"reason": "saw ***", "when": "2026-11-02", "n": 3}]


def item(item_id: str, op: str = "create_ticket", project: str = "ALPHA") -> PlanItem:
    return PlanItem(id=item_id, op=op, project_key=project, reason="rule | fails", payload={})


def test_plan_markdown_counts_items_and_explains_approval() -> None:
    plan = Plan(items=[item("create:a"), item("resolve:b", op="resolve")], unchanged=4, warnings=["careful"])
    text = plan_markdown(plan, "corrective-actions", approval=True)
    assert "**2 change(s)**: create_ticket 1, resolve 1" in text and "Unchanged tickets: 4" in text
    assert "approved_items" in text and "- careful" in text and "rule \\| fails" in text
    assert "approved_items" not in plan_markdown(plan, "x", approval=False)
    assert "nothing to change" in plan_markdown(Plan(), "x", approval=True)


def review(key: str, decision: str, score: float) -> ProjectReview:
    criterion = CriterionView(rule_id="charter", title="Charter", kind="must_meet", outcome="fail", weight=None)
    return ProjectReview(
        project_key=key, gate="planning", decision=decision, score=score, criteria=[criterion], data_hash="d" * 64
    )


def test_projects_needing_attention_come_first() -> None:
    reviews = [review("A", "go", 90), review("B", "hold", 40), review("C", "kill", 10), review("D", "hold", 20)]
    assert [r.project_key for r in attention_first(reviews)] == ["C", "D", "B", "A"]
    assert scorecard_rows(reviews[0]) == [
        {
            "criterion": "charter",
            "title": "Charter",
            "kind": "must-meet",
            "result": "fail",
            "weight": None,
            "points": 0,
            "counted": True,
            "note": "",
        }
    ]


def test_portfolio_markdown_names_rules_data_and_decisions() -> None:
    result = ReviewResult(
        reviewed_on=date(2026, 11, 2),
        evaluated_at=datetime(2026, 11, 2, 6),
        rules_hash="r" * 64,
        data_hash="d" * 64,
        reviews=[review("A", "go", 90), review("B", "kill", 5)],
        without_gate=["Z"],
        recorded=2,
    )
    text = portfolio_markdown(result)
    assert "**2 project(s) reviewed**: kill 1, go 1." in text
    assert "`rrrrrrrrrrrr`" in text and "No reviewable gate: Z." in text
    assert text.index("| B |") < text.index("| A |")


def test_actions_summary_and_approval_markdown_tell_what_was_applied() -> None:
    plan = Plan(items=[item("create:a"), item("create:b"), item("gate:A", op="post_gate_comment")])
    run = ActionsRun(
        dry_run=False,
        plan=plan,
        applied=ApplyResult(
            items=[
                ItemResult(id="create:a", op="create_ticket", status="applied", ticket_key="ALPHA-9"),
                ItemResult(id="gate:A", op="post_gate_comment", status="applied", ticket_key="ALPHA-1"),
                ItemResult(id="create:b", op="create_ticket", status="failed", error="400"),
            ]
        ),
    )
    summary = actions_summary(run)
    assert summary["created"] == ["ALPHA-9"]
    assert summary["applied_ops"] == {"create_ticket": 1, "post_gate_comment": 1}
    decision = ApprovalDecision(status="partly-approved", approved_ids=["create:a"], approver="pat", note="ok")
    text = approval_markdown(decision, run, ["create:b"])
    assert "1 item(s) approved by pat" in text and "approved items: 1 of 3" in text and "create:b" in text
    timed_out = approval_markdown(ApprovalDecision(status="timed-out"), ActionsRun(dry_run=True, plan=plan), [])
    assert "timed out" in timed_out and "applied: nothing" in timed_out


def test_report_charts_are_published_as_images_the_ui_can_show(monkeypatch, tmp_path) -> None:
    """Charts leave the worker as data: URLs (an image artifact each, and one markdown page embedding them
    all), not as a file:// link the UI cannot open."""
    from pmo_gates.flows import portfolio_report as report_flow
    from pmo_gates.reports.models import Chart, ReportBundle

    sent: list[dict[str, Any]] = []
    for name in ("create_markdown_artifact", "create_table_artifact", "create_link_artifact", "create_image_artifact"):
        monkeypatch.setattr(artifacts, name, lambda _n=name, **kw: sent.append({"fn": _n, **kw}))
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    (tmp_path / "ranking.png").write_bytes(png)
    (tmp_path / "huge.png").write_bytes(b"\x89PNG" + b"0" * (artifacts.MAX_IMAGE_BYTES + 1))
    bundle = ReportBundle(
        today=date(2026, 3, 2), out_dir=tmp_path, html_path=tmp_path / "index.html", markdown="# Report",
        tables={}, csv_paths={}, sections={},
        charts=[Chart(key="ranking", title="Priority ranking", path=tmp_path / "ranking.png"),
                Chart(key="huge", title="Huge", path=tmp_path / "huge.png")],
    )  # fmt: skip
    report_flow.publish_reports(ArtifactPublisher([TOKEN]), bundle)
    images = [s for s in sent if s["fn"] == "create_image_artifact"]
    assert [i["key"] for i in images] == ["report-chart-ranking"]
    url = images[0]["image_url"]
    assert url.startswith("data:image/png;base64,") and base64.b64decode(url.split(",", 1)[1]) == png
    page = next(s for s in sent if s.get("key") == "portfolio-report-charts")["markdown"]
    assert f"![Priority ranking]({url})" in page and "Too big to embed: see huge.png" in page
    assert any(s["fn"] == "create_link_artifact" for s in sent)  # the HTML page is still linked
