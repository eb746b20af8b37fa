import doctest
from pathlib import Path

import pmo_gates.rules.facts
from pmo_gates.rules.facts import FactRegistry, compute_facts
from pmo_gates.rules.facts.reference import EXAMPLE, main, render_reference, with_readme_table
from tests.fixtures_facts import TODAY, Portfolio

DOCS = Path(__file__).resolve().parent.parent / "docs" / "facts.md"
README = DOCS.parent.parent / "README.md"


def test_committed_reference_matches_the_registry():
    assert DOCS.read_text(encoding="utf-8") == render_reference(), (
        "docs/facts.md is stale: run python -m pmo_gates.rules.facts.reference -o docs/facts.md"
    )


def test_readme_lists_every_fact():
    text = README.read_text(encoding="utf-8")
    assert text == with_readme_table(text), (
        "README.md's facts table is stale: run python -m pmo_gates.rules.facts.reference -o docs/facts.md "
        "--readme README.md"
    )
    for name in pmo_gates.rules.facts.builtin_registry():
        assert f"| `{name}` |" in text


def test_reference_lists_every_fact_and_parameter():
    text = render_reference()
    for name in pmo_gates.rules.facts.builtin_registry():
        assert f"| `{name}` |" in text and f"- **`{name}`**:" in text
    assert "| `facts.wip_limit` | `5` |" in text
    assert f"```python\n{EXAMPLE}```" in text


def test_main_writes_the_file(tmp_path, capsys):
    assert main(["-o", str(tmp_path / "facts.md")]) == 0
    assert (tmp_path / "facts.md").read_text(encoding="utf-8") == render_reference()
    assert main([]) == 0
    assert capsys.readouterr().out == render_reference()


def test_the_documented_example_runs(sqlite_store):
    namespace: dict = {}
    exec(compile(EXAMPLE, "docs/facts.md", "exec"), namespace)
    registry = namespace["registry"]
    assert isinstance(registry, FactRegistry)
    p = Portfolio()
    p.project("A")
    p.project("B")
    p.issue("A", "To Do", priority="Highest")
    p.issue("A", "In Progress", priority="High")
    p.issue("A", "Done", priority="High")
    p.issue("A", "To Do", priority="Low")
    p.save(sqlite_store)
    facts = compute_facts(sqlite_store, today=TODAY, registry=registry)
    assert facts == {"A": {"open_high_priority": 2}, "B": {"open_high_priority": 0}}


def test_package_docstring_examples():
    result = doctest.testmod(pmo_gates.rules.facts, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
