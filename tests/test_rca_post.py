"""``pmo-gates rca --post``: the monthly analysis reaches Jira from the command line as it does from the
flow: one ticket per delayed project and month, and the analysis as a comment on its anchor issue, planned
first (``--dry-run`` writes nothing), then exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.demo import DemoSession
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG

WRITES = {"POST", "PUT", "DELETE"}


def _writes(session: DemoSession, since: int) -> list[str]:
    assert session.sandbox is not None
    return [
        f"{r.method} {r.path}"
        for r in session.sandbox.requests[since:]
        if r.method in WRITES and not r.path.endswith(("/search/jql", "/search"))
    ]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_rca_post_plans_then_writes_comments_and_tickets_once(tmp_path: Path, flavour: str) -> None:
    runner = CliRunner()
    with DemoSession(out_dir=tmp_path / "demo", flavour=flavour, index_lag=STRICT_INDEX_LAG) as session:
        assert session.sandbox is not None
        config = str(session.work_dir / "pmo-gates.yaml")
        assert runner.invoke(app, ["sync", "--config", config, "--json"]).exit_code == 0

        start = len(session.sandbox.requests)
        dry = runner.invoke(app, ["rca", "--config", config, "--post", "--dry-run", "--json"])
        assert dry.exit_code == 0, dry.output
        planned = json.loads(dry.output)
        delayed = sorted(p["key"] for p in planned["projects"] if p["delayed"])
        assert delayed, "the sample portfolio has late projects"
        items = planned["plan"]["items"]
        assert sorted(i["project_key"] for i in items if i["op"] == "comment") == delayed
        assert sorted(i["project_key"] for i in items if i["op"] == "create_ticket") == delayed
        assert _writes(session, start) == []

        posted = runner.invoke(app, ["rca", "--config", config, "--post", "--json"])
        assert posted.exit_code == 0, posted.output
        result = json.loads(posted.output)["result"]
        assert result["applied_ops"] == {"comment": len(delayed), "create_ticket": len(delayed)}
        for item in (i for i in items if i["op"] == "comment"):
            bodies = [c["body"] for c in session.sandbox.state.comments(item["target"])]
            assert len([b for b in bodies if "Delay root-cause analysis" in str(b)]) == 1

        again_from = len(session.sandbox.requests)
        again = runner.invoke(app, ["rca", "--config", config, "--post", "--json"])
        assert again.exit_code == 0 and json.loads(again.output)["plan"]["items"] == []
        assert _writes(session, again_from) == []
