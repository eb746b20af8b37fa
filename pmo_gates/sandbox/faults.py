"""Fault injection: rules that make the sandbox answer like a Jira under stress.

A rule matches requests by method and path regex, counts the matching requests it has seen, and fires on
the ``nth`` one, on every ``every``-th one, or on all of them, at most ``count`` times. When it fires the
sandbox waits ``delay`` seconds (or a random time up to ``delay_max``) and then answers ``status`` (429 with
Retry-After and X-RateLimit-* headers like Cloud's rate limiter, any 5xx, with or without Retry-After),
drops the connection without a response (``drop``), or serves normally after the delay. With
``after=True`` the request is carried out first and the fault applies to its answer: a create that Jira
made but whose response was lost (``drop``) or replaced by a gateway error (``status``), or answered late.

Examples::

    sb.faults.add(FaultRule(path=r"/search/jql", nth=3, drop=True))           # drop the 3rd search page
    sb.faults.add(FaultRule.rate_limit(count=20, retry_after=1))               # a 429 storm
    sb.faults.add(FaultRule(method="POST", path=r"/issue$", status=503))       # every create fails
    sb.faults.add(FaultRule(delay=0.5, delay_max=2.0, count=10))               # slow responses
    sb.faults.add(FaultRule(method="POST", path=r"/comment$", after=True, drop=True))  # acted, answer lost
    sb.faults.add(FaultRule(status=503, raw_body="<html>...</html>", content_type="text/html"))  # a proxy page

Every injected 429 carries an integer ``Retry-After`` (1 unless ``retry_after`` says otherwise; a fraction
is rounded up, 0 stays 0 as Data Center sometimes sends it).

Rules are also managed over HTTP under ``/_sandbox/faults`` (see ``admin.py``).
"""

from __future__ import annotations

import itertools
import math
import random
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class FaultRule(BaseModel):
    """One fault: which requests (method, path, nth/every/count) and what happens (status, delay, drop)."""

    model_config = ConfigDict(extra="forbid")

    method: str | None = Field(default=None, description="HTTP method to match; any when omitted")
    path: str | None = Field(default=None, description="regular expression searched in the request path")
    nth: int | None = Field(default=None, ge=1, description="fire only on the nth matching request")
    every: int | None = Field(default=None, ge=1, description="fire on every k-th matching request")
    count: int | None = Field(default=None, ge=1, description="fire at most this many times")
    status: int | None = Field(default=None, ge=400, le=599, description="answer this status instead")
    retry_after: float | None = Field(default=None, ge=0, description="Retry-After header, seconds")
    body: dict[str, Any] | None = Field(default=None, description="response body; Jira's error shape by default")
    raw_body: str | None = Field(
        default=None,
        description="a non-JSON body sent as is (an HTML or plain-text page from Jira or its proxy; '' for none)",
    )
    content_type: str = Field(default="text/plain;charset=UTF-8", description="Content-Type of raw_body")
    headers: dict[str, str] = Field(default_factory=dict, description="extra response headers")
    delay: float = Field(default=0.0, ge=0, description="seconds to wait before answering")
    delay_max: float | None = Field(default=None, ge=0, description="wait a random time in [delay, delay_max]")
    drop: bool = Field(default=False, description="close the connection without a response")
    after: bool = Field(default=False, description="carry the request out first, then delay/drop/answer status")

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @field_validator("path")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"path is not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _does_something(self) -> FaultRule:
        if self.status is None and not self.drop and not self.delay and not self.delay_max:
            raise ValueError("a fault needs a status, a delay or drop=true")
        if self.delay_max is not None and self.delay_max < self.delay:
            raise ValueError("delay_max must not be below delay")
        return self

    @classmethod
    def rate_limit(
        cls, *, count: int | None = None, retry_after: float = 1, method: str | None = None, path: str | None = None
    ) -> FaultRule:
        """Cloud's 429 with Retry-After on the next ``count`` matching requests (all when None)."""
        return cls(method=method, path=path, count=count, status=429, retry_after=retry_after)

    @classmethod
    def server_error(
        cls,
        status: int = 503,
        *,
        count: int | None = None,
        nth: int | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> FaultRule:
        return cls(method=method, path=path, count=count, nth=nth, status=status, retry_after=retry_after)

    @classmethod
    def drop_connection(
        cls, *, nth: int | None = None, count: int | None = None, method: str | None = None, path: str | None = None
    ) -> FaultRule:
        return cls(method=method, path=path, nth=nth, count=count, drop=True)

    @classmethod
    def slow(
        cls, delay: float, *, delay_max: float | None = None, count: int | None = None, path: str | None = None
    ) -> FaultRule:
        return cls(path=path, count=count, delay=delay, delay_max=delay_max)


class FaultAction(BaseModel):
    """What the server does for one request a rule fired on."""

    rule_id: int
    delay: float
    drop: bool
    after: bool = False
    status: int | None
    headers: dict[str, str]
    body: dict[str, Any] | None
    raw_body: str | None = None
    content_type: str = "text/plain;charset=UTF-8"


class _ActiveRule:
    def __init__(self, rule_id: int, rule: FaultRule) -> None:
        self.id = rule_id
        self.rule = rule
        self.pattern = re.compile(rule.path) if rule.path else None
        self.seen = 0
        self.fired = 0

    def matches(self, method: str, path: str) -> bool:
        if self.rule.method and self.rule.method != method:
            return False
        return self.pattern is None or self.pattern.search(path) is not None

    def exhausted(self) -> bool:
        rule = self.rule
        if rule.count is not None and self.fired >= rule.count:
            return True
        return rule.nth is not None and self.seen >= rule.nth

    def should_fire(self) -> bool:
        rule = self.rule
        if rule.count is not None and self.fired >= rule.count:
            return False
        if rule.nth is not None:
            return self.seen == rule.nth
        if rule.every is not None:
            return self.seen % rule.every == 0
        return True

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, **self.rule.model_dump(exclude_defaults=True), "seen": self.seen, "fired": self.fired}


class FaultSet:
    """The server's active fault rules; thread-safe. The first rule that fires decides a request's fate."""

    def __init__(self, *, flavour: str = "cloud", seed: int = 0) -> None:
        self.flavour = flavour
        self._lock = threading.Lock()
        self._rules: list[_ActiveRule] = []
        self._ids = itertools.count(1)
        self._random = random.Random(seed)

    def add(self, rule: FaultRule | dict[str, Any]) -> int:
        """Activate a rule; returns its id (for ``remove``)."""
        checked = rule if isinstance(rule, FaultRule) else FaultRule.model_validate(rule)
        with self._lock:
            active = _ActiveRule(next(self._ids), checked)
            self._rules.append(active)
            return active.id

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def describe(self) -> list[dict[str, Any]]:
        """Every rule with how many requests it matched (``seen``) and fired on (``fired``)."""
        with self._lock:
            return [r.describe() for r in self._rules]

    def __len__(self) -> int:
        with self._lock:
            return len(self._rules)

    def decide(self, method: str, path: str) -> FaultAction | None:
        """Count the request against every matching rule; the first one that fires wins."""
        chosen: _ActiveRule | None = None
        with self._lock:
            for active in self._rules:
                if active.exhausted() or not active.matches(method, path):
                    continue
                active.seen += 1
                if chosen is None and active.should_fire():
                    active.fired += 1
                    chosen = active
            if chosen is None:
                return None
            rule = chosen.rule
            delay = rule.delay if rule.delay_max is None else self._random.uniform(rule.delay, rule.delay_max)
        return FaultAction(
            rule_id=chosen.id,
            delay=delay,
            drop=rule.drop,
            after=rule.after,
            status=rule.status,
            headers={**self._status_headers(rule), **rule.headers},
            body=rule.body if rule.body is not None else _error_body(rule.status),
            raw_body=rule.raw_body,
            content_type=rule.content_type,
        )

    def _status_headers(self, rule: FaultRule) -> dict[str, str]:
        headers: dict[str, str] = {}
        if rule.retry_after is not None:
            headers["Retry-After"] = _seconds(rule.retry_after)
        if rule.status == 429:
            # Jira's limiter always says when to come back, in whole seconds (0 happens on Data Center).
            wait = 1 if rule.retry_after is None else math.ceil(rule.retry_after)
            headers.setdefault("Retry-After", str(wait))
            if self.flavour == "cloud":
                reset = datetime.now(UTC) + timedelta(seconds=wait)
                headers.update(
                    {
                        "X-RateLimit-Limit": "100",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": reset.isoformat(timespec="seconds").replace("+00:00", "Z"),
                        "RateLimit-Reason": "jira-burst-based",
                        "X-RateLimit-NearLimit": "true",
                    }
                )
            else:
                headers.update(
                    {
                        "X-RateLimit-Limit": "100",
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Interval-Seconds": "1",
                        "X-RateLimit-FillRate": "10",
                    }
                )
        return headers


def _seconds(value: float) -> str:
    """Retry-After is delta-seconds, a whole number (RFC 9110): a fraction is rounded up."""
    return str(math.ceil(value))


def _error_body(status: int | None) -> dict[str, Any] | None:
    if status is None:
        return None
    if status == 429:
        return {"errorMessages": ["Rate limit exceeded."], "errors": {}}
    if status >= 500:
        return {"errorMessages": ["The service is temporarily unavailable. Please try again later."], "errors": {}}
    return {"errorMessages": [f"Injected fault: HTTP {status}."], "errors": {}}
