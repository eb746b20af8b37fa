"""The portfolio generator: deterministic, realistic, and the bundled sample is exactly what it generates."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from pmo_gates.sandbox import CF, ProjectProfile, generate_portfolio, generate_sample, sample_portfolio_path
from pmo_gates.sandbox.generate import main
from pmo_gates.sandbox.jira_time import parse_datetime
from pmo_gates.sandbox.snapshot import Snapshot
from tests.fixtures_sandbox import TODAY, sample


def _digest(snap: Snapshot) -> str:
    return hashlib.sha256("".join(snap.iter_json()).encode()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    one = generate_portfolio(projects=4, issues_per_project=15, seed=11, today=TODAY)
    two = generate_portfolio(projects=4, issues_per_project=15, seed=11, today=TODAY)
    other = generate_portfolio(projects=4, issues_per_project=15, seed=12, today=TODAY)
    assert _digest(one) == _digest(two)
    assert _digest(one) != _digest(other)


def test_bundled_sample_is_the_generated_sample() -> None:
    regenerate = "generator changed: run python -m pmo_gates.sandbox.generate --sample"
    assert sample_portfolio_path().read_bytes().decode() == "".join(generate_sample().iter_json()), regenerate
    assert sample_portfolio_path().stat().st_size < 3_000_000


def test_each_project_has_exactly_one_anchor_with_pmo_metadata() -> None:
    snap = sample()
    anchors = Counter(
        i["fields"]["project"]["key"] for i in snap.issues if i["fields"]["issuetype"]["name"] == "Project"
    )
    assert anchors == Counter({p.key: 1 for p in snap.projects})
    names = {f.name: f for f in snap.fields}
    assert names["PMO Phase"].json_schema["custom"].endswith(":select")
    assert names["Story Points"].json_schema["custom"] == "com.atlassian.jira.plugin.system.customfieldtypes:float"
    assert names["Sprint"].json_schema["custom"] == "com.pyxis.greenhopper.jira:gh-sprint"
    assert names["Epic Link"].json_schema["custom"] == "com.pyxis.greenhopper.jira:gh-epic-link"
    anchor = next(i for i in snap.issues if i["fields"]["issuetype"]["name"] == "Project")
    for name in (
        "PMO Phase",
        "Planned Start",
        "Planned End",
        "Budget",
        "Actual Cost",
        "Project Manager",
        "Hourly Rate",
    ):
        assert anchor["fields"][CF[name]] is not None, name


def test_sample_covers_every_phase_and_problem() -> None:
    snap = sample()
    today = snap.exported_at.date()
    anchors = [i["fields"] for i in snap.issues if i["fields"]["issuetype"]["name"] == "Project"]
    phases = Counter(a[CF["PMO Phase"]]["value"] for a in anchors)
    assert set(phases) == {"Initiation", "Planning", "Execution", "Closure"}
    late = [a for a in anchors if date.fromisoformat(a[CF["Planned End"]]) < today]
    over_budget = [a for a in anchors if a[CF["Actual Cost"]] > a[CF["Budget"]]]
    assert late and over_budget
    blocked = [i for i in snap.issues if "blocked" in i["fields"]["labels"]]
    assert blocked
    projects_of = {i["key"]: i["fields"]["project"]["key"] for i in snap.issues}
    cross = [
        (i["key"], link["outwardIssue"]["key"])
        for i in snap.issues
        for link in i["fields"]["issuelinks"]
        if "outwardIssue" in link and projects_of[link["outwardIssue"]["key"]] != projects_of[i["key"]]
    ]
    assert cross, "expected cross-project Blocks links"


def test_histories_have_rework_and_reopens_and_scope_after_baseline() -> None:
    snap = sample()
    transitions = Counter()
    for issue in snap.issues:
        for history in issue["changelog"]["histories"]:
            for item in history["items"]:
                if item["field"] == "status":
                    transitions[(item["fromString"], item["toString"])] += 1
    assert transitions[("Done", "To Do")] > 0
    assert transitions[("In Review", "In Progress")] > 0
    baselines = {
        i["fields"]["project"]["key"]: date.fromisoformat(i["fields"][CF["Phase Baseline Date"]])
        for i in snap.issues
        if i["fields"]["issuetype"]["name"] == "Project"
    }
    late_scope = [
        i
        for i in snap.issues
        if parse_datetime(i["fields"]["created"]).date() > baselines[i["fields"]["project"]["key"]]
    ]
    assert late_scope


def test_issues_are_consistent_with_their_histories() -> None:
    exported = sample().exported_at
    for issue in sample().issues:
        f = issue["fields"]
        histories = issue["changelog"]["histories"]
        stamps = [h["created"] for h in histories]
        assert stamps == sorted(stamps), issue["key"]
        status_items = [i for h in histories for i in h["items"] if i["field"] == "status"]
        if status_items:
            assert status_items[-1]["toString"] == f["status"]["name"], issue["key"]
        assert (f["resolution"] is not None) == (f["status"]["name"] == "Done"), issue["key"]
        assert parse_datetime(f["updated"]) <= exported
        assert parse_datetime(f["created"]) <= parse_datetime(f["updated"])


def test_people_are_shared_across_projects() -> None:
    snap = generate_portfolio(projects=12, issues_per_project=10, seed=3, today=TODAY)
    projects_per_person: dict[str, set[str]] = {}
    for issue in snap.issues:
        assignee = issue["fields"]["assignee"]
        if assignee:
            projects_per_person.setdefault(assignee["accountId"], set()).add(issue["fields"]["project"]["key"])
    assert max(len(p) for p in projects_per_person.values()) >= 4


def test_compact_mode_is_smaller_and_still_valid() -> None:
    full = generate_portfolio(projects=3, issues_per_project=20, seed=9, today=TODAY)
    compact = generate_portfolio(projects=3, issues_per_project=20, seed=9, today=TODAY, compact=True)
    assert len("".join(compact.iter_json())) < 0.75 * len("".join(full.iter_json()))
    assert [i["key"] for i in compact.issues] == [i["key"] for i in full.issues]


def test_profiles_and_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown phase"):
        generate_portfolio(projects=1, issues_per_project=5, seed=1, today=TODAY, profiles=[ProjectProfile("Done")])
    with pytest.raises(ValueError, match="2 profiles for 1 projects"):
        generate_portfolio(
            projects=1, issues_per_project=5, seed=1, today=TODAY, profiles=[ProjectProfile("Planning")] * 2
        )
    with pytest.raises(ValueError, match="at least"):
        generate_portfolio(projects=0, issues_per_project=5, seed=1, today=TODAY)


def test_command_line_writes_a_loadable_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.json"
    assert main(["--projects", "2", "--issues-per-project", "6", "--seed", "4", "--out", str(out)]) == 0
    assert "2 projects" in capsys.readouterr().out
    assert len(Snapshot.load(out).projects) == 2
    sample_copy = tmp_path / "sample.json"
    assert main(["--sample", "--out", str(sample_copy)]) == 0
    assert sample_copy.read_bytes() == sample_portfolio_path().read_bytes()
    with pytest.raises(SystemExit):
        main(["--projects", "2"])
