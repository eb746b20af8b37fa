"""The report renders: the HTML parses and embeds its charts, every chart is a valid PNG, every table has
its CSV, user text is escaped, and no secret reaches any output file."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

import pytest
from PIL import Image
from typer.testing import CliRunner

from pmo_gates.cli import app
from pmo_gates.store import Store
from tests.fixtures_rca import TODAY, report_portfolio

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VOID = {"meta", "img", "br", "hr", "link", "input"}
SECRET = "tok-3f9a-very-secret-jira-token"


class StrictParser(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element; keeps the images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """``pmo-gates report --json`` over the hand-built portfolio, with a Jira token in the environment."""
    root = tmp_path_factory.mktemp("render")
    url = f"sqlite:///{root / 'store.db'}"
    store = Store(url)
    report_portfolio(store)
    with store.session() as session:  # user text that must be escaped, not interpreted
        from pmo_gates.store.models import Issue

        session.query(Issue).filter(Issue.key == "A-BILL").update({"summary": "<script>alert('x')</script> & co"})
        session.query(Issue).filter(Issue.key == "B-BILL").update({"summary": "<script>alert('x')</script> & co"})
    store.dispose()
    config = root / "pmo-gates.yaml"
    config.write_text(
        "jira: {url: 'https://example.atlassian.net', auth: {email: pmo@example.com, token_env: RENDER_TEST_TOKEN}}\n"
        "portfolio: {projects: [A, B, C, D, E]}\n"
        f"database: {{url: '{url}'}}\n"
        f"today: {TODAY.isoformat()}\n"
    )
    out = root / "out"
    mp = pytest.MonkeyPatch()
    mp.setenv("RENDER_TEST_TOKEN", SECRET)
    try:
        result = CliRunner().invoke(app, ["report", "--config", str(config), "--out", str(out), "--json"])
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    return out, result.output


def test_html_parses_and_embeds_every_chart(report):
    out, output = report
    summary = json.loads(output)
    html = (out / "index.html").read_text(encoding="utf-8")
    parser = StrictParser()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"
    assert html.startswith("<!DOCTYPE html>") and summary["html"] == str(out / "index.html")
    charts = summary["charts"]
    assert len(charts) == 7 and len(parser.images) == len(charts)
    for src, path in zip(parser.images, charts, strict=True):
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == (out / path.rsplit("/", 1)[-1]).read_bytes()
    for title in ("Priority ranking", "Resource map", "Cost analysis", "Goal achievement", "Trends"):
        assert title in "".join(parser.text)


def test_charts_are_valid_png_files(report):
    out, _ = report
    pngs = sorted(out.glob("*.png"))
    assert {p.name for p in pngs} == {
        "priority.png", "resources.png", "cost.png", "goals.png", "quality.png", "decision-trend.png", "rca-trend.png"
    }  # fmt: skip
    for path in pngs:
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE, path.name
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 150


def test_every_table_has_its_csv(report):
    out, output = report
    tables = json.loads(output)["tables"]
    for key, rows in tables.items():
        lines = (out / f"{key}.csv").read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(rows) + (1 if rows or lines else 0), key


def test_user_text_is_escaped(report):
    out, _ = report
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in html


def test_no_secret_in_any_output(report):
    out, output = report
    assert SECRET not in output
    for path in out.rglob("*"):
        data = path.read_bytes()
        assert SECRET.encode() not in data, path.name
        assert base64.b64encode(SECRET.encode())[:20] not in data, path.name
    assert not re.search(r"token|password", (out / "index.html").read_text(encoding="utf-8"), re.IGNORECASE)


def test_an_unwritable_report_folder_is_a_clean_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    report_portfolio(store)
    store.dispose()
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the report folder should go")
    config = tmp_path / "pmo-gates.yaml"
    config.write_text(
        "jira: {url: 'https://example.atlassian.net'}\nportfolio: {projects: [A]}\n"
        f"database: {{url: '{url}'}}\ntoday: {TODAY.isoformat()}\nreports: {{stale_days: 3}}\n"
    )
    result = CliRunner().invoke(app, ["report", "--config", str(config), "--out", str(blocker / "out")])
    assert result.exit_code == 1
    assert "cannot write" in result.output and "Traceback" not in result.output
