"""A portfolio as a Jira looks before pmo-gates: the same projects, work and history, but none of the PMO
custom fields and no anchor issues. What ``pmo-gates doctor`` and ``init`` are tested against, and what the
README's "Your own Jira in 15 minutes" serves.

Example::

    python -m pmo_gates.sandbox.bare pmo_gates/sandbox/data/sample-portfolio.json -o bare.json
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pmo_gates.config import FieldMap
from pmo_gates.sandbox.snapshot import Snapshot

# Jira Software brings these itself: a site without pmo-gates has them too.
_JIRA_OWNED = frozenset({"story_points", "sprint", "epic_link"})


def without_pmo_setup(snapshot: Snapshot, *, anchor_issue_type: str = "Project", keep_fields: bool = False) -> Snapshot:
    """``snapshot`` minus the PMO custom fields (and their values) and the anchor issues (and links to them).

    The anchor issue type stays available in the projects: creating issue types is a Jira admin's job.
    ``keep_fields`` keeps the fields (without values), as on a Data Center site whose admin created them by
    hand (DC has no REST call to create them).
    """
    names = {name for key, name in FieldMap().model_dump().items() if key not in _JIRA_OWNED}
    pmo_fields = {f.id for f in snapshot.fields if f.custom and f.name in names}
    dropped = pmo_fields
    anchors = {i["key"] for i in snapshot.issues if i["fields"]["issuetype"]["name"] == anchor_issue_type}
    issues = []
    for issue in snapshot.issues:
        if issue["key"] in anchors:
            continue
        fields: dict[str, Any] = {k: v for k, v in issue["fields"].items() if k not in dropped}
        fields["issuelinks"] = [link for link in fields.get("issuelinks") or [] if not _links_to(link, anchors)]
        parent = fields.get("parent")
        if isinstance(parent, dict) and parent.get("key") in anchors:
            fields.pop("parent")
        issues.append({**issue, "fields": fields, "changelog": _without_fields(issue.get("changelog"), dropped, names)})
    fields = snapshot.fields if keep_fields else [f for f in snapshot.fields if f.id not in dropped]
    return snapshot.model_copy(update={"fields": fields, "issues": issues})


def _links_to(link: dict[str, Any], keys: set[str]) -> bool:
    return any((link.get(side) or {}).get("key") in keys for side in ("inwardIssue", "outwardIssue"))


def _without_fields(changelog: Any, ids: set[str], names: set[str]) -> Any:
    if not isinstance(changelog, dict):
        return changelog
    histories = []
    for history in changelog.get("histories") or []:
        items = [i for i in history.get("items") or [] if i.get("fieldId") not in ids and i.get("field") not in names]
        if items:
            histories.append({**history, "items": items})
    return {**changelog, "histories": histories, "total": len(histories), "maxResults": len(histories)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pmo_gates.sandbox.bare", description=__doc__.split("\n")[0])
    parser.add_argument("snapshot", type=Path, help="a snapshot file (e.g. the bundled sample)")
    parser.add_argument("-o", "--out", type=Path, required=True)
    args = parser.parse_args(argv)
    bare = without_pmo_setup(Snapshot.load(args.snapshot))
    bare.dump(args.out)
    print(f"wrote {args.out}: {len(bare.projects)} projects, {len(bare.issues)} issues, no PMO fields or anchors")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
