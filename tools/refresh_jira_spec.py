#!/usr/bin/env python3
"""Refresh ``pmo_gates/sandbox/spec/``: the part of Atlassian's Jira Cloud OpenAPI description that pmo-gates uses.

The tests and ``pmo-gates sandbox --validate`` hold every Jira exchange to Atlassian's published contract. The
published file is 2.4 MB and describes ~600 operations; we keep only the operations our connector calls or the
sandbox serves, with every component they ``$ref`` (transitively), so a clone is self-sufficient and the diff of
a refresh shows what changed in the parts we depend on.

    python tools/refresh_jira_spec.py                      # download the published spec
    python tools/refresh_jira_spec.py --source spec.json   # or use a local copy

The operations are the sandbox's routes (``pmo_gates.sandbox.api.build_router``) plus ``CLIENT_OPERATIONS``
below (what the connector and the ``jira`` client call that the sandbox does not serve). An operation missing
from the source stops the refresh: update the list, the connector or the sandbox first.

The spec is Atlassian's, licensed under the Apache License 2.0 (a copy sits beside the subset as
``LICENSE-Apache-2.0``); ``NOTICE`` records its source, version and this modification.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PUBLISHED_URL = "https://developer.atlassian.com/cloud/jira/platform/swagger-v3.v3.json"
OUT_DIR = REPO / "pmo_gates" / "sandbox" / "spec"
SUBSET_NAME = "jira-cloud-platform-v3.subset.json"
API_ROOT = "/rest/api/3"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# (method, path below /rest/api/3) the connector, the action writer or the ``jira`` client calls and the sandbox
# does not serve. Path parameters may have any name: they match the spec's.
CLIENT_OPERATIONS: list[tuple[str, str]] = []


def load_source(source: str) -> dict[str, Any]:
    """The published spec from a URL or a local file."""
    if re.match(r"^https?://", source):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())
    return json.loads(Path(source).read_text(encoding="utf-8"))


def wanted_operations() -> list[tuple[str, str]]:
    """Every (method, path below the API root) we need, sandbox routes first."""
    from pmo_gates.sandbox.api import build_router

    found = [(method.lower(), template) for method, template, _ in build_router().templates()]
    found += [(method.lower(), path) for method, path in CLIENT_OPERATIONS]
    return list(dict.fromkeys(found))


def _shape(path: str) -> str:
    """A path with its parameter names erased: ``/issue/{key}`` and ``/issue/{issueIdOrKey}`` compare equal."""
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/"))


def select_paths(spec: dict[str, Any], wanted: Iterable[tuple[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """The spec's path items cut down to the wanted methods, and the wanted operations the spec lacks."""
    by_shape = {_shape(template): template for template in spec["paths"]}
    paths: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for method, path in wanted:
        template = by_shape.get(_shape(API_ROOT + path))
        item = spec["paths"].get(template) if template else None
        if item is None or method not in item:
            missing.append(f"{method.upper()} {API_ROOT}{path}")
            continue
        kept = paths.setdefault(template, {k: v for k, v in item.items() if k not in METHODS})
        kept[method] = item[method]
    # The source's order, so a refresh diffs cleanly.
    ordered = {t: {k: paths[t][k] for k in spec["paths"][t] if k in paths[t]} for t in spec["paths"] if t in paths}
    return ordered, missing


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise SystemExit(f"external $ref {ref!r} is not supported: the subset must be self-contained")
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def referenced_components(spec: dict[str, Any], roots: Any) -> dict[str, dict[str, Any]]:
    """Every component reachable through ``$ref`` from ``roots``, grouped as in ``components``."""
    seen: set[str] = set()
    pending = list(_refs(roots))
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        pending.extend(_refs(_resolve(spec, ref)))
    components: dict[str, dict[str, Any]] = {}
    for kind, entries in spec.get("components", {}).items():
        kept = {name: entry for name, entry in entries.items() if f"#/components/{kind}/{name}" in seen}
        if kept:
            components[kind] = kept
    unknown = sorted(r for r in seen if not r.startswith("#/components/"))
    if unknown:
        raise SystemExit(f"$ref outside components is not supported: {unknown}")
    return components


def security_schemes(spec: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """The security schemes the kept operations (or the whole API) name: they are named, never ``$ref``'d."""
    names = {name for requirement in spec.get("security", []) for name in requirement}
    for item in paths.values():
        for method in METHODS:
            for requirement in item.get(method, {}).get("security", []):
                names.update(requirement)
    schemes = spec.get("components", {}).get("securitySchemes", {})
    return {name: schemes[name] for name in schemes if name in names}


def subset(spec: dict[str, Any], wanted: list[tuple[str, str]], *, source: str, retrieved: str) -> dict[str, Any]:
    """The self-contained subset of ``spec`` for ``wanted``; SystemExit naming what the source lacks."""
    paths, missing = select_paths(spec, wanted)
    if missing:
        listed = "\n  ".join(missing)
        raise SystemExit(
            f"the source spec lacks {len(missing)} operation(s) pmo-gates uses:\n  {listed}\n"
            "update the sandbox routes or CLIENT_OPERATIONS in tools/refresh_jira_spec.py first"
        )
    components = referenced_components(spec, paths)
    schemes = security_schemes(spec, paths)
    if schemes:
        components["securitySchemes"] = schemes
    out: dict[str, Any] = {
        key: spec[key] for key in ("openapi", "info", "servers", "security", "externalDocs") if key in spec
    }
    out["x-pmo-gates-subset"] = {
        "source": source,
        "sourceVersion": spec.get("info", {}).get("version"),
        "retrieved": retrieved,
        "note": "Atlassian's spec cut down to these operations and the components they reference "
        "(tools/refresh_jira_spec.py); otherwise unchanged.",
        "operations": [f"{m.upper()} {t}" for t, item in paths.items() for m in METHODS if m in item],
    }
    out["paths"] = paths
    out["components"] = components
    return out


NOTICE = """\
pmo_gates/sandbox/spec/{subset}

This file is a subset of "The Jira Cloud platform REST API" OpenAPI description published by Atlassian
({contact}), licensed under the Apache License, Version 2.0 (see LICENSE-Apache-2.0 in this folder, or
http://www.apache.org/licenses/LICENSE-2.0).

Source:        {source}
Source version (info.version): {version}
Retrieved:     {retrieved}
Modification:  only the {count} operations pmo-gates uses (the sandbox's routes and the connector's calls) and
               the components they reference were kept, by tools/refresh_jira_spec.py; nothing else was edited.
               The list is in the file's "x-pmo-gates-subset" key.
"""


def write(out_dir: Path, spec_subset: dict[str, Any]) -> Path:
    meta = spec_subset["x-pmo-gates-subset"]
    target = out_dir / SUBSET_NAME
    target.write_text(json.dumps(spec_subset, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "NOTICE").write_text(
        NOTICE.format(
            subset=SUBSET_NAME,
            contact=spec_subset.get("info", {}).get("contact", {}).get("email", "Atlassian"),
            source=meta["source"],
            version=meta["sourceVersion"],
            retrieved=meta["retrieved"],
            count=len(meta["operations"]),
        ),
        encoding="utf-8",
    )
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=PUBLISHED_URL, help=f"URL or file of the full spec ({PUBLISHED_URL})")
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help="where the subset and NOTICE go")
    parser.add_argument("--retrieved", help="when the source was published or copied (default: today)")
    args = parser.parse_args(argv)
    try:
        spec = load_source(args.source)
    except (OSError, ValueError) as exc:
        print(f"cannot read the spec from {args.source}: {exc}", file=sys.stderr)
        return 1
    retrieved = args.retrieved or dt.date.today().isoformat()
    # A local copy is named by what it is a copy of, not by a path on the refresher's machine.
    source = (
        args.source if re.match(r"^https?://", args.source) else f"{PUBLISHED_URL} (copy: {Path(args.source).name})"
    )
    spec_subset = subset(spec, wanted_operations(), source=source, retrieved=retrieved)
    target = write(args.out_dir, spec_subset)
    meta = spec_subset["x-pmo-gates-subset"]
    kinds = {kind: len(entries) for kind, entries in spec_subset["components"].items()}
    print(
        f"wrote {target.relative_to(REPO) if target.is_relative_to(REPO) else target}: "
        f"{len(meta['operations'])} operations, components {kinds}, {target.stat().st_size:,} bytes "
        f"(source {meta['sourceVersion']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
