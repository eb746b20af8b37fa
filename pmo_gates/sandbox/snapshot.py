"""The snapshot file: a Jira portfolio frozen in Jira's own REST shapes.

The same format is written by ``pmo-gates snapshot export`` from a real Jira and by the sample generator,
and served by the sandbox. Every list holds the objects Jira's REST API returns, unchanged:

- ``serverInfo``: as ``GET /rest/api/2/serverInfo``
- ``fields``: as ``GET /rest/api/2/field``
- ``projects``: as ``GET /rest/api/2/project/{key}``
- ``issueLinkTypes``: the ``issueLinkTypes`` list of ``GET /rest/api/2/issueLinkType``
- ``users``: user objects (accountId and/or name, displayName, emailAddress, active)
- ``issues``: as ``GET /rest/api/2/issue/{key}?expand=changelog`` (all fields)
- optionally ``statuses``, ``priorities``, ``issueTypes`` as their ``GET`` lists (derived when absent)

Issues stay plain dicts (real data carries arbitrary custom fields); only the keys the sandbox relies on are
checked: ``id``, ``key``, ``fields.project``, ``fields.issuetype``, ``fields.status``, ``fields.updated``.

Example::

    snap = Snapshot.load("portfolio.json")
    print(len(snap.issues), snap.projects[0].key)
    snap.dump("copy.json")
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from pmo_gates.sandbox.gc_pause import gc_paused
from pmo_gates.sandbox.jira_time import format_datetime, parse_datetime

SNAPSHOT_FORMAT = "pmo-gates-snapshot/1"


class SnapshotError(ValueError):
    """A snapshot file that cannot be read; the message names the file and the JSON path of the problem."""


class JiraObject(BaseModel):
    """A Jira REST object: the named keys are checked, every other key is kept as it came."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class FieldDef(JiraObject):
    id: str
    name: str
    custom: bool = False
    json_schema: dict[str, Any] | None = Field(default=None, alias="schema")


class ProjectDef(JiraObject):
    id: str
    key: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    name: str


class LinkTypeDef(JiraObject):
    id: str
    name: str
    inward: str
    outward: str


class UserDef(JiraObject):
    displayName: str
    accountId: str | None = None
    name: str | None = None
    emailAddress: str | None = None
    active: bool = True

    @model_validator(mode="after")
    def _has_identity(self) -> UserDef:
        if not (self.accountId or self.name):
            raise ValueError("a user needs an accountId (Cloud) or a name (Data Center)")
        return self


def _require(issue: dict[str, Any], dotted: str) -> Any:
    node: Any = issue
    for part in dotted.split("."):
        if not isinstance(node, dict) or node.get(part) is None:
            raise PydanticCustomError("issue_shape", "required but missing or null", {"where": dotted})
        node = node[part]
    return node


def _check_issue(issue: dict[str, Any]) -> dict[str, Any]:
    for dotted in ("id", "key", "fields", "fields.project", "fields.issuetype", "fields.status"):
        _require(issue, dotted)
    if not str(issue["id"]).isdigit():
        raise PydanticCustomError("issue_shape", "must be a numeric string", {"where": "id"})
    fields = issue["fields"]
    if not isinstance(fields["project"], dict) or not (fields["project"].get("key") or fields["project"].get("id")):
        raise PydanticCustomError("issue_shape", "needs a key or an id", {"where": "fields.project"})
    for name in ("issuetype", "status"):
        _require(issue, f"fields.{name}.name")
    try:
        parse_datetime(str(_require(issue, "fields.updated")))
    except ValueError:
        raise PydanticCustomError("issue_shape", "is not a Jira timestamp", {"where": "fields.updated"}) from None
    return issue


IssueDict = Annotated[dict[str, Any], AfterValidator(_check_issue)]


class Snapshot(BaseModel):
    """A portfolio in Jira's REST shapes (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    format: Literal["pmo-gates-snapshot/1"] = SNAPSHOT_FORMAT
    exported_at: datetime
    server_info: dict[str, Any] = Field(alias="serverInfo")
    fields: list[FieldDef]
    projects: list[ProjectDef]
    issue_link_types: list[LinkTypeDef] = Field(alias="issueLinkTypes")
    users: list[UserDef]
    issues: list[IssueDict]
    statuses: list[dict[str, Any]] = Field(default_factory=list)
    priorities: list[dict[str, Any]] = Field(default_factory=list)
    issue_types: list[dict[str, Any]] = Field(default_factory=list, alias="issueTypes")

    @model_validator(mode="after")
    def _unique_keys(self) -> Snapshot:
        seen: dict[str, int] = {}
        for i, issue in enumerate(self.issues):
            if issue["key"] in seen:
                raise PydanticCustomError(
                    "duplicate_key",
                    "issues[{i}]: duplicate issue key {key} (also issues[{j}])",
                    {"i": i, "key": issue["key"], "j": seen[issue["key"]]},
                )
            seen[issue["key"]] = i
        return self

    @property
    def base_url(self) -> str:
        """The site URL the snapshot's ``self`` links point at."""
        return str(self.server_info.get("baseUrl") or "").rstrip("/")

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        """Read and check a snapshot file; raises SnapshotError naming the file and the JSON path."""
        path = Path(path)
        try:
            with path.open("rb") as fh, gc_paused():
                raw = json.load(fh)
        except OSError as exc:
            raise SnapshotError(f"{path}: cannot read snapshot: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
        return cls.from_json_data(raw, source=str(path))

    @classmethod
    def from_json_data(cls, raw: Any, *, source: str = "<snapshot>") -> Snapshot:
        """Check already-parsed JSON; raises SnapshotError listing every problem with its JSON path."""
        if not isinstance(raw, dict):
            raise SnapshotError(f"{source}: $: a snapshot is a JSON object, got {type(raw).__name__}")
        try:
            with gc_paused():
                return cls.model_validate(raw)
        except ValidationError as exc:
            problems = [f"  {_json_path(err)}: {err['msg']}" for err in exc.errors()[:20]]
            more = exc.error_count() - len(problems)
            if more > 0:
                problems.append(f"  ... and {more} more")
            raise SnapshotError(f"{source}: invalid snapshot:\n" + "\n".join(problems)) from None

    def header(self) -> dict[str, Any]:
        """Everything but the issues, as JSON-ready data in the file's key names."""
        rest = self.model_dump(
            by_alias=True, exclude={"issues", "format", "exported_at"}, exclude_unset=True, mode="json"
        )
        return {"format": self.format, "exported_at": format_datetime(self.exported_at), **rest}

    def dump(self, path: str | Path) -> None:
        """Write the snapshot as compact JSON, issue by issue (a 200,000-issue file never sits in memory)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for chunk in self.iter_json():
                fh.write(chunk)

    def iter_json(self) -> Iterator[str]:
        """The file's text in chunks; deterministic for equal snapshots."""
        # Embedded objects (users, statuses) are shared between issues, never cyclic: skip the cycle check.
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
        header = encoder.encode(self.header())
        yield header[:-1] + ',"issues":['
        for i, issue in enumerate(self.issues):
            yield ("," if i else "") + "\n" + encoder.encode(issue)
        yield "\n]}\n"


def _json_path(err: Any) -> str:
    path = "$"
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    where = (err.get("ctx") or {}).get("where")
    if where and err["type"] == "issue_shape":
        path += f".{where}"
    return path
