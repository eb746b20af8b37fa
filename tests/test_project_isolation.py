"""One project's bad data never stops the portfolio: a fact, rule or report failure on one project is that
project's data error (flagged in the review, the report and ``--json``) and every other project is still
judged."""

from __future__ import annotations

import importlib
import json
from datetime import date

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.reports import cost
from pmo_gates.reports.build import build_reports
from pmo_gates.review import render_gate_comment, review_portfolio
from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts import FactRegistry, compute_facts
from pmo_gates.rules.facts.compute import MAX_ISOLATION_RUNS, compute_fact_table
from pmo_gates.sandbox import Snapshot, sample_portfolio_path
from pmo_gates.store import Store
from pmo_gates.store.data_errors import DataProblem, ProjectDataErrors
from pmo_gates.store.models import Project
from tests.fixtures_actions import facts, rule_set
from tests.fixtures_connector import TOKEN
from tests.fixtures_facts import TODAY, Portfolio, at
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sync import project_keys, serve, write_sandbox_config

ENV = {"PMO_GATES_TEST_TOKEN": TOKEN}
evaluate_module = importlib.import_module("pmo_gates.rules.evaluate")  # the package exports a function of that name


def _evm_portfolio(store: Store, **bad: float) -> None:
    p = Portfolio()
    for key in ("A", "B", "C"):
        fields = {"budget": 1000.0, "actual_cost": 400.0, "planned_start": date(2026, 1, 1)}
        fields["planned_end"] = date(2026, 12, 31)
        if key in bad:
            fields["actual_cost"] = bad[key]
        p.project(key, anchor=True, **fields)
        p.issue(key, "Done", resolved=at("2026-06-01"), points=5)
        p.issue(key, "To Do", points=5)
    p.save(store)


def test_an_absurd_actual_cost_is_that_projects_data_error(store):
    _evm_portfolio(store, B=1e308)  # CPI underflows to ~0, so EAC = BAC / CPI overflows to infinity
    table = compute_fact_table(store, today=TODAY)
    assert table.values["B"]["eac"] is None
    assert table.values["A"]["eac"] == table.values["C"]["eac"] == pytest.approx(800.0)
    assert ("B", "eac") in {(p.project_key, p.field) for p in table.problems}
    assert all(p.project_key == "B" and p.source == "facts" for p in table.problems)
    assert "finite" in next(p.message for p in table.problems if p.field == "eac")
    assert compute_facts(store, today=TODAY)["A"]["cpi"] == pytest.approx(1.25)


def test_an_amount_beyond_any_budget_is_that_projects_data_error_not_a_figure(store):
    """1e18 is finite, but no project costs that: a pasted number. Like the sync's plausibility bound, a
    currency fact above 1e15 is unknown for the project and named as its data error, so no total, chart or
    rule takes it as a figure."""
    _evm_portfolio(store, B=1e18)
    table = compute_fact_table(store, today=TODAY)
    assert table.values["B"]["actual_cost"] is None and table.values["B"]["eac"] is None
    flagged = {p.field: p.message for p in table.problems if p.project_key == "B"}
    assert "actual_cost" in flagged and "1e+15" in flagged["actual_cost"]
    assert all(p.project_key == "B" for p in table.problems)
    assert table.values["A"]["actual_cost"] == 400.0


def _registry(fn) -> FactRegistry:
    registry = FactRegistry("t")
    registry.register("x", type=FactType.NUMBER, description="X.")(fn)
    return registry


def _many(store: Store, n: int) -> list[str]:
    p = Portfolio()
    keys = [p.project(f"P{i:03d}") for i in range(n)]
    p.save(store)
    return keys


def test_a_fact_function_failing_on_one_project_is_confined_to_it(sqlite_store):
    keys = _many(sqlite_store, 40)
    runs: list[tuple[str, ...]] = []

    def fragile(ctx):
        runs.append(ctx.projects)
        if "P017" in ctx.projects:
            raise ZeroDivisionError("division by zero")
        return {key: float(len(key)) for key in ctx.projects}

    table = compute_fact_table(sqlite_store, today=TODAY, registry=_registry(fragile))
    assert [p.project_key for p in table.problems] == ["P017"]
    assert table.problems[0].message == "could not be computed: ZeroDivisionError: division by zero"
    assert table.values["P017"]["x"] is None
    assert all(table.values[k]["x"] == 4.0 for k in keys if k != "P017")
    assert len(runs) <= 1 + 2 * 6  # bisection: about 2 log2(40) re-runs, not 40


def test_a_fact_function_failing_everywhere_is_bounded_and_flags_every_project(sqlite_store):
    keys = _many(sqlite_store, 300)
    runs = []

    def broken(ctx):
        runs.append(1)
        raise RuntimeError("plugin bug")

    table = compute_fact_table(sqlite_store, today=TODAY, registry=_registry(broken))
    assert sorted(p.project_key for p in table.problems) == keys
    assert len(runs) <= 1 + MAX_ISOLATION_RUNS + 1


def test_values_of_the_wrong_type_are_data_errors_not_failures(sqlite_store):
    _many(sqlite_store, 2)
    table = compute_fact_table(sqlite_store, today=TODAY, registry=_registry(lambda ctx: {"P000": "7", "P001": 2}))
    assert table.values == {"P000": {"x": None}, "P001": {"x": 2}}
    assert [(p.project_key, p.field) for p in table.problems] == [("P000", "x")]


# -- the commands, end to end on the sandbox ------------------------------------------------------------


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_review_actions_and_report_judge_everyone_and_flag_the_bad_project(tmp_path, flavour):
    runner = CliRunner()
    sample = Snapshot.model_validate_json(sample_portfolio_path().read_text())
    bad = "HRS"  # part done: with an Actual Cost of 1e308, EAC = BAC / CPI overflows to infinity
    with serve(sample, flavour, index_lag=STRICT_INDEX_LAG) as sb:
        keys = project_keys(sb)
        cfg = write_sandbox_config(
            tmp_path, sb.url, keys, flavour=flavour, today=sample.exported_at.date(), page_size=10
        )
        synced = runner.invoke(app, ["sync", "--config", str(cfg)], env=ENV)
        assert synced.exit_code == 0, synced.output
        # A store written before the sync checked amounts (or by anything else) can still hold one.
        store = Store(f"sqlite:///{tmp_path / 'store.db'}")
        with store.session() as s:
            s.execute(update(Project).where(Project.key == bad).values(actual_cost=1e308))
        store.dispose()

        review = runner.invoke(app, ["review", "--config", str(cfg), "--dry-run", "--json"], env=ENV)
        assert review.exit_code == 0, review.output
        reviews = json.loads(review.stdout)["reviews"]
        judged = {r["project_key"] for r in reviews["reviews"]} | set(reviews["without_gate"])
        assert judged == set(keys)
        flagged = reviews["data_errors"][bad]
        assert any(e["source"] == "facts" and e["field"] == "eac" for e in flagged["shown"])
        assert next(r for r in reviews["reviews"] if r["project_key"] == bad)["data_errors"] == flagged
        assert [key for key, errors in reviews["data_errors"].items() if any(
            e["source"] == "facts" for e in errors["shown"])] == [bad]  # fmt: skip

        text = runner.invoke(app, ["review", "--config", str(cfg), "--dry-run"], env=ENV)
        assert text.exit_code == 0 and f"{bad}: " in text.stdout and "eac: " in text.stdout

        actions = runner.invoke(app, ["actions", "--config", str(cfg), "--dry-run", "--json"], env=ENV)
        assert actions.exit_code == 0, actions.output

    report = runner.invoke(app, ["report", "--config", str(cfg), "--json"], env=ENV)
    assert report.exit_code == 0, report.output
    summary = json.loads(report.stdout)
    rows = summary["tables"]["data_errors"]
    assert {(r["project"], r["source"], r["field"]) for r in rows if r["source"] != "sync"} >= {(bad, "facts", "eac")}
    costs = {r["project"] for r in summary["tables"]["cost"]}
    assert bad in costs and len(costs) > 1


# -- the review and the report ----------------------------------------------------------------------------


def _reviewed_projects(store: Store) -> None:
    p = Portfolio()
    for key in ("ALPHA", "BETA"):
        p.project(key, anchor=True)
    p.issues[-1]["data_errors"] = ["story_points: -3 is negative (left out)"]  # BETA's anchor, as synced
    p.save(store)


def test_the_review_flags_each_projects_data_errors_and_the_comment_lists_them(store, tmp_path):
    _reviewed_projects(store)
    rules = rule_set(tmp_path)
    failed = DataProblem(project_key="ALPHA", source="facts", key="ALPHA", field="eac", message="not a finite number")
    result = review_portfolio(
        store, rules, facts(ALPHA={}, BETA={}), today=TODAY, rules_hash=rules.digest, problems=[failed]
    )
    by_key = {r.project_key: r for r in result.reviews}
    assert by_key["ALPHA"].data_errors.shown == [failed]
    (synced,) = by_key["BETA"].data_errors.shown
    assert (synced.source, synced.key, synced.field) == ("sync", "BETA-1", "story_points")
    assert result.data_errors == {"ALPHA": by_key["ALPHA"].data_errors, "BETA": by_key["BETA"].data_errors}
    assert by_key["BETA"].decision == "go"  # judged on what is valid
    comment = render_gate_comment(by_key["BETA"]).replace("\\", "")  # unescaped wiki markup
    assert "Data errors (1)" in comment and "BETA-1 story_points: -3 is negative (left out)" in comment
    clean = by_key["ALPHA"].model_copy(update={"data_errors": ProjectDataErrors()})
    assert "Data errors" not in render_gate_comment(clean)


def test_a_project_whose_evaluation_fails_is_flagged_and_the_others_are_reviewed(store, tmp_path, monkeypatch):
    _reviewed_projects(store)
    rules = rule_set(tmp_path)
    decide = evaluate_module.decide_gate

    def fragile(rule_set, gate, project_key, *args, **kwargs):
        if project_key == "BETA":
            raise OverflowError("int too large to convert to float")
        return decide(rule_set, gate, project_key, *args, **kwargs)

    monkeypatch.setattr(evaluate_module, "decide_gate", fragile)
    result = review_portfolio(store, rules, facts(ALPHA={}, BETA={}), today=TODAY, rules_hash=rules.digest)
    assert [r.project_key for r in result.reviews] == ["ALPHA"]
    assert [(p.source, p.message) for p in result.data_errors["BETA"].shown if p.source != "sync"] == [
        ("rules", "OverflowError: int too large to convert to float")
    ]


def test_a_report_section_failing_on_one_project_is_built_for_the_others(sqlite_store, tmp_path, monkeypatch):
    _evm_portfolio(sqlite_store)
    section = cost.cost_section

    def fragile(facts, *args, **kwargs):
        if "B" in facts:
            raise KeyError("budget")
        return section(facts, *args, **kwargs)

    monkeypatch.setattr(cost, "cost_section", fragile)
    bundle = build_reports(sqlite_store, today=TODAY, out_dir=tmp_path / "out")
    assert {r["project"] for r in bundle.tables["cost"].rows} == {"A", "C"}
    flagged = [(r["project"], r["source"], r["field"]) for r in bundle.tables["data_errors"].rows]
    assert flagged == [("B", "report", "cost")]
    assert bundle.sections["data_errors"]["not_fully_judged"] == ["B"]
    assert "Data errors" in bundle.markdown and (tmp_path / "out" / "data_errors.csv").exists()
