"""How to reach Jira: a plain pydantic model, built from the config file plus the environment (CLI) or
from the ``JiraCredentials`` Prefect Block (flows). Kept apart from the Block so the CLI never imports
Prefect."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from pmo_gates.config import RetryConfig, Settings
from pmo_gates.connectors.errors import JiraConfigError

Flavour = Literal["auto", "cloud", "dc"]


class JiraConnection(BaseModel):
    """Everything the client needs. ``token`` is an API token (Cloud, with ``email``) or a personal access
    token (Data Center, ``email`` empty); it stays a ``SecretStr`` until the moment the client is built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    email: str | None = None
    token: SecretStr
    flavour: Flavour = "auto"
    connect_timeout: float = Field(10, gt=0)
    read_timeout: float = Field(60, gt=0)
    retry: RetryConfig = RetryConfig()
    page_size: int = Field(100, ge=1, le=5000)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str] | None = None) -> JiraConnection:
        """The connection the config file describes; the token comes from ``jira.auth.token_env``."""
        env = os.environ if env is None else env
        jira = settings.jira
        token = env.get(jira.auth.token_env)
        if not token:
            raise JiraConfigError(
                f"jira.auth.token_env: environment variable {jira.auth.token_env} is not set; put the Jira "
                "API token (Cloud) or personal access token (Data Center) in it"
            )
        return cls(
            url=jira.url,
            email=jira.auth.email,
            token=SecretStr(token),
            flavour=jira.flavour,
            connect_timeout=jira.connect_timeout,
            read_timeout=jira.read_timeout,
            retry=jira.retry,
            page_size=jira.page_size,
        )

    def secrets(self) -> list[str]:
        """The strings that must never appear in a message (see ``client.redact``)."""
        return [self.token.get_secret_value()]
