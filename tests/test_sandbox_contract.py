"""The contract checker really rejects what breaks Atlassian's spec, and lets through only Jira's own habits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from pmo_gates.sandbox import SandboxServer
from pmo_gates.sandbox.contract import JiraContract
from tests import jira_contract as contract_plugin
from tests.fixtures_sandbox import contract, small
from tests.jira_contract import ContractRequestsMock, contract_checked_responses

# The plugin's fixtures, usable here whether or not conftest.py has enabled the plugin yet.
jira_contract = contract_plugin.jira_contract
jira_responses = contract_plugin.jira_responses

SEARCH = "https://jira.example.com/rest/api/2/search/jql?jql=project%20%3D%20A"


def test_valid_search_exchange_passes() -> None:
    body = {
        "issues": [{"id": "1", "key": "A-1", "fields": {"updated": "2026-11-02T10:15:30.000+0000"}}],
        "isLast": True,
    }
    assert contract().validate_response("GET", SEARCH, None, 200, {"Content-Type": "application/json"}, body) == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"issues": [], "isLast": True, "total": 3}, "Additional properties are not allowed ('total' was unexpected)"),
        ({"issues": [], "isLast": "yes"}, "$.isLast: 'yes' is not of type 'boolean'"),
        ({"issues": [], "isLast": True, "nextPageToken": None}, "$.nextPageToken: None"),
        ({"issues": [{"id": 7}], "isLast": True}, "$.issues[0].id: 7 is not of type 'string'"),
    ],
)
def test_malformed_responses_are_rejected(body: dict, fragment: str) -> None:
    violations = contract().validate_response("GET", SEARCH, None, 200, {"Content-Type": "application/json"}, body)
    assert any(fragment in v for v in violations), violations


def test_malformed_requests_are_rejected() -> None:
    c = contract()
    url = "http://127.0.0.1:9/rest/api/3/search/jql"
    headers = {"Content-Type": "application/json"}
    assert (
        "request body $: Additional properties are not allowed" in c.validate_request("POST", url, headers, {"x": 1})[0]
    )
    assert "query parameter 'maxResults'" in c.validate_request("GET", url + "?jql=a&maxResults=ten")[0]
    assert "not in the Jira REST API spec" in c.validate_request("GET", "http://127.0.0.1:9/rest/api/2/nothing")[0]
    assert c.validate_request("GET", "http://127.0.0.1:9/_sandbox/faults") == []  # not Jira's API


def test_jira_habits_that_are_allowed() -> None:
    c = contract()
    link = {"type": {"name": "Blocks"}, "inwardIssue": {"key": "A-1"}, "outwardIssue": {"key": "A-2"}}
    assert c.validate_response("POST", "/rest/api/2/issueLink", link, 201, {}, b"") == []  # no body, open schema
    assert c.validate_response("PUT", "/rest/api/3/issue/A-1", {"fields": {}}, 204, {}, None) == []
    assert c.validate_response("GET", "/rest/api/2/issuetype", None, 429, {}, b"") == []  # any endpoint
    assert c.validate_response("GET", "/rest/api/2/issuetype", None, 503, {}, b"") == []
    assert c.validate_response("GET", "/rest/api/2/issuetype", None, 401, {}, b"") == []
    assert "status 418 is not documented" in c.validate_response("GET", "/rest/api/2/issuetype", None, 418, {}, b"")[0]
    assert c.operation("POST", "/rest/api/2/issue/bulk") == "/rest/api/3/issue/bulk"
    assert c.operation("GET", "/rest/api/2/issue/bulk") == "/rest/api/3/issue/{issueIdOrKey}"


def test_v2_strings_stand_in_for_documents_only_in_v2() -> None:
    doc_schema = {"type": "object", "description": "The text, in Atlassian Document Format."}
    spec = {
        "openapi": "3.0.1",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/rest/api/3/thing": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"text": doc_schema}},
                            }
                        }
                    },
                    "responses": {"204": {"description": "ok"}},
                }
            }
        },
    }
    mini = JiraContract(spec)
    headers = {"Content-Type": "application/json"}
    assert mini.validate_request("POST", "/rest/api/2/thing", headers, {"text": "wiki *markup*"}) == []
    assert mini.validate_request("POST", "/rest/api/3/thing", headers, {"text": "plain"}) != []
    assert mini.validate_request("POST", "/rest/api/2/thing", headers, {"text": 5}) != []


def test_the_responses_wrapper_fails_on_violations() -> None:
    with contract_checked_responses(contract()) as good:
        good.get(SEARCH, json={"issues": [], "isLast": True})
        assert requests.get(SEARCH, timeout=5).json()["isLast"] is True
    with (
        pytest.raises(pytest.fail.Exception, match="1 Jira contract violation"),
        contract_checked_responses(contract()) as bad,
    ):
        bad.get(SEARCH, json={"issues": [], "isLast": True, "total": 0})
        requests.get(SEARCH, timeout=5)


def test_the_jira_responses_fixture(jira_responses: ContractRequestsMock) -> None:
    jira_responses.get(SEARCH, json={"issues": [{"id": "10001"}], "isLast": True})
    assert requests.get(SEARCH, timeout=5).json()["issues"] == [{"id": "10001"}]
    assert jira_responses.contract_violations() == []


@pytest.fixture
def corrupted() -> Iterator[SandboxServer]:
    with SandboxServer(small(), validate=contract()) as sb:
        yield sb


def test_the_server_reports_what_it_serves_wrongly(corrupted: SandboxServer) -> None:
    """A snapshot with a non-string changelog value is served as is, and the server says so."""
    issue = next(i for i in corrupted.state.issues() if i["changelog"]["histories"])
    histories = issue["changelog"]["histories"]
    broken = {**issue, "changelog": {**issue["changelog"], "histories": [{**histories[0], "items": [{"field": 5}]}]}}
    corrupted.state._issues[int(issue["id"])] = broken  # simulate a bad snapshot entry
    response = requests.get(f"{corrupted.url}/rest/api/2/issue/{issue['key']}/changelog", timeout=5)
    assert response.status_code == 200
    assert any("$.values[0].items[0].field: 5 is not of type 'string'" in v for v in corrupted.contract_violations)
