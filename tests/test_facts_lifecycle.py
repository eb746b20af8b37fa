from datetime import date

import pytest

from pmo_gates.rules.facts.builtin.projects import normalise_phase
from tests.fixtures_facts import Portfolio, at, fact, facts_of


@pytest.mark.parametrize(
    ("raw", "phase"),
    [
        ("Initiation", "initiation"),
        ("Initiating", "initiation"),
        ("Planning", "planning"),
        ("In Execution", "execution"),
        ("execution ", "execution"),
        ("Closure", "closure"),
        ("Closing", "closure"),
        ("Closed", "closed"),
        ("Done", "closed"),
        ("Completed", "closed"),
        ("", None),
        (None, None),
        ("Ideation", None),
    ],
)
def test_phase_values_are_matched_by_word_stem(raw, phase):
    assert normalise_phase(raw) == phase


def test_phase_gate_manager_and_governance_flags(store):
    p = Portfolio()
    p.project(
        "EXE",
        phase="In Execution",
        project_manager_id="acc-1",
        project_manager_name="Ada",
        budget_approved=True,
        charter_url="https://wiki/charter",
        lessons_learned="Plan buffers",
        strategic_value=0.0,
        expected_roi=12.5,
    )
    p.project(
        "CLO",
        phase="Closed",
        project_manager_id="acc-2",
        budget_approved=False,
        charter_url="  ",
        lessons_learned=" ",
        strategic_value=3.0,
    )
    p.project("UNK", phase="Ideation")
    p.project("NON")
    p.save(store)
    facts = facts_of(store)

    exe, clo, unk, non = facts["EXE"], facts["CLO"], facts["UNK"], facts["NON"]
    assert (exe["phase"], exe["current_gate"]) == ("execution", "execution")
    assert (clo["phase"], clo["current_gate"]) == ("closed", None)
    assert (unk["phase"], unk["current_gate"]) == (None, None)
    assert (exe["project_manager"], exe["project_manager_id"], exe["has_project_manager"]) == ("Ada", "acc-1", True)
    assert (clo["project_manager"], clo["has_project_manager"]) == ("acc-2", True)
    assert (non["project_manager"], non["project_manager_id"], non["has_project_manager"]) == (None, None, False)
    assert [facts[k]["has_approved_budget"] for k in ("EXE", "CLO", "NON")] == [True, False, False]
    assert [facts[k]["has_charter"] for k in ("EXE", "CLO", "NON")] == [True, False, False]
    assert [facts[k]["has_lessons_learned"] for k in ("EXE", "CLO", "NON")] == [True, False, False]
    # Zero is a value; only a missing one blocks ranking.
    assert (exe["strategic_value"], exe["expected_roi"], exe["has_priority_rank"]) == (0.0, 12.5, True)
    assert (clo["has_priority_rank"], non["has_priority_rank"]) == (False, False)


def test_planned_dates(store):
    p = Portfolio()
    p.project("A", planned_start=date(2026, 1, 5), planned_end=date(2026, 12, 18), baseline_date=date(2026, 2, 1))
    p.project("B")
    p.save(store)
    facts = facts_of(store, "planned_start", "planned_end", "baseline_date")
    assert facts["A"] == {
        "planned_start": date(2026, 1, 5),
        "planned_end": date(2026, 12, 18),
        "baseline_date": date(2026, 2, 1),
    }
    assert facts["B"] == {"planned_start": None, "planned_end": None, "baseline_date": None}


def test_days_in_phase_prefers_the_phase_change_then_baseline_then_anchor_creation(store):
    p = Portfolio()
    p.project("CHG", anchor=True, anchor_updated=at("2026-01-01"), baseline_date=date(2026, 9, 1))
    p.move("CHG-1", at("2026-03-01"), "Initiation", "Planning", field="PMO Phase")
    p.move("CHG-1", at("2026-10-01"), "Planning", "Execution", field="pmo phase")  # field names match any case
    p.move("CHG-1", at("2026-10-20"), "x", "y", field="Budget")  # other fields do not move the phase
    p.project("BAS", anchor=True, anchor_updated=at("2026-01-01"), baseline_date=date(2026, 9, 1))
    p.project("ANC", anchor=True, anchor_updated=at("2026-01-01"))
    p.project("FUT", baseline_date=date(2026, 12, 1))
    p.project("NON")
    p.save(store)
    assert fact(store, "days_in_phase") == {"CHG": 32, "BAS": 62, "ANC": 305, "FUT": 0, "NON": None}
