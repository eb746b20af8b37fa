"""The ``pmo-gates`` command line: one typer app, each area's commands registered from its own module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="pmo-gates",
    help="A Project Management Office as code: Jira sync, gate reviews, root-cause analysis, corrective actions.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals can hold tokens: never print them
)

# Each module defines ``register(app)``; keeping the list here makes the command surface one glance.
COMMAND_MODULES = [
    "pmo_gates.commands.sandbox",
    "pmo_gates.commands.rules",
    "pmo_gates.commands.sync",
    "pmo_gates.commands.snapshot",
    "pmo_gates.commands.review",
    "pmo_gates.commands.actions",
    "pmo_gates.commands.rca",
    "pmo_gates.commands.report",
    "pmo_gates.commands.serve",
    "pmo_gates.commands.demo",
    "pmo_gates.commands.doctor",
    "pmo_gates.commands.init",
    "pmo_gates.commands.rules_impact",  # after .rules: adds `rules impact` to its group
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
