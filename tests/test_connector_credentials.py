"""The ``Jira Credentials`` Block and the flow's summary: secrets stay secret, the Block builds the same
connection the config would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pmo_gates.connectors.credentials import JiraConnection, JiraCredentials
from pmo_gates.connectors.mapping import DataError
from pmo_gates.connectors.sync import SyncResult
from tests.fixtures_connector import EMAIL, TOKEN, URL, settings
from tests.fixtures_sandbox import FLAVOURS, STRICT_INDEX_LAG
from tests.fixtures_sync import portfolio, serve


def test_block_hides_the_token_and_builds_the_connection():
    block = JiraCredentials(url=URL, email=EMAIL, token=TOKEN, flavour="cloud", read_timeout=30)
    assert TOKEN not in repr(block) and TOKEN not in str(block.model_dump())
    assert JiraCredentials.get_block_type_name() == "Jira Credentials"
    cfg = settings(["A"], page_size=250)
    conn = block.to_connection(cfg)
    assert isinstance(conn, JiraConnection)
    assert (conn.url, conn.email, conn.flavour, conn.read_timeout, conn.page_size) == (URL, EMAIL, "cloud", 30, 250)
    assert conn.token.get_secret_value() == TOKEN and conn.retry == cfg.jira.retry


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_block_client_talks_to_jira(flavour):
    with serve(portfolio(), flavour, index_lag=STRICT_INDEX_LAG) as sb:
        email = EMAIL if flavour == "cloud" else None  # Cloud signs in with an e-mail, Data Center without
        client = JiraCredentials(url=sb.url, email=email, token=TOKEN, flavour="auto").get_client()
        assert client.flavour == flavour and client.jira._session.max_retries == 0
        assert client.get("/myself")["accountId" if flavour == "cloud" else "name"]
        client.close()


def test_flow_summary_has_the_figures_and_no_secret():
    from pmo_gates.flows.sync import summary_markdown

    result = SyncResult(
        mode="incremental",
        flavour="cloud",
        projects=3,
        issues_upserted=12,
        data_errors=[DataError(key="CPR-1", field="budget", message="not a number: 'x|y'")],
        data_errors_total=1,
        warnings=["fields.charter: Jira has no field named 'Charter'"],
        http_requests={"GET /rest/api/2/search/jql": 1},
        http_requests_total=1,
        watermark=datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
    )
    text = summary_markdown(result)
    assert "# Jira sync (incremental, cloud)" in text and "| issues stored | 12 |" in text
    assert "CPR-1 | budget | not a number: 'x\\|y'" in text and "fields.charter" in text
    assert "2026-11-02T06:00:00+00:00" in text and TOKEN not in text
