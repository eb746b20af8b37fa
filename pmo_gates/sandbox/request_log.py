"""The record of Jira API calls the sandbox received (``sb.requests``), for tests to assert on.

Only Jira calls are recorded (not the ``/_sandbox`` admin API). Credentials are never recorded.

Example::

    assert sb.requests.count("GET", "/search/jql") == 3
    assert sb.requests.writes() == []      # a dry run wrote nothing
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

_API_ROOT = re.compile(r"^/rest/api/[23](?=/)")


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # e.g. /rest/api/2/search/jql
    query: dict[str, list[str]]
    status: int | None  # None: the connection was dropped without a response
    duration: float  # seconds
    started: float  # time.time() when the request arrived

    @property
    def api_path(self) -> str:
        """The path below the REST root: ``/search/jql`` for both API versions."""
        return _API_ROOT.sub("", self.path)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "api_path": self.api_path}


class RequestLog:
    """Thread-safe list of ``RequestRecord``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def all(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.all())

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __getitem__(self, index: int) -> RequestRecord:
        with self._lock:
            return self._records[index]

    def matching(
        self, method: str | None = None, path_prefix: str | None = None, status: int | None = None
    ) -> list[RequestRecord]:
        """Records by method, path prefix (full ``/rest/api/2/...`` or below the root, ``/search``) and status."""
        found = []
        for record in self.all():
            if method and record.method != method.upper():
                continue
            if path_prefix and not (record.path.startswith(path_prefix) or record.api_path.startswith(path_prefix)):
                continue
            if status is not None and record.status != status:
                continue
            found.append(record)
        return found

    def count(self, method: str | None = None, path_prefix: str | None = None, status: int | None = None) -> int:
        return len(self.matching(method, path_prefix, status))

    def writes(self) -> list[RequestRecord]:
        """Calls that could change Jira: every method but GET, HEAD and OPTIONS, except read-only POSTs."""
        read_only_posts = ("/search", "/search/jql", "/search/approximate-count", "/changelog/bulkfetch")
        return [
            r
            for r in self.all()
            if r.method not in ("GET", "HEAD", "OPTIONS") and not (r.method == "POST" and r.api_path in read_only_posts)
        ]

    def reset(self) -> None:
        with self._lock:
            self._records.clear()

    def stats(self) -> dict[str, Any]:
        """Counts by ``METHOD api_path`` and by status, and the total time spent answering."""
        records = self.all()
        return {
            "total": len(records),
            "by_endpoint": dict(Counter(f"{r.method} {r.api_path}" for r in records)),
            "by_status": {str(k): v for k, v in Counter(r.status for r in records).items()},
            "seconds": round(sum(r.duration for r in records), 6),
        }
