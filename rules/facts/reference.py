"""The facts reference (``docs/facts.md``, and the facts table in the README), generated from the registry
so it never drifts.

python -m pmo_gates.rules.facts.reference -o docs/facts.md --readme README.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pmo_gates.rules.facts.context import FactParams, FactThresholds
from pmo_gates.rules.facts.registry import FactRegistry, builtin_registry

COMMAND = "python -m pmo_gates.rules.facts.reference -o docs/facts.md --readme README.md"
README_START = "<!-- facts table: generated, see docs/facts.md -->"
README_END = "<!-- end of facts table -->"

# Copied by users; tests/test_facts_reference.py runs it, so it stays correct.
EXAMPLE = '''\
from sqlalchemy import func, select

from pmo_gates.rules.catalog import FactType
from pmo_gates.rules.facts import FactContext, FactRegistry
from pmo_gates.rules.facts.queries import is_open, work_issue_criteria
from pmo_gates.store.models import Issue

registry = FactRegistry("acme")


@registry.register(
    "open_high_priority",
    type=FactType.INTEGER,
    unit="issues",
    nullable=False,
    default=0,
    description="Open work issues of priority Highest or High.",
)
def open_high_priority(ctx: FactContext) -> dict[str, int]:
    """0 for a project without such issues (projects the query omits get the default)."""
    rows = ctx.session.execute(
        select(Issue.project_key, func.count())
        .where(is_open(), Issue.priority.in_(["Highest", "High"]), *work_issue_criteria(ctx))
        .group_by(Issue.project_key)
    )
    return {key: count for key, count in rows}
'''

INTRO = f"""\
# Facts reference

<!-- Generated from the fact registry by `{COMMAND}`. Do not edit by hand:
     tests/test_facts_reference.py fails when this file and the registry disagree. -->

Facts are the vocabulary of the rules: one named, typed value per project, computed from the store
before any rule runs. A rule reads them by name, e.g. `spi >= 0.9 and open_blockers == 0`.

Conventions:

- **null means unknown**: the data needed is missing (no planned dates, no budget, nothing to divide by).
  Counts are never null: a project with nothing to count gets 0.
- **Work issues** are a project's issues except its anchor issue (the one holding the PMO fields),
  issues of the anchor issue type, risk-register entries (`risk_issue_types`) and the corrective-action
  tickets pmo-gates opened itself. Counts, progress, forecasts, flow and scope facts are about work issues.
- **Open** means a status outside the done category; **in progress** means the indeterminate category.
- **today** is given to the computation (the configured `today`, or the real date); durations run to the
  end of today, in UTC calendar days. Facts read the store as it is: a replay pinned to a past day still
  sees data synced after it.
- Percentages (`%`) run 0-100, ratios 0-1. Numbers are rounded to 6 decimal places so SQLite and
  PostgreSQL give identical facts.
- Every fact is computed for all projects at once (SQL aggregates, or one streamed scan of the status
  changelog), so the number of queries does not grow with the number of projects.

## Adding a fact

Write one function that computes the fact for every project in scope and returns
`{{project_key: value}}`, register it, and test it on a small hand-built portfolio
(see `tests/fixtures_facts.py`). Its docstring becomes the fact's details below. In your own package,
make a registry and expose it through the `pmo_gates.facts` entry point group
(`acme = "acme_pmo.facts:registry"` under `[project.entry-points."pmo_gates.facts"]`); built-in facts
register on `pmo_gates.rules.facts.builtin.registry` the same way. Facts that share work (one query
feeding several facts) read it through a function decorated with `pmo_gates.rules.facts.shared`,
which runs once per computation.

```python
{EXAMPLE}```
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def fact_table(registry: FactRegistry | None = None) -> list[str]:
    """Every fact as a Markdown table row: name, type, unit, one-line definition."""
    registry = registry if registry is not None else builtin_registry()
    lines = ["| name | type | unit | definition |", "|---|---|---|---|"]
    for definition in registry.definitions():
        spec = definition.spec
        kind = spec.type.value + (f" ({', '.join(spec.choices)})" if spec.choices else "")
        lines.append(f"| `{spec.name}` | {kind} | {_cell(spec.unit) or '-'} | {_cell(spec.description)} |")
    return lines


def with_readme_table(readme: str, registry: FactRegistry | None = None) -> str:
    """``readme`` with the text between its facts-table markers replaced by the current table."""
    head, found, rest = readme.partition(README_START)
    _, found_end, tail = rest.partition(README_END)
    if not (found and found_end):
        raise ValueError(f"the README lacks the markers {README_START!r} ... {README_END!r}")
    table = "\n".join(fact_table(registry))
    return f"{head}{README_START}\n{table}\n{README_END}{tail}"


def render_reference(registry: FactRegistry | None = None) -> str:
    """The reference as Markdown: conventions, the facts table, each fact's details, the parameters."""
    registry = registry if registry is not None else builtin_registry()
    lines = [INTRO, "## Facts", "", *fact_table(registry)]
    lines += ["", "## Details and edge cases", ""]
    for definition in registry.definitions():
        nullable = "" if definition.spec.nullable else f" Never null (default {definition.default!r})."
        lines.append(f"- **`{definition.name}`**: {definition.details}{nullable}")
    lines += [
        "",
        "## Parameters",
        "",
        "Thresholds and names the facts depend on (`FactParams`), set in the config's `facts:` section; the "
        "last two come from `portfolio.anchor_issue_type` and `fields.phase`:",
        "",
        "| parameter | default | meaning |",
        "|---|---|---|",
    ]
    for name, field in FactParams.model_fields.items():
        default = field.default
        shown = ", ".join(default) if isinstance(default, tuple) else default
        key = f"facts.{name}" if name in FactThresholds.model_fields else name
        lines.append(f"| `{key}` | `{shown}` | {_cell(field.description or '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pmo_gates.rules.facts.reference", description=__doc__)
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    parser.add_argument("--readme", type=Path, help="also refresh the facts table in this README")
    args = parser.parse_args(argv)
    if args.readme:
        args.readme.write_text(with_readme_table(args.readme.read_text(encoding="utf-8")), encoding="utf-8")
    text = render_reference()
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
