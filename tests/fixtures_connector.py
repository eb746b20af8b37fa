"""Helpers for the connector and sync tests: a fake clock, connections, settings and small Jira payloads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from pmo_gates.config import RetryConfig, Settings
from pmo_gates.connectors.connection import JiraConnection

TOKEN = "tok-SUPER-secret-4242"
EMAIL = "pmo-bot@example.com"
URL = "https://jira.example.test"


@dataclass
class FakeClock:
    """``sleep`` advances ``monotonic``: retry waits cost no real time and are recorded."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def connection(
    url: str = URL, *, flavour: str = "cloud", email: str | None = EMAIL, page_size: int = 100, **retry: Any
) -> JiraConnection:
    return JiraConnection(
        url=url,
        email=email,
        token=SecretStr(TOKEN),
        flavour=flavour,  # type: ignore[arg-type]
        page_size=page_size,
        retry=RetryConfig(**({"max_attempts": 4, "max_total_seconds": 120, "max_wait_seconds": 30} | retry)),
    )


def settings(projects: list[str], *, url: str = URL, page_size: int = 100, **extra: Any) -> Settings:
    data: dict[str, Any] = {
        "jira": {"url": url, "page_size": page_size, "auth": {"email": EMAIL}},
        "portfolio": {"projects": projects},
    }
    for key, value in extra.items():
        data[key] = value
    return Settings.model_validate(data)


def server_info(deployment: str = "Cloud") -> dict[str, Any]:
    return {
        "baseUrl": URL,
        "version": "1001.0.0",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": deployment,
        "buildNumber": 100280,
        "serverTitle": "Test",
    }
