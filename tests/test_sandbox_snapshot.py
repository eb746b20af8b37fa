"""The snapshot file: loading, checking (errors name the file and the JSON path) and writing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from pmo_gates.sandbox.snapshot import Snapshot, SnapshotError
from tests.fixtures_sandbox import sample, small


def _write(tmp_path: Path, data: object, name: str = "snap.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _raw() -> dict:
    return json.loads("".join(small().iter_json()))


def test_round_trip_is_byte_identical(tmp_path: Path) -> None:
    first = tmp_path / "a.json"
    second = tmp_path / "b.json"
    small().dump(first)
    Snapshot.load(first).dump(second)
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def test_sample_loads_with_jira_shapes() -> None:
    snap = sample()
    assert snap.format == "pmo-gates-snapshot/1"
    assert snap.exported_at.date().isoformat() == "2026-11-02"
    assert snap.server_info["deploymentType"] == "Cloud"
    issue = snap.issues[0]
    assert {"id", "key", "self", "fields", "changelog"} <= set(issue)
    assert issue["fields"]["status"]["statusCategory"]["key"] in {"new", "indeterminate", "done"}


def test_missing_required_issue_key_names_file_and_path(tmp_path: Path) -> None:
    raw = _raw()
    del raw["issues"][3]["fields"]["status"]
    path = _write(tmp_path, raw)
    with pytest.raises(SnapshotError) as err:
        Snapshot.load(path)
    message = str(err.value)
    assert str(path) in message
    assert "$.issues[3].fields.status: required but missing or null" in message


def test_bad_updated_timestamp_is_reported_with_its_path(tmp_path: Path) -> None:
    raw = _raw()
    raw["issues"][0]["fields"]["updated"] = "yesterday"
    with pytest.raises(SnapshotError, match=r"\$\.issues\[0\]\.fields\.updated: is not a Jira timestamp"):
        Snapshot.load(_write(tmp_path, raw))


def test_project_and_format_problems_are_all_listed(tmp_path: Path) -> None:
    raw = _raw()
    raw["format"] = "something/2"
    raw["projects"][1]["key"] = "lower-case"
    del raw["users"][0]["displayName"]
    with pytest.raises(SnapshotError) as err:
        Snapshot.load(_write(tmp_path, raw))
    message = str(err.value)
    assert "$.format:" in message
    assert "$.projects[1].key:" in message
    assert "$.users[0].displayName: Field required" in message


def test_duplicate_issue_keys_are_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["issues"][2]["key"] = raw["issues"][1]["key"]
    with pytest.raises(SnapshotError, match="duplicate issue key"):
        Snapshot.load(_write(tmp_path, raw))


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "pmo-gates-snapshot/1",\n  "issues": [,]}', encoding="utf-8")
    with pytest.raises(SnapshotError, match=r"broken\.json: not valid JSON at line 2 column"):
        Snapshot.load(path)


def test_missing_file_and_non_object(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="cannot read snapshot"):
        Snapshot.load(tmp_path / "nope.json")
    with pytest.raises(SnapshotError, match=r"\$: a snapshot is a JSON object"):
        Snapshot.load(_write(tmp_path, [1, 2]))


def test_extra_keys_of_jira_objects_are_kept(tmp_path: Path) -> None:
    raw = _raw()
    raw["projects"][0]["avatarUrls"] = {"48x48": "https://example.com/a.png"}
    raw["issues"][0]["fields"]["customfield_99999"] = {"anything": [1, 2]}
    loaded = Snapshot.load(_write(tmp_path, raw))
    assert loaded.projects[0].model_dump(by_alias=True)["avatarUrls"]["48x48"].endswith("a.png")
    assert loaded.issues[0]["fields"]["customfield_99999"] == {"anything": [1, 2]}
