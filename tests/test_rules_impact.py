"""``pmo-gates rules impact``: a rule change evaluated on the current store before it is merged."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.rules.loader import shipped_packs
from pmo_gates.sandbox import SandboxServer
from tests.fixtures_onboarding import EMAIL, TOKEN, TOKEN_ENV, small, write_config
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG


@pytest.fixture(scope="module", params=FLAVOURS)
def synced(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A store synced from the small sandbox portfolio (Cloud, then Data Center), and a config pointing at it."""
    tmp = tmp_path_factory.mktemp("impact")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_ENV, TOKEN)
        with SandboxServer(small(), flavour=request.param, auth=(EMAIL, TOKEN), index_lag=STRICT_INDEX_LAG) as sb:
            config = write_config(tmp, sb.url, [p.key for p in small().projects], extra="today: 2026-11-02\n")
            result = CliRunner().invoke(app, ["sync", "--config", str(config), "--json"])
            assert result.exit_code == 0, result.output
    return config


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.delenv("PMO_GATES_DATABASE_URL", raising=False)


def copy_packs(to: Path) -> Path:
    shutil.copytree(shipped_packs()[0], to)
    return to


def edit(path: Path, old: str, new: str, *, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= count, old
    path.write_text(text.replace(old, new))


def impact(config: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["rules", "impact", "--config", str(config), "--json", *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else {"error": result.output}


def test_a_stricter_rule_shows_which_projects_would_fail_and_why(synced: Path, tmp_path: Path) -> None:
    base, head = copy_packs(tmp_path / "base"), copy_packs(tmp_path / "head")
    edit(head / "establishment" / "governance.yaml", 'check: "has_charter"', 'check: "false"')
    code, report = impact(synced, "--base-dir", str(base), "--head-dir", str(head))
    assert code == 0
    assert report["rule_changes"] == {"charter-approved": ["check"]}
    changed = [(p["project_key"], f) for p in report["projects"] for f in p["findings"]]
    assert changed, "the sample has chartered projects: some must start failing"
    for _, finding in changed:
        assert finding["rule_id"] == "charter-approved"
        assert finding["before"].startswith("pass") and finding["after"].startswith("fail")
        assert finding["why"] == "rule changed: check"
    for project in report["projects"]:
        if project["decision"]:
            assert "charter-approved" in project["decision"]["why"]
            assert project["decision"]["decision_after"] in ("recycle", "kill")


def test_unchanged_rules_change_nothing(synced: Path, tmp_path: Path) -> None:
    code, report = impact(
        synced, "--base-dir", str(copy_packs(tmp_path / "a")), "--head-dir", str(copy_packs(tmp_path / "b"))
    )
    assert code == 0 and report["projects"] == [] and report["rule_changes"] == {}
    assert report["projects_compared"] == len(small().projects)


def test_base_from_a_git_ref_against_the_working_tree(synced: Path, tmp_path: Path) -> None:
    repo = tmp_path / "pmo-rules"
    rules = copy_packs(repo / "rules")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "rules"], check=True)
    # The change under review: no knock-outs and a go from any score.
    gates = rules / "gates.yaml"
    gates.write_text(re.sub(r"must_meet: \[[^\]]*\]", "must_meet: []", gates.read_text()))
    edit(gates, "thresholds: {go: 80, conditional_go: 60}", "thresholds: {go: 0, conditional_go: 0}", count=3)
    config = synced.parent / "git-config.yaml"
    config.write_text(synced.read_text() + f"rules:\n  paths: [{rules}]\n")

    code, report = impact(config, "--base", "HEAD")
    assert code == 0, report
    assert report["rule_changes"] == {
        "gate:initiation": ["must_meet", "thresholds"],
        "gate:planning": ["must_meet", "thresholds"],
        "gate:execution": ["must_meet", "thresholds"],
        "gate:closure": ["must_meet"],  # its thresholds (75/50) were left alone
    }
    decisions = [p["decision"] for p in report["projects"] if p["decision"]]
    assert decisions, "the small portfolio has projects that are not a go today"
    for decision in decisions:
        assert decision["decision_before"] != "go" and decision["decision_after"] in ("go", "kill")
        assert f"gate {decision['gate_after']} changed: must_meet" in decision["why"]

    result = CliRunner().invoke(app, ["rules", "impact", "--config", str(config), "--base", "HEAD", "--markdown"])
    assert result.exit_code == 0 and "| project | rule / gate | before | after | why |" in result.stdout


def test_bad_refs_and_paths_outside_git_are_explained(synced: Path, tmp_path: Path) -> None:
    repo = tmp_path / "r"
    copy_packs(repo / "rules")
    subprocess.run(["git", "-C", str(repo), "init", "-q"], check=True)
    config = synced.parent / "bad-ref.yaml"
    config.write_text(synced.read_text() + f"rules:\n  paths: [{repo / 'rules'}]\n")
    result = CliRunner().invoke(app, ["rules", "impact", "--config", str(config), "--base", "no-such-branch"])
    assert result.exit_code == 2 and "--base no-such-branch: no such commit" in result.output
    outside = copy_packs(tmp_path / "plain")
    config.write_text(synced.read_text() + f"rules:\n  paths: [{outside}]\n")
    result = CliRunner().invoke(app, ["rules", "impact", "--config", str(config), "--base", "HEAD"])
    assert result.exit_code == 2 and "not in a git repository" in result.output and "Traceback" not in result.output


def test_the_flow_variant_publishes_markdown_and_a_table(synced: Path, tmp_path: Path) -> None:
    from pmo_gates.config import load_settings
    from pmo_gates.flows.rules_impact import publish_impact
    from pmo_gates.impact.run import rules_impact
    from pmo_gates.store import Store

    base, head = copy_packs(tmp_path / "base"), copy_packs(tmp_path / "head")
    edit(head / "establishment" / "governance.yaml", 'check: "has_charter"', 'check: "false"')
    settings = load_settings(synced)
    store = Store(settings.database_url())
    try:
        report = rules_impact(settings, store, base_dirs=[base], head_dirs=[head])
    finally:
        store.dispose()

    published: dict[str, object] = {}

    class Recorder:
        def markdown(self, key: str, markdown: str, description: str | None = None) -> None:
            published[key] = markdown

        def table(self, key: str, rows: list, description: str | None = None) -> None:
            published[key] = rows

    publish_impact(Recorder(), report)  # type: ignore[arg-type]
    assert "charter-approved" in str(published["rules-impact-summary"])
    rows = published["rules-impact-changes"]
    assert isinstance(rows, list) and rows and {"project", "what", "before", "after", "why"} <= set(rows[0])


@pytest.mark.prefect
def test_the_flow_runs_on_prefect_and_leaves_both_artifacts(prefect_api: str, synced: Path, tmp_path: Path) -> None:
    from pmo_gates.flows.rules_impact import rules_impact_flow
    from tests.fixtures_flows import artifact_text, artifacts_of

    base, head = copy_packs(tmp_path / "base"), copy_packs(tmp_path / "head")
    edit(head / "establishment" / "governance.yaml", 'check: "has_charter"', 'check: "false"')
    state = rules_impact_flow(config_path=str(synced), base_dirs=[str(base)], head_dirs=[str(head)], return_state=True)
    assert state.is_completed()
    report = state.result()
    assert report["rule_changes"] == {"charter-approved": ["check"]}
    found = {a.key: artifact_text(a) for a in artifacts_of([state.state_details.flow_run_id])}
    assert "charter-approved" in found["rules-impact-summary"]
    assert "charter-approved" in found["rules-impact-changes"]


def test_a_new_waiver_is_named_as_the_reason(synced: Path, tmp_path: Path) -> None:
    from pmo_gates.config import load_settings
    from pmo_gates.impact.run import rules_impact
    from pmo_gates.store import Store

    settings = load_settings(synced)
    packs = copy_packs(tmp_path / "packs")
    store = Store(settings.database_url())
    try:
        unchanged = rules_impact(settings, store, base_dirs=[packs], head_dirs=[packs])
        assert unchanged.projects == []
        from pmo_gates.impact.run import load_rules
        from pmo_gates.rules.evaluate import evaluate
        from pmo_gates.rules.facts import compute_facts

        today = settings.today
        assert today is not None
        evaluation = evaluate(
            load_rules([packs], settings, today, "packs"),
            compute_facts(store, today=today, params=settings.fact_params()),
            today=today,
        )
        failing = evaluation.failures()[0]
        waivers = tmp_path / "waivers.yaml"
        waivers.write_text(
            f"waivers:\n  - rule: {failing.rule_id}\n    project: {failing.project_key}\n"
            "    approver: pmo.lead@example.com\n    reason: agreed exception\n    expires: 2099-12-31\n"
        )
        report = rules_impact(settings, store, base_dirs=[packs], head_dirs=[packs, waivers])
    finally:
        store.dispose()
    (project,) = report.projects
    change = next(f for f in project.findings if f.rule_id == failing.rule_id)
    assert project.project_key == failing.project_key
    assert change.before is not None and change.before.startswith("fail")
    assert change.after is not None and change.after.startswith("waived")
    assert change.why == "waiver: none -> pmo.lead@example.com until 2099-12-31"
