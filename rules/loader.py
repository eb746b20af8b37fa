"""Loads rule files into a :class:`RuleSet`, reporting every error at once as ``path:line:col: message``.

    >>> rule_set = load_rule_set(["rules/packs"], default_catalog(), enabled_packs=["establishment"])

Phase 1 reads each file against the schema (YAML syntax, unknown keys, types, missing keys); phase 2
checks across files (duplicate ids, references from gates and waivers, settings), compiles every
expression against the fact catalog, and runs the examples. Expired waivers are warnings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from pmo_gates.rules.actions import ActionRegistry, action_registry
from pmo_gates.rules.catalog import FactCatalog
from pmo_gates.rules.errors import RuleFileError, RuleFileErrors
from pmo_gates.rules.examples import run_examples
from pmo_gates.rules.expr import FunctionRegistry, function_registry
from pmo_gates.rules.file_reader import FileContent, read_file
from pmo_gates.rules.gates import GATE_FACT
from pmo_gates.rules.models import Pack
from pmo_gates.rules.ruleset import RuleSet
from pmo_gates.rules.semantics import Compiler, check_waivers, compile_gates, compile_rules, merge_settings
from pmo_gates.rules.yaml_bounds import MAX_FILE_BYTES
from pmo_gates.rules.yaml_source import load_yaml

PACKS_DIR = Path(__file__).parent / "packs"
YAML_SUFFIXES = (".yaml", ".yml")
KIND_LINE = re.compile(r"^kind:[ \t]*([^#\s]+)", re.MULTILINE)


def shipped_packs() -> list[Path]:
    """The rule files that ship with pmo-gates (rules/packs)."""
    return [PACKS_DIR]


def find_rule_files(paths: Iterable[Path | str]) -> tuple[list[Path], list[RuleFileError]]:
    """Files named directly plus the *.yaml / *.yml under named folders, each once, sorted per folder.

    In folders, YAML files declaring another ``kind:`` (e.g. ``kind: rca-playbook``) are skipped: they
    share the rules folder but are not rule files.
    """
    files: list[Path] = []
    seen: set[Path] = set()
    errors: list[RuleFileError] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file() and not _other_kind(p)
            )
        elif path.is_file():
            found = [path]
        else:
            errors.append(RuleFileError(path=display_path(path), line=1, col=1, message="no such file or folder"))
            continue
        for file in found:
            resolved = file.resolve()
            if resolved not in seen:
                seen.add(resolved)
                files.append(file)
    return files, errors


def _other_kind(path: Path) -> bool:
    """True for a YAML file with a top-level ``kind:`` other than ``rules`` (cheap text check)."""
    try:
        with path.open("rb") as handle:  # bounded: a huge file is refused later, by the reader
            text = handle.read(MAX_FILE_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    match = KIND_LINE.search(text)
    return match is not None and match.group(1).strip("'\"") != "rules"


def display_path(path: Path) -> str:
    """Relative to the working directory when inside it (how editors and CI show positions)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_rule_set(
    paths: Iterable[Path | str],
    catalog: FactCatalog,
    *,
    enabled_packs: Iterable[Pack | str] | None = None,
    today: dt.date | None = None,
    functions: FunctionRegistry | None = None,
    actions: ActionRegistry | None = None,
    check_examples: bool = True,
) -> RuleSet:
    """Load, validate and compile the rule files under ``paths``.

    ``enabled_packs`` (default: all) selects which packs' rules are evaluated; rules of other packs
    are still validated. ``today`` (default: the system date) decides which waivers have expired.
    With ``check_examples`` a failing example is an error. Raises :class:`RuleFileErrors`.
    """
    packs = frozenset(Pack(p) for p in enabled_packs) if enabled_packs is not None else frozenset(Pack)
    today = today or dt.date.today()
    compiler = Compiler(catalog, functions or function_registry)
    files, errors = find_rule_files(paths)
    contents: list[FileContent] = []
    digests: list[str] = []
    for file in files:
        document = load_yaml(file, name=display_path(file))
        if isinstance(document, RuleFileError):
            errors.append(document)
            continue
        digests.append(hashlib.sha256(document.text.encode("utf-8")).hexdigest())
        content, file_errors = read_file(document, actions or action_registry)
        errors += file_errors
        contents.append(content)
    compiler.errors = errors

    merge_settings(contents, compiler)
    rules = compile_rules(contents, compiler)
    known_rules = {read.spec.id for content in contents for read in content.rules}
    gates = compile_gates(contents, known_rules, compiler)
    if gates and GATE_FACT not in catalog:
        first = next(c for c in contents if c.gates)
        compiler.errors.append(
            first.document.error(("gates",), f"gates need the fact {GATE_FACT!r} in the catalog", at_key=True)
        )
    waivers = check_waivers(contents, known_rules, today, compiler)

    rule_set = RuleSet(
        catalog=catalog,
        rules=rules,
        gates=gates,
        waivers=waivers,
        settings=dict(compiler.settings),
        enabled_packs=packs,
        files=tuple(display_path(f) for f in files),
        digest=hashlib.sha256("\n".join(sorted(digests)).encode()).hexdigest(),
        warnings=sorted(compiler.warnings, key=RuleFileError.sort_key),
    )
    if check_examples:
        for result in run_examples(rule_set):
            if not result.passed:
                compiler.errors.append(
                    RuleFileError(path=result.path, line=result.line, col=result.col, message=result.message)
                )
    if compiler.errors:
        raise RuleFileErrors(compiler.errors)
    return rule_set
