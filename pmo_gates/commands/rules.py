"""Rule-author commands: ``validate``, ``rules test`` and ``schema``.

They check the rule set that runs: with ``--config`` (or a ``./pmo-gates.yaml``) the config's ``rules.paths``
(default: the shipped packs), waivers and enabled packs, exactly as ``review`` loads them, and ``validate``
checks the playbooks (``rca.yaml``, ``priority.yaml``) that run would use too. Without a config they read
the shipped packs plus ``./rules`` when it exists; paths on the command line replace the rule paths.
Errors print as ``path:line:col: message`` (all of them at once) and make the exit code 1; a config that
cannot be read exits 2.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pmo_gates.defaults import DEFAULT_CONFIG
from pmo_gates.formatting import to_json

if TYPE_CHECKING:  # the rule machinery is imported when a rule command runs, not for every command
    from pmo_gates.rules.errors import RuleFileError
    from pmo_gates.rules.examples import ExampleResult
    from pmo_gates.rules.ruleset import RuleSet

PATHS = typer.Argument(None, help="Rule files or folders (default: the shipped packs and ./rules).")
JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")
TODAY = typer.Option(
    None, "--today", help="Date deciding which waivers expired (default: the config's today:, else today)."
)
CONFIG = typer.Option(
    None,
    "--config",
    "-c",
    help="Check the rule set and playbooks this config runs (default: ./pmo-gates.yaml when it exists, else the "
    "shipped packs and ./rules).",
)


def default_paths() -> list[Path]:
    from pmo_gates.rules.loader import shipped_packs

    local = Path("rules")
    return [*shipped_packs(), *([local] if local.is_dir() else [])]


@dataclass(frozen=True)
class Selection:
    """The rule set a command checks: its paths, enabled packs and date, and where playbooks are looked up."""

    paths: list[Path]
    enabled_packs: list[str] | None
    today: dt.date | None
    playbook_paths: list[Path]
    config: Path | None


def select(paths: list[Path] | None, config: Path | None, today: dt.datetime | None) -> Selection:
    """What to check: ``--config`` (or ``./pmo-gates.yaml`` when present) as ``review`` reads it, with
    explicit ``paths`` replacing its rule paths. ``ConfigError`` when the config cannot be read."""
    from pmo_gates.actions.run import rule_paths
    from pmo_gates.config import load_settings

    chosen = config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    day = today.date() if today else None
    if chosen is None:
        found = paths or default_paths()
        return Selection(found, None, day, found, None)
    settings = load_settings(chosen)
    day = day or settings.today
    if paths:
        return Selection([*paths, *settings.rules.waivers], settings.rules.enabled_packs, day, paths, chosen)
    return Selection(rule_paths(settings), settings.rules.enabled_packs, day, settings.rules.paths, chosen)


def load(selection: Selection, *, check_examples: bool) -> RuleSet:
    from pmo_gates.rules.facts.registry import default_catalog
    from pmo_gates.rules.loader import load_rule_set

    return load_rule_set(
        selection.paths,
        default_catalog(),
        enabled_packs=selection.enabled_packs,
        today=selection.today,
        check_examples=check_examples,
    )


def check_playbooks(selection: Selection) -> tuple[list[str], list[str]]:
    """The playbooks the selection's runs would use, and every error in them (``path:line:col: message``)."""
    from pmo_gates.rca.playbook import load_playbook
    from pmo_gates.rca.run import find_playbook
    from pmo_gates.rca.yamlfile import PlaybookError
    from pmo_gates.reports.priority import load_priority

    checked: list[str] = []
    errors: list[str] = []
    for name, loader in (("rca.yaml", load_playbook), ("priority.yaml", load_priority)):
        path = find_playbook(selection.playbook_paths, name)
        checked.append(str(path))
        try:
            loader(path)
        except PlaybookError as exc:
            errors.extend(line for line in str(exc).splitlines() if line.strip())
    return checked, errors


def validate_command(
    paths: list[Path] | None, as_json: bool, today: dt.datetime | None, config: Path | None = None
) -> int:
    from pmo_gates.rules.errors import RuleFileErrors

    selection = _selected(paths, config, today)
    playbooks, playbook_errors = check_playbooks(selection)
    try:
        rule_set = load(selection, check_examples=True)
    except RuleFileErrors as exc:
        _emit_errors(exc.errors, as_json, playbook_errors)
        return 1
    if playbook_errors:
        _emit_errors([], as_json, playbook_errors)
        return 1
    counts = rule_set.counts()
    if as_json:
        warnings = [e.model_dump() for e in rule_set.warnings]
        payload = {"ok": True, "errors": [], "warnings": warnings, "counts": counts, "playbooks": playbooks}
        typer.echo(to_json(payload))
        return 0
    for warning in rule_set.warnings:
        typer.echo(str(warning))
    typer.echo(
        f"OK: {counts['files']} files, {counts['rules']} rules ({counts['enabled_rules']} enabled), "
        f"{counts['gates']} gates, {counts['waivers']} waivers, {counts['examples']} examples, "
        f"{counts['warnings']} warnings"
    )
    typer.echo(f"OK: playbooks {', '.join(_shown(p) for p in playbooks)}")
    return 0


def _shown(path: str) -> str:
    """A shipped playbook by its place in the package, a user's as given."""
    from pmo_gates.rca.playbook import PLAYBOOKS_DIR

    resolved = Path(path).resolve()
    shipped = PLAYBOOKS_DIR.resolve()
    return f"(shipped) {resolved.name}" if resolved.parent == shipped else path


def _selected(paths: list[Path] | None, config: Path | None, today: dt.datetime | None) -> Selection:
    from pmo_gates.config import ConfigError

    try:
        return select(paths, config, today)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def test_command(paths: list[Path] | None, as_json: bool, today: dt.datetime | None, config: Path | None = None) -> int:
    from pmo_gates.rules.errors import RuleFileErrors
    from pmo_gates.rules.examples import rules_without_examples, run_examples

    selection = _selected(paths, config, today)
    try:
        rule_set = load(selection, check_examples=False)
    except RuleFileErrors as exc:
        _emit_errors(exc.errors, as_json)
        return 1
    results = run_examples(rule_set)
    bare = rules_without_examples(rule_set)
    failed = [r for r in results if not r.passed]
    if as_json:
        payload: dict[str, Any] = {
            "passed": len(results) - len(failed),
            "failed": len(failed),
            "results": [r.model_dump() for r in results],
            "rules_without_examples": [c.id for c in bare],
            "errors": [],
        }
        typer.echo(to_json(payload))
        return 1 if failed else 0
    by_file: dict[str, list[ExampleResult]] = defaultdict(list)
    for result in results:
        by_file[result.path].append(result)
    for path in rule_set.files:
        marks = "".join("." if r.passed else "F" for r in by_file.get(path, []))
        typer.echo(f"{path} {marks or '(no examples)'}")
    if failed:
        typer.echo("\n==== FAILURES ====")
        for result in failed:
            typer.echo(f"{result.where}: {result.kind} {result.subject!r} example {result.name!r}")
            typer.echo(f"  facts:    {json.dumps(result.facts, default=str, sort_keys=True)}")
            typer.echo(f"  expected: {result.expected}")
            typer.echo(f"  actual:   {result.actual}")
            typer.echo(f"  {result.message}")
    for compiled in bare:
        path, line, col = compiled.rule.location
        typer.echo(f"{path}:{line}:{col}: rule {compiled.id!r} has no examples")
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _emit_errors(errors: list[RuleFileError], as_json: bool, playbook_errors: list[str] | None = None) -> None:
    playbook_errors = playbook_errors or []
    if as_json:
        payload = {"ok": False, "errors": [e.model_dump() for e in errors], "playbook_errors": playbook_errors}
        typer.echo(to_json(payload))
        return
    for error in errors:
        typer.echo(str(error))
    for line in playbook_errors:
        typer.echo(line)
    count = sum(1 for e in errors if e.severity == "error") + len(playbook_errors)
    typer.echo(f"{count} error{'s' if count != 1 else ''}")


def _rule_ids(config: Path | None) -> list[str]:
    """The rule ids of the config's rule set (an empty list when it does not load: the schema still helps)."""
    from pmo_gates.rules.errors import RuleFileErrors

    selection = _selected(None, config, None)
    try:
        return sorted(load(selection, check_examples=False).rules)
    except RuleFileErrors:
        return []


def schema_with_rule_ids(schema: dict[str, Any], rule_ids: list[str]) -> dict[str, Any]:
    """The schema with ``rule_ids`` offered (as ``examples``, never enforced: a new rule may be added in the
    same change) wherever a rule is referenced: gate criteria and waivers."""
    if not rule_ids:
        return schema
    definitions = schema.get("definitions", {})
    targets = [
        definitions.get("GateSpec", {}).get("properties", {}).get("must_meet", {}).get("items"),
        definitions.get("ShouldMeet", {}).get("properties", {}).get("rule"),
        definitions.get("Waiver", {}).get("properties", {}).get("rule"),
    ]
    for target in targets:
        if isinstance(target, dict):
            target["examples"] = list(rule_ids)
    return schema


def register(app: typer.Typer) -> None:
    rules_app = typer.Typer(name="rules", help="Rule-author tools.", no_args_is_help=True)
    app.add_typer(rules_app)

    @app.command("validate")
    def validate(
        paths: list[Path] | None = PATHS,
        as_json: bool = JSON,
        today: dt.datetime | None = TODAY,
        config: Path | None = CONFIG,
    ) -> None:
        """Check rule files (schema, expressions, references, waivers, examples) and playbooks; every error at once."""
        raise typer.Exit(validate_command(paths, as_json, today, config))

    @rules_app.command("test")
    def test(
        paths: list[Path] | None = PATHS,
        as_json: bool = JSON,
        today: dt.datetime | None = TODAY,
        config: Path | None = CONFIG,
    ) -> None:
        """Run every rule and gate example, reporting like pytest."""
        raise typer.Exit(test_command(paths, as_json, today, config))

    @app.command("schema")
    def schema(
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
        config: Path | None = CONFIG,
    ) -> None:
        """Print the JSON Schema of rule files (for yaml-language-server), offering the rule ids in use."""
        from pmo_gates.rules.schema import rule_file_schema

        rule_ids = _rule_ids(config)
        text = json.dumps(schema_with_rule_ids(rule_file_schema(), rule_ids), indent=2) + "\n"
        if output is None:
            typer.echo(text, nl=False)
            return
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            typer.echo(f"--output {output}: cannot write there ({why}); choose a writable path", err=True)
            raise typer.Exit(2) from None
