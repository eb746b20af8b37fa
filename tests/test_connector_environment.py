"""The client reads the environment's proxy and CA-bundle settings once, when it is built, with the same
effect requests' per-request lookup (``trust_env``) had: HTTPS_PROXY unless NO_PROXY covers Jira,
REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE as ``verify``; and no request reads ``os.environ`` any more."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator, MutableMapping

import pytest

from pmo_gates.connectors.client import build_client
from tests.fixtures_connector import URL, connection

API = f"{URL}/rest/api/2"
PROXY = "http://proxy.corp.example:3128"
ENV = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def mock(request):
    return request.getfixturevalue("jira_responses")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or bundle from the machine running the tests (both spellings: urllib reads lower case too)."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _myself(mock, times: int = 1) -> None:
    for _ in range(times):
        mock.get(f"{API}/myself", json={"accountId": "me", "timeZone": "UTC"})


def _sent(mock) -> list[dict]:
    """What requests handed the adapter's ``send`` for each call: proxies, verify, cert, stream."""
    return [call.request.req_kwargs for call in mock.calls]


def test_https_proxy_is_used_for_jira(mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    client = build_client(connection())
    monkeypatch.delenv("HTTPS_PROXY")  # read when built: a later change does not matter
    _myself(mock, 2)
    client.get("/myself")
    client.get("/myself")
    assert [kw["proxies"].get("https") for kw in _sent(mock)] == [PROXY, PROXY]


def test_no_proxy_for_jira_bypasses_the_proxy(mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "localhost,.example.test")
    client = build_client(connection())
    _myself(mock)
    client.get("/myself")
    assert "https" not in _sent(mock)[0]["proxies"]


def test_no_proxy_for_another_host_keeps_the_proxy(mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "intranet.example.test")
    client = build_client(connection())
    _myself(mock)
    client.get("/myself")
    assert _sent(mock)[0]["proxies"]["https"] == PROXY


@pytest.mark.parametrize("name", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_ca_bundle_is_the_verify_setting(mock, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "/etc/corp/ca.pem")
    client = build_client(connection())
    _myself(mock)
    client.get("/myself")
    assert _sent(mock)[0]["verify"] == "/etc/corp/ca.pem"


def test_without_environment_settings_requests_defaults_stay(mock) -> None:
    client = build_client(connection())
    _myself(mock)
    client.get("/myself")
    sent = _sent(mock)[0]
    assert sent["verify"] is True and sent["proxies"] == {} and sent["cert"] is None


def test_the_same_settings_as_requests_per_request_lookup(mock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the session's own (unpatched) ``merge_environment_settings``: identical for Jira's URLs."""
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("HTTP_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "intranet.example.test")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/corp/ca.pem")
    session = build_client(connection()).jira._session
    requests_own = type(session).merge_environment_settings.__get__(session)
    for url in (f"{API}/myself", f"{API}/search/jql?jql=x", f"{URL.upper()}/rest/api/2/field"):
        args = (url, {}, None, True, None)
        assert session.merge_environment_settings(*args) == requests_own(*args)


class CountingEnviron(MutableMapping[str, str]):
    """``os.environ`` that counts reads (a key, or a walk over all of them)."""

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self.real = real
        self.reads = 0

    def __getitem__(self, key: str) -> str:
        self.reads += 1
        return self.real[key]

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return iter(self.real)

    def __len__(self) -> int:
        return len(self.real)

    def __setitem__(self, key: str, value: str) -> None:
        self.real[key] = value

    def __delitem__(self, key: str) -> None:
        del self.real[key]


def test_requests_do_not_read_the_environment(mock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    client = build_client(connection())
    lookups = 0
    real_lookup = urllib.request.getproxies_environment

    def counted() -> dict[str, str]:
        nonlocal lookups
        lookups += 1
        return real_lookup()

    monkeypatch.setattr(urllib.request, "getproxies_environment", counted)
    monkeypatch.setattr("requests.utils.getproxies", counted)  # bound at import on Linux: same function
    environ = CountingEnviron(os.environ)
    monkeypatch.setattr(os, "environ", environ)
    _myself(mock, 20)
    for _ in range(20):
        client.get("/myself")
    assert len(mock.calls) == 20
    assert lookups == 0
    assert environ.reads == 0
    assert {kw["proxies"]["https"] for kw in _sent(mock)} == {PROXY}


def test_a_redirect_elsewhere_still_follows_the_environment(mock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another host (here reached by a redirect) is looked up per request, as requests always did."""
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "mirror.example.org")
    session = build_client(connection()).jira._session
    settings = session.merge_environment_settings("https://mirror.example.org/x", {}, None, True, None)
    assert "https" not in settings["proxies"]
