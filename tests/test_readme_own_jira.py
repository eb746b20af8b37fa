"""The README's "Your own Jira in 15 minutes" runs as written: its commands, in order, against the sandbox
serving the sample portfolio without our fields and anchors; doctor lists the gaps, init fixes them, and
the review then judges every project."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.sandbox import SandboxServer, Snapshot
from pmo_gates.sandbox import bare as bare_module
from tests.fixtures_sandbox import STRICT_INDEX_LAG

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_URL = "http://127.0.0.1:2990"


def section_commands() -> list[str]:
    section = README.split("## Your own Jira in 15 minutes", 1)[1].split("\n### ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_section_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Cloud only: the section's `init --create-fields` creates the PMO fields through Cloud's REST API, which
    # Data Center's lacks (fields made by hand there), so its doctor cannot pass after init as the section says.
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PMO_GATES_DATABASE_URL", raising=False)
    runner = CliRunner()
    server: SandboxServer | None = None
    doctor_codes: list[int] = []
    try:
        for line in section_commands():
            words = shlex.split(line.rstrip("&").strip())
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                monkeypatch.setenv(name, value)
            elif words[:3] == [".venv/bin/python", "-m", "pmo_gates.sandbox.bare"]:
                source, rest = ROOT / words[3], words[4:]
                assert bare_module.main([str(source), *rest]) == 0
            elif words[:2] == [".venv/bin/pmo-gates", "sandbox"]:
                seed = words[words.index("--seed") + 1]
                user = words[words.index("--user") + 1]
                token = os.environ[words[words.index("--token-env") + 1]]
                server = SandboxServer(
                    Snapshot.load(tmp_path / seed), flavour="cloud", auth=(user, token), index_lag=STRICT_INDEX_LAG
                ).start()
            else:
                assert words[0] == ".venv/bin/pmo-gates", line
                assert server is not None
                args = [w.replace(README_URL, server.url) for w in words[1:]]
                result = runner.invoke(app, args)
                assert "Traceback" not in result.output, (line, result.output)
                if args[0] == "doctor":
                    doctor_codes.append(result.exit_code)
                else:
                    assert result.exit_code == 0, (line, result.output)
        assert doctor_codes == [1, 0]  # gaps first, none blocking after init
        assert server is not None
        result = runner.invoke(app, ["review", "--dry-run", "--json"])
        reviews = json.loads(result.stdout)["reviews"]
        projects = sorted(p["key"] for p in server.state.projects())
        assert sorted(r["project_key"] for r in reviews["reviews"]) == projects
        assert reviews["without_gate"] == []
    finally:
        if server is not None:
            server.stop()
