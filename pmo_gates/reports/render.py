"""Writing the report: PNG charts, one CSV per table, the markdown summary and a self-contained index.html.

The HTML page inlines its charts as data URIs (it can be mailed or attached as one file) and links the
CSV files beside it for the full tables. Every piece of user text is escaped; sections are scrubbed of
secrets before anything is drawn or written (see :func:`scrub`).
"""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pmo_gates.reports.charts import draw
from pmo_gates.reports.models import Cell, Chart, Section, Table

_BOLD = re.compile(r"\*\*(.+?)\*\*")

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { border-bottom: 2px solid #ddd; padding-bottom: .3rem; margin-top: 2.5rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
nav a { margin-right: 1rem; } .intro, .meta, .more { color: #555; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
.scroll { overflow-x: auto; }
"""


def scrub(section: Section, redact: Callable[[str], str]) -> Section:
    """``section`` with ``redact`` applied to every string in it (titles, rows, chart labels)."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, list):
            return [clean(item) for item in value]
        if isinstance(value, dict):
            return {clean(key): clean(item) for key, item in value.items()}
        return value

    return Section.model_validate(clean(section.model_dump()))


def write_charts(sections: Sequence[Section], out_dir: Path) -> tuple[list[Chart], dict[str, bytes]]:
    """Every section's charts as ``<key>.png`` in ``out_dir``, in page order; also their bytes, for inlining."""
    charts, data = [], {}
    for section in sections:
        for spec in section.charts:
            png = draw(spec)
            path = out_dir / f"{spec.key}.png"
            path.write_bytes(png)
            charts.append(Chart(key=spec.key, title=spec.title, path=path))
            data[spec.key] = png
    return charts, data


# A spreadsheet runs a cell starting with one of these as a formula (=HYPERLINK(...), =cmd|...): Jira text
# (summaries, names) is anyone's to write, so such cells get a leading apostrophe and stay text (OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = "'" + value if value.startswith(FORMULA_START) and not _NUMBER.match(value) else value
    # One record per line, so the files stay friendly to line-based tools.
    return text.replace("\r", " ").replace("\n", " ")


def write_csv(tables: Sequence[Table], out_dir: Path) -> dict[str, Path]:
    """``<key>.csv`` per table, header first (also for an empty table, so its columns are known)."""
    paths = {}
    for table in tables:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(table.columns)
        writer.writerows([csv_cell(row.get(column)) for column in table.columns] for row in table.rows)
        path = out_dir / f"{table.key}.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        paths[table.key] = path
    return paths


def markdown(sections: Sequence[Section], today: date) -> str:
    lines = [f"# PMO portfolio report {today.isoformat()}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        lines += [f"- {text}" for text in section.summary]
        files = ", ".join(f"`{table.key}.csv`" for table in section.tables)
        if files:
            lines.append(f"- Tables: {files}.")
        lines.append("")
    return "\n".join(lines)


def _inline(text: str) -> str:
    """Escaped text with the summaries' ``**bold**`` as <strong> (the only markup they use)."""
    return _BOLD.sub(r"<strong>\1</strong>", html.escape(text))


def _cell_html(value: Cell) -> tuple[str, bool]:
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        # Thousands separated, at most 4 decimals, no trailing zeros: 3000.0 -> 3,000; 0.4 -> 0.4.
        return f"{value:,.4f}".rstrip("0").rstrip("."), True
    return html.escape(value), False


def _table_html(table: Table, limit: int) -> list[str]:
    out = [f"<h3>{html.escape(table.title)}</h3>"]
    if not table.rows:
        out.append(
            f'<p class="more">None. (<a href="{html.escape(table.key)}.csv">{html.escape(table.key)}.csv</a>)</p>'
        )
        return out
    head = "".join(f"<th>{html.escape(column)}</th>" for column in table.columns)
    out += ['<div class="scroll">', "<table>", f"<thead><tr>{head}</tr></thead>", "<tbody>"]
    for row in table.rows[:limit]:
        cells = []
        for column in table.columns:
            text, numeric = _cell_html(row.get(column))
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        out.append(f"<tr>{''.join(cells)}</tr>")
    out += ["</tbody>", "</table>", "</div>"]
    csv_link = f'<a href="{html.escape(table.key)}.csv">{html.escape(table.key)}.csv</a>'
    if len(table.rows) > limit:
        out.append(f'<p class="more">First {limit:,} of {len(table.rows):,} rows; all in {csv_link}.</p>')
    else:
        out.append(f'<p class="more">{len(table.rows):,} rows; also in {csv_link}.</p>')
    return out


def page(sections: Sequence[Section], charts: dict[str, bytes], today: date, table_rows: int) -> str:
    title = f"PMO portfolio report {today.isoformat()}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">Computed by pmo-gates from the synced Jira data as of {today.isoformat()}.</p>',
        "<nav>" + "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections) + "</nav>",
    ]
    for section in sections:
        out += [f'<section id="{html.escape(section.key)}">', f"<h2>{html.escape(section.title)}</h2>"]
        if section.intro:
            out.append(f'<p class="intro">{html.escape(section.intro)}</p>')
        if section.summary:
            out += ["<ul>", *(f"<li>{_inline(text)}</li>" for text in section.summary), "</ul>"]
        for spec in section.charts:
            encoded = base64.b64encode(charts[spec.key]).decode("ascii")
            out += [
                "<figure>",
                f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(spec.title)}">',
                f"<figcaption>{html.escape(spec.title)} ({html.escape(spec.key)}.png)</figcaption>",
                "</figure>",
            ]
        for table in section.tables:
            out += _table_html(table, table_rows)
        out.append("</section>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)
