"""The ``Jira Credentials`` Prefect Block: where a deployment keeps the Jira URL and token.

Found by Prefect through the ``prefect.collections`` entry point (``prefect block register -m
pmo_gates.connectors.credentials``). The token is a ``SecretStr``: redacted in the UI, in run logs and in
stored flow-run parameters. This is the only module of ``pmo_gates.connectors`` that imports Prefect;
the connector itself works from the plain ``JiraConnection`` (re-exported here).

Example::

    JiraCredentials(url="https://example.atlassian.net", email="pmo@example.com", token="...").save("jira")
    client = JiraCredentials.load("jira").get_client()
"""

from __future__ import annotations

from typing import Literal

from prefect.blocks.abstract import CredentialsBlock
from pydantic import Field, SecretStr

from pmo_gates.config import Settings
from pmo_gates.connectors.client import JiraClient, build_client
from pmo_gates.connectors.connection import JiraConnection

__all__ = ["JiraConnection", "JiraCredentials"]


class JiraCredentials(CredentialsBlock):
    """Credentials for Jira Cloud (email + API token) or Data Center (personal access token)."""

    _block_type_name = "Jira Credentials"
    _logo_url = "https://wac-cdn.atlassian.com/assets/img/favicons/atlassian/favicon.png"  # type: ignore[assignment]
    _documentation_url = "https://github.com/pmo-gates/pmo-gates#jira"  # type: ignore[assignment]
    _description = "Jira Cloud or Data Center credentials for pmo-gates."

    url: str = Field(..., description="Jira base URL, e.g. https://example.atlassian.net")
    email: str | None = Field(None, description="Atlassian account email (Cloud); empty for a Data Center PAT.")
    token: SecretStr = Field(..., description="API token (Cloud) or personal access token (Data Center).")
    flavour: Literal["auto", "cloud", "dc"] = Field("auto", description="auto reads serverInfo.deploymentType.")
    connect_timeout: float = Field(10, gt=0, description="Seconds to wait for a connection.")
    read_timeout: float = Field(60, gt=0, description="Seconds to wait for a response.")

    def to_connection(self, settings: Settings | None = None) -> JiraConnection:
        """The plain connection; retry policy and page size come from ``settings`` when given."""
        extra = {}
        if settings is not None:
            extra = {"retry": settings.jira.retry, "page_size": settings.jira.page_size}
        return JiraConnection(
            url=self.url,
            email=self.email,
            token=self.token,
            flavour=self.flavour,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            **extra,
        )

    def get_client(self) -> JiraClient:
        """A configured client (``.jira`` is the ``jira.JIRA`` object) with our retry layer."""
        return build_client(self.to_connection())
