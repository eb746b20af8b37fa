"""``pmo-gates rules impact``: which projects' findings and gate decisions a rule change would change,
evaluated on the current store; for reviewing a rule change in a pull request.

Exit codes: 0 done, 1 store failure, 2 configuration, rule or git error.
"""

from __future__ import annotations

from pathlib import Path

import typer

from pmo_gates.defaults import DEFAULT_CONFIG
from pmo_gates.formatting import to_json


def register(app: typer.Typer) -> None:
    # The `rules` group belongs to pmo_gates.commands.rules (registered first); find it by its name.
    rules_app = next(
        group.typer_instance
        for group in app.registered_groups
        if group.typer_instance is not None and group.typer_instance.info.name == "rules"
    )

    @rules_app.command("impact")
    def impact(
        config: Path = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="The pmo-gates config file."),
        base: str | None = typer.Option(None, "--base", help="Git ref of the rules to compare against (e.g. main)."),
        base_dir: list[Path] | None = typer.Option(None, "--base-dir", help="Base rule folder(s) instead of a ref."),
        head_dir: list[Path] | None = typer.Option(
            None, "--head-dir", help="Changed rule folder(s) (default: config)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the impact as one JSON object."),
        markdown: bool = typer.Option(False, "--markdown", help="Print markdown (for a pull-request comment)."),
    ) -> None:
        """Show which projects' findings and gate decisions change between two rule sets, and why."""
        from pmo_gates.commands.common import settings_and_store
        from pmo_gates.impact.git_rules import ImpactError
        from pmo_gates.impact.render import render_markdown, render_text
        from pmo_gates.impact.run import rules_impact

        with settings_and_store(config, "evaluating the rule change") as (settings, store):
            try:
                report = rules_impact(
                    settings, store, base_ref=base, base_dirs=base_dir or None, head_dirs=head_dir or None
                )
            except ImpactError as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(2) from None
        if as_json:
            typer.echo(to_json(report.model_dump(mode="json")))
        elif markdown:
            typer.echo(render_markdown(report), nl=False)
        else:
            typer.echo(render_text(report))
