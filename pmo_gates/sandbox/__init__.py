"""A Jira-compatible sandbox: snapshots, a portfolio generator, a fault-injecting server and the contract.

Example::

    from pmo_gates.sandbox import SandboxServer, Snapshot, sample_portfolio_path

    with SandboxServer(Snapshot.load(sample_portfolio_path())) as sb:
        print(sb.url)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pmo_gates.sandbox.api.core import SandboxLimits
from pmo_gates.sandbox.faults import FaultRule, FaultSet
from pmo_gates.sandbox.generate import generate_portfolio, generate_sample, sample_portfolio_path
from pmo_gates.sandbox.portfolio_model import CF, CUSTOM_FIELDS, ProjectProfile
from pmo_gates.sandbox.request_log import RequestLog, RequestRecord
from pmo_gates.sandbox.server import SandboxServer
from pmo_gates.sandbox.snapshot import SNAPSHOT_FORMAT, Snapshot, SnapshotError
from pmo_gates.sandbox.state import IssueNotFound, SandboxState

if TYPE_CHECKING:
    from pmo_gates.sandbox.contract import JiraContract

__all__ = [
    "CF",
    "CUSTOM_FIELDS",
    "SNAPSHOT_FORMAT",
    "FaultRule",
    "FaultSet",
    "IssueNotFound",
    "JiraContract",
    "ProjectProfile",
    "RequestLog",
    "RequestRecord",
    "SandboxLimits",
    "SandboxServer",
    "SandboxState",
    "Snapshot",
    "SnapshotError",
    "generate_portfolio",
    "generate_sample",
    "sample_portfolio_path",
]


def __getattr__(name: str) -> Any:
    # The contract needs openapi-core (a test dependency): import it only when asked for.
    if name == "JiraContract":
        from pmo_gates.sandbox.contract import JiraContract

        return JiraContract
    raise AttributeError(name)
