"""The Jira REST endpoints the sandbox serves, one module per area."""

from __future__ import annotations

from pmo_gates.sandbox.api import (
    comments,
    field_admin,
    history,
    issues,
    links,
    meta,
    permissions,
    properties,
    search,
    users,
)
from pmo_gates.sandbox.api.core import ApiContext, Call, JiraError, Reply, Router, SandboxLimits

__all__ = ["ApiContext", "Call", "JiraError", "Reply", "Router", "SandboxLimits", "build_router"]


def build_router() -> Router:
    router = Router()
    for module in (meta, search, issues, history, comments, properties, links, permissions, field_admin, users):
        module.register(router)
    return router
