"""pytest helpers that hold Jira HTTP traffic to Atlassian's OpenAPI contract.

Enabled for the whole suite with ``pytest_plugins = ["tests.jira_contract"]`` in ``conftest.py``.

- ``jira_contract`` (session): the loaded ``JiraContract``.
- ``jira_responses``: a ``responses.RequestsMock`` (started, ``assert_all_requests_are_fired=False``) whose
  every call, the request the code sent and the response the test mocked, is validated against the spec
  when the test ends; the test fails listing the violations. Use it exactly like ``responses``::

      def test_sync(jira_responses):
          jira_responses.get("https://jira.example.com/rest/api/2/serverInfo", json={...})
          ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
import responses

from pmo_gates.sandbox.contract import JiraContract


class ContractRequestsMock(responses.RequestsMock):
    """``responses.RequestsMock`` that can check its recorded calls against the Jira contract."""

    def __init__(self, contract: JiraContract, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contract = contract

    def contract_violations(self) -> list[str]:
        """Violations in every call made so far (calls answered by an exception are not Jira's answers)."""
        found: list[str] = []
        for call in self.calls:
            request = call.request
            found += self.contract.validate_request(
                request.method or "GET", request.url or "", dict(request.headers), request.body
            )
            if isinstance(call.response, requests.Response):
                response = call.response
                found += self.contract.validate_response(
                    request.method or "GET",
                    request.url or "",
                    request.body,
                    response.status_code,
                    dict(response.headers),
                    response.content,
                    request_headers=dict(request.headers),
                )
        return found


@pytest.fixture(scope="session")
def jira_contract() -> JiraContract:
    """Atlassian's Jira Cloud OpenAPI spec, loaded once per test session."""
    return JiraContract.load()


@contextmanager
def contract_checked_responses(contract: JiraContract, **kwargs: Any) -> Iterator[ContractRequestsMock]:
    """A started ``ContractRequestsMock``; on exit, fails the running test if any call broke the contract."""
    kwargs.setdefault("assert_all_requests_are_fired", False)
    mock = ContractRequestsMock(contract, **kwargs)
    mock.start()
    try:
        yield mock
        # Checked before stopping: stopping a RequestsMock forgets its calls.
        violations = mock.contract_violations()
        mock.stop(allow_assert=True)
    finally:
        mock.stop(allow_assert=False)
        mock.reset()
    if violations:
        listed = "\n".join(f"  - {v}" for v in violations)
        pytest.fail(f"{len(violations)} Jira contract violation(s):\n{listed}", pytrace=False)


@pytest.fixture
def jira_responses(jira_contract: JiraContract) -> Iterator[ContractRequestsMock]:
    """A started ``responses`` mock whose traffic must conform to the Jira contract."""
    with contract_checked_responses(jira_contract) as mock:
        yield mock
