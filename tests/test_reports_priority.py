"""Priority scoring: the file's errors at file:line:col, each normalisation, direction, missing values."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from pmo_gates.rca.yamlfile import PlaybookError
from pmo_gates.reports.priority import PriorityScorer, load_priority, parse_priority

TODAY = date(2026, 11, 2)


def scorer(criteria: str) -> PriorityScorer:
    return PriorityScorer(parse_priority("kind: priority-scoring\ncriteria:\n" + textwrap.dedent(criteria)))


def test_shipped_priority_playbook_loads_and_reads_facts():
    shipped = PriorityScorer(load_priority())
    assert [c.id for c in shipped.playbook.criteria] == ["strategic_value", "roi", "risk", "health"]
    assert shipped.facts == {"strategic_value", "expected_roi", "risk_register_size", "spi", "cpi"}


def test_range_rank_minmax_direction_and_missing():
    s = scorer(
        """
        - {id: value, title: V, value: strategic_value, weight: 2, normalise: {method: range, min: 1, max: 5}}
        - {id: roi, title: R, value: expected_roi, weight: 1, normalise: {method: rank}, missing: 0.5}
        - {id: risk, title: K, value: risk_register_size * 2, weight: 1, normalise: {method: minmax},
           direction: lower}
        """
    )
    facts = {
        "P1": {"strategic_value": 5, "expected_roi": 30, "risk_register_size": 0},
        "P2": {"strategic_value": 3, "expected_roi": 10, "risk_register_size": 5},
        "P3": {"strategic_value": 9, "expected_roi": 10, "risk_register_size": 10},
        "P4": {"strategic_value": None, "expected_roi": None, "risk_register_size": None},
    }
    ranked = {row.key: row for row in s.rank(facts, TODAY)}
    # weights 2:1:1 of 100 points -> 50, 25, 25
    assert ranked["P1"].points == {"value": 50.0, "roi": 25.0, "risk": 25.0}
    assert ranked["P2"].points == {"value": 25.0, "roi": 6.25, "risk": 12.5}  # roi ties share rank 0.25
    assert ranked["P3"].points == {"value": 50.0, "roi": 6.25, "risk": 0.0}  # range clamps 9 to 1
    assert ranked["P4"].points == {"value": 0.0, "roi": 12.5, "risk": 0.0}  # missing: 0, 0.5, 0
    assert ranked["P3"].values == {"value": 9.0, "roi": 10.0, "risk": 20.0}
    assert [r.key for r in s.rank(facts, TODAY)] == ["P1", "P3", "P2", "P4"]
    assert [r.rank for r in s.rank(facts, TODAY)] == [1, 2, 3, 4]


def test_expressions_reach_facts_through_the_rule_language():
    s = scorer(
        """
        - {id: health, title: H, value: "min(coalesce(spi, 1.0), coalesce(cpi, 1.0))", weight: 1,
           normalise: {method: range, min: 0, max: 1}}
        """
    )
    rows = {r.key: r for r in s.rank({"A": {"spi": 0.5, "cpi": 0.9}, "B": {"spi": None, "cpi": None}}, TODAY)}
    assert rows["A"].score == 50.0 and rows["B"].score == 100.0


def errors(text: str) -> list[str]:
    with pytest.raises(PlaybookError) as info:
        parse_priority(textwrap.dedent(text).lstrip(), "priority.yaml")
    return str(info.value).splitlines()


def test_unknown_fact_and_type_errors_point_into_the_expression():
    lines = errors(
        """
        kind: priority-scoring
        criteria:
          - id: value
            title: Value
            value: strategic_valeu + 1
            weight: 1
            normalise: {method: minmax}
          - id: phase
            title: Phase
            value: phase
            weight: 1
            normalise: {method: minmax}
        """
    )
    assert lines[0].startswith("priority.yaml:5:12: criteria.0.value: unknown fact 'strategic_valeu'")
    assert "did you mean 'strategic_value'" in lines[0]
    assert lines[1].startswith("priority.yaml:10:12: criteria.1.value: expression must give a number")


def test_schema_errors_and_duplicate_ids():
    assert errors(
        """
        kind: priority-scoring
        criteria:
          - {id: a, title: A, value: spi, weight: 0, normalise: {method: range, min: 2}}
          - {id: a, title: A, value: cpi, weight: 1, normalise: {method: median}}
        """
    ) == [
        "priority.yaml:3:43: criteria.0.weight: Input should be greater than 0",
        "priority.yaml:3:57: criteria.0.normalise: range needs min and max, with max > min",
        "priority.yaml:4:66: criteria.1.normalise.method: Input should be 'range', 'minmax' or 'rank'",
    ]
    assert errors(
        """
        kind: priority-scoring
        criteria:
          - {id: a, title: A, value: spi, weight: 1, normalise: {method: minmax}}
          - {id: a, title: A, value: cpi, weight: 1, normalise: {method: minmax}}
        """
    ) == ["priority.yaml:4:10: criteria.1.id: duplicate criterion id 'a'"]
