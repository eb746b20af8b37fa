"""Starting the command line imports only what the command run needs: listing the commands imports no
rule, store or sandbox code, and ``review``/``actions`` never import the sandbox, the demo or the sync."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from pmo_gates.cli import app

COMMANDS = ["sandbox", "validate", "schema", "sync", "review", "actions", "rca", "report", "serve"]
COMMANDS += ["deployments", "demo", "doctor", "init", "rules", "snapshot"]
HEAVY = ["pmo_gates.sandbox", "pmo_gates.demo", "pmo_gates.connectors.sync", "prefect", "matplotlib"]


def _loaded_after(code: str) -> list[str]:
    """Which modules of ``HEAVY`` and ours are loaded after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(done.stdout.splitlines()[-1])


def test_listing_the_commands_imports_nothing_heavy() -> None:
    loaded = set(_loaded_after("import pmo_gates.cli"))
    ours = sorted(m for m in loaded if m.startswith("pmo_gates."))
    assert all(
        m.startswith(("pmo_gates.commands", "pmo_gates.cli"))
        or m
        in {
            "pmo_gates.defaults",
            "pmo_gates.formatting",
        }
        for m in ours
    ), ours
    assert not loaded & {*HEAVY, "pmo_gates.config", "pmo_gates.store", "sqlalchemy", "requests", "jira"}


def test_review_and_actions_do_not_import_the_sandbox_demo_or_sync() -> None:
    # What `review` and `actions` import when they run (commands.* imports them inside the command).
    code = (
        "import pmo_gates.cli, pmo_gates.commands.review, pmo_gates.commands.actions\n"
        "import pmo_gates.review.run, pmo_gates.actions.run, pmo_gates.connectors.client\n"
        "import pmo_gates.connectors.connection, pmo_gates.store, pmo_gates.store.errors"
    )
    loaded = set(_loaded_after(code))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in COMMANDS:
        assert f" {name} " in result.output, name
