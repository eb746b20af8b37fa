"""Checks that the portfolio's extra JQL stays inside the parentheses it is wrapped in.

The synced scope is ``project in (...) AND (<extra>)``. An extra clause with an unbalanced ``)`` would
close that bracket early and ``OR`` its way out of the project bound (``x) OR (project = OTHER``), and an
``ORDER BY`` cannot live inside brackets. Quoted strings may hold anything, so they are skipped.
"""

from __future__ import annotations

import re

ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def jql_bound_problem(jql: str) -> str | None:
    """Why ``jql`` cannot be safely ANDed inside brackets, or None when it can."""
    depth = 0
    outside: list[str] = []  # the text outside string literals, for the ORDER BY check
    quote = ""
    index = 0
    while index < len(jql):
        ch = jql[index]
        if quote:
            if ch == "\\":
                index += 1  # the escaped character, whatever it is
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            outside.append(" ")
        else:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth < 0:
                    return f"has a ')' without its '(' at character {index + 1}: it would escape the project bound"
            outside.append(ch)
        index += 1
    if quote:
        return "has an unterminated string"
    if depth:
        return "has a '(' that is never closed"
    if ORDER_BY.search("".join(outside)):
        return "must not contain ORDER BY (sync orders the issues itself)"
    return None
