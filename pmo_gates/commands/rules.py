"""Rule-author commands: ``validate``, ``rules test`` and ``schema``.

With no paths they read the shipped packs plus ``./rules`` when it exists. Errors print as
``path:line:col: message`` (all of them at once) and make the exit code 1.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import typer

from pmo_gates.rules.errors import RuleFileError, RuleFileErrors
from pmo_gates.rules.examples import ExampleResult, rules_without_examples, run_examples
from pmo_gates.rules.loader import load_rule_set, shipped_packs
from pmo_gates.rules.ruleset import RuleSet
from pmo_gates.rules.schema import rule_file_schema

PATHS = typer.Argument(None, help="Rule files or folders (default: the shipped packs and ./rules).")
JSON = typer.Option(False, "--json", help="Print one JSON object instead of text.")
TODAY = typer.Option(None, "--today", help="Date deciding which waivers expired (default: today).")


def default_paths() -> list[Path]:
    local = Path("rules")
    return [*shipped_packs(), *([local] if local.is_dir() else [])]


def load(paths: list[Path] | None, today: dt.datetime | None, *, check_examples: bool) -> RuleSet:
    from pmo_gates.rules.facts.registry import default_catalog

    return load_rule_set(
        paths or default_paths(),
        default_catalog(),
        today=today.date() if today else None,
        check_examples=check_examples,
    )


def validate_command(paths: list[Path] | None, as_json: bool, today: dt.datetime | None) -> int:
    try:
        rule_set = load(paths, today, check_examples=True)
    except RuleFileErrors as exc:
        _emit_errors(exc.errors, as_json)
        return 1
    counts = rule_set.counts()
    if as_json:
        warnings = [e.model_dump() for e in rule_set.warnings]
        typer.echo(json.dumps({"ok": True, "errors": [], "warnings": warnings, "counts": counts}, indent=2))
        return 0
    for warning in rule_set.warnings:
        typer.echo(str(warning))
    typer.echo(
        f"OK: {counts['files']} files, {counts['rules']} rules ({counts['enabled_rules']} enabled), "
        f"{counts['gates']} gates, {counts['waivers']} waivers, {counts['examples']} examples, "
        f"{counts['warnings']} warnings"
    )
    return 0


def test_command(paths: list[Path] | None, as_json: bool, today: dt.datetime | None) -> int:
    try:
        rule_set = load(paths, today, check_examples=False)
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
        typer.echo(json.dumps(payload, indent=2, default=str))
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


def _emit_errors(errors: list[RuleFileError], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"ok": False, "errors": [e.model_dump() for e in errors]}, indent=2))
        return
    for error in errors:
        typer.echo(str(error))
    count = sum(1 for e in errors if e.severity == "error")
    typer.echo(f"{count} error{'s' if count != 1 else ''}")


def register(app: typer.Typer) -> None:
    rules_app = typer.Typer(name="rules", help="Rule-author tools.", no_args_is_help=True)
    app.add_typer(rules_app)

    @app.command("validate")
    def validate(paths: list[Path] | None = PATHS, as_json: bool = JSON, today: dt.datetime | None = TODAY) -> None:
        """Check rule files: schema, expressions, references, waivers and examples; every error at once."""
        raise typer.Exit(validate_command(paths, as_json, today))

    @rules_app.command("test")
    def test(paths: list[Path] | None = PATHS, as_json: bool = JSON, today: dt.datetime | None = TODAY) -> None:
        """Run every rule and gate example, reporting like pytest."""
        raise typer.Exit(test_command(paths, as_json, today))

    @app.command("schema")
    def schema(
        output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    ) -> None:
        """Print the JSON Schema of rule files (for yaml-language-server)."""
        text = json.dumps(rule_file_schema(), indent=2) + "\n"
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
