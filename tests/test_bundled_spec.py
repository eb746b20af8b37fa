"""The Jira OpenAPI description ships inside the package: complete for what we use, self-contained, licensed,
and the refresh script cuts it correctly from a full spec."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.sandbox.api import build_router
from pmo_gates.sandbox.contract import SPEC_ENV, JiraContract, SpecError, bundled_spec_path, default_spec_path
from tests.user_errors import assert_user_error

REPO = Path(__file__).resolve().parents[1]
SPEC_DIR = REPO / "pmo_gates" / "sandbox" / "spec"


def _refresh_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_jira_spec", REPO / "tools" / "refresh_jira_spec.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("refresh_jira_spec", module)
    spec.loader.exec_module(module)
    return module


def _bundled() -> dict[str, Any]:
    return json.loads(bundled_spec_path().read_text(encoding="utf-8"))


def test_default_spec_is_the_bundled_one_inside_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SPEC_ENV, raising=False)
    path = default_spec_path()
    assert path == bundled_spec_path() and path.is_file()
    assert path.is_relative_to(REPO / "pmo_gates"), path  # never ../shared or any sibling folder


@pytest.mark.parametrize("version", ["2", "3"])
def test_every_sandbox_route_is_described(version: str) -> None:
    contract = JiraContract.load(bundled_spec_path())
    missing = [
        f"{method} {template}"
        for method, template, _ in build_router().templates()
        if contract.operation(method, f"/rest/api/{version}" + template.replace("{", "X").replace("}", "")) is None
    ]
    assert missing == []


def test_every_ref_resolves_inside_the_subset() -> None:
    spec = _bundled()
    tool = _refresh_tool()
    refs = set(tool._refs(spec))
    assert refs, "the subset references components"
    for ref in sorted(refs):
        tool._resolve(spec, ref)  # KeyError when a component was left out


def test_licence_and_source_are_recorded() -> None:
    spec = _bundled()
    meta = spec["x-pmo-gates-subset"]
    notice = (SPEC_DIR / "NOTICE").read_text(encoding="utf-8")
    assert spec["info"]["license"]["name"] == "Apache 2.0"
    assert "Apache License, Version 2.0" in notice and "Atlassian" in notice
    assert meta["sourceVersion"] == spec["info"]["version"] and meta["sourceVersion"] in notice
    assert "developer.atlassian.com" in meta["source"]
    assert "Apache License" in (SPEC_DIR / "LICENSE-Apache-2.0").read_text(encoding="utf-8")
    assert len(meta["operations"]) == sum(
        1 for item in spec["paths"].values() for method in item if method in ("get", "put", "post", "delete")
    )


FULL = {
    "openapi": "3.0.1",
    "info": {"title": "T", "version": "9.9", "license": {"name": "Apache 2.0"}},
    "servers": [{"url": "https://your-domain.atlassian.net"}],
    "security": [{"basicAuth": []}],
    "paths": {
        "/rest/api/3/issue/{issueIdOrKey}": {
            "parameters": [{"name": "issueIdOrKey", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"responses": {"200": {"$ref": "#/components/responses/IssueOk"}}},
            "delete": {"responses": {"204": {"description": "gone"}}},
        },
        "/rest/api/3/unused": {"get": {"responses": {"200": {"$ref": "#/components/responses/Unused"}}}},
    },
    "components": {
        "responses": {
            "IssueOk": {
                "description": "ok",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Issue"}}},
            },
            "Unused": {
                "description": "x",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Other"}}},
            },
        },
        "schemas": {
            "Issue": {"type": "object", "properties": {"fields": {"$ref": "#/components/schemas/Fields"}}},
            "Fields": {"type": "object", "properties": {"parent": {"$ref": "#/components/schemas/Issue"}}},
            "Other": {"type": "string"},
        },
        "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}, "OAuth2": {"type": "oauth2"}},
    },
}


def test_refresh_keeps_wanted_operations_and_their_components_transitively() -> None:
    tool = _refresh_tool()
    cut = tool.subset(FULL, [("get", "/issue/{key}")], source="s", retrieved="2026-01-01")
    assert list(cut["paths"]) == ["/rest/api/3/issue/{issueIdOrKey}"]
    item = cut["paths"]["/rest/api/3/issue/{issueIdOrKey}"]
    assert set(item) == {"parameters", "get"}  # DELETE is not used: left out
    assert set(cut["components"]["schemas"]) == {"Issue", "Fields"}  # Fields via Issue, Issue again via Fields
    assert set(cut["components"]["responses"]) == {"IssueOk"}
    assert set(cut["components"]["securitySchemes"]) == {"basicAuth"}
    assert cut["x-pmo-gates-subset"]["operations"] == ["GET /rest/api/3/issue/{issueIdOrKey}"]
    assert cut["x-pmo-gates-subset"]["sourceVersion"] == "9.9"
    # The cut validates exchanges like the full spec does.
    contract = JiraContract(cut)
    assert contract.validate_response("GET", "/rest/api/2/issue/A-1", None, 200, {}, {"fields": {}}) == []
    assert contract.validate_response("GET", "/rest/api/2/issue/A-1", None, 200, {}, []) != []


def test_refresh_stops_naming_an_operation_the_source_lacks() -> None:
    tool = _refresh_tool()
    with pytest.raises(SystemExit, match=r"POST /rest/api/3/issue/\{key\}/nothing"):
        tool.subset(FULL, [("get", "/issue/{key}"), ("post", "/issue/{key}/nothing")], source="s", retrieved="x")


def test_refresh_writes_subset_and_notice(tmp_path: Path) -> None:
    tool = _refresh_tool()
    source = tmp_path / "full.json"
    source.write_text(json.dumps(FULL), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    wanted = tool.wanted_operations
    try:
        tool.wanted_operations = lambda: [("get", "/issue/{id}")]
        assert tool.main(["--source", str(source), "--out-dir", str(out), "--retrieved", "2026-01-01"]) == 0
    finally:
        tool.wanted_operations = wanted
    written = json.loads((out / tool.SUBSET_NAME).read_text(encoding="utf-8"))
    assert written["x-pmo-gates-subset"]["source"].startswith(tool.PUBLISHED_URL)
    assert str(tmp_path) not in json.dumps(written)  # no path of the refresher's machine
    assert "9.9" in (out / "NOTICE").read_text(encoding="utf-8")


def test_missing_spec_is_one_line_with_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "nope.json"))
    with pytest.raises(SpecError, match=f"unset {SPEC_ENV}"):
        JiraContract.load()
    result = CliRunner().invoke(app, ["sandbox", "--port", "0", "--validate"])
    assert_user_error(result, "nope.json", SPEC_ENV, code=2)
