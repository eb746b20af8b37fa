"""Helpers for flow-level tests: settings, a flow run in a thread, waiting for a pause, reading artifacts."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from pmo_gates.config import Settings


def make_settings(tmp_path: Path, url: str = "http://127.0.0.1:9", **sections: Any) -> Settings:
    data: dict[str, Any] = {
        "jira": {"url": url, "auth": {"token_env": "PMO_GATES_TEST_TOKEN"}},
        "portfolio": {"projects": ["ALPHA"]},
        "database": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
        "reports": {"out_dir": str(tmp_path / "reports")},
    }
    data.update(sections)
    return Settings.model_validate(data)


class Background:
    """Runs ``fn`` in a thread and keeps its return value or exception. The thread gets a copy of the
    caller's context: Prefect's temporary settings (the test server's URL) live in a context variable."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.value: Any = None
        self.error: BaseException | None = None
        context = contextvars.copy_context()

        def target() -> None:
            try:
                self.value = context.run(fn)
            except BaseException as exc:  # handed to the test through .result()
                self.error = exc

        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def result(self, timeout: float = 60) -> Any:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError("the flow run did not finish")
        if self.error is not None:
            raise self.error
        return self.value


def wait_for_state(flow_run_name: str, state: str, timeout: float = 60, background: Background | None = None) -> Any:
    """The flow run named ``flow_run_name`` once it is in ``state`` (e.g. PAUSED); fails early when the
    ``background`` run ended first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[flow_run_name])))
            if runs and runs[0].state and runs[0].state.type.value == state:
                return runs[0]
            time.sleep(0.2)
    raise TimeoutError(f"flow run {flow_run_name} never reached {state}")


def flow_run_named(flow_run_name: str) -> Any:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[flow_run_name])))
    assert runs, f"no flow run named {flow_run_name}"
    return runs[0]


def artifacts_of(flow_run_ids: list[UUID]) -> list[Any]:
    """Every artifact (every version) the given flow runs created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=flow_run_ids))
        )


def artifact_text(artifact: Any) -> str:
    data = artifact.data
    return data if isinstance(data, str) else json.dumps(data)


def subflow_run_ids(parent_id: UUID) -> list[UUID]:
    """The parent flow run and every flow run started inside it (subflows)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[parent_id]))
        )
    return [parent_id, *(c.id for c in children)]
