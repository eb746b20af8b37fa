"""The portfolio's extra JQL stays inside the brackets it is ANDed in: no ')' can escape the project bound."""

from __future__ import annotations

import pytest

from pmo_gates.connectors.jql_bound import jql_bound_problem
from pmo_gates.connectors.search import scope_jql

ESCAPES = [
    "status = Open) OR (project = SECRET",
    "x = 1)) OR ((project = SECRET",
    ") OR project is not EMPTY OR (",
    "status = Open ORDER BY created",
    "summary ~ 'unterminated",
    "((status = Open)",
]
SAFE = [
    "status = Open",
    'summary ~ "a) OR (project = SECRET"',  # inside a string: text, not syntax
    "summary ~ 'it\\'s (fine)' AND (labels = x OR labels = y)",
    'summary ~ "order by"',
]


@pytest.mark.parametrize("jql", ESCAPES)
def test_breaking_out_is_refused(jql: str) -> None:
    assert jql_bound_problem(jql) is not None
    with pytest.raises(ValueError, match=r"portfolio\.jql"):
        scope_jql(["ALPHA"], jql)


@pytest.mark.parametrize("jql", SAFE)
def test_balanced_jql_is_wrapped_inside_the_bound(jql: str) -> None:
    assert jql_bound_problem(jql) is None
    assert scope_jql(["ALPHA"], jql) == f'project in ("ALPHA") AND ({jql})'
