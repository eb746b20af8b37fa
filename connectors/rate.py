"""One shared, adaptive request budget for every Jira call of a sync (AIMD, as TCP does for congestion).

Every HTTP attempt takes a slot (at most ``concurrency`` in flight) and a start in a sliding one-second
window (at most ``rate`` requests begin in any second). A 429 or 503 halves both, at most once per second however many
workers see it, and pauses new requests for the ``Retry-After`` the server asked for; every answered
request then adds back a little (about ``+1`` request per second and ``+1`` slot for each second of clean
traffic), up to the configured ceilings. So a sync starts at the configured limits, slows down at once
when Jira pushes back and finds its way back up when Jira lets it.

Example::

    budget = RequestBudget(rate=10, concurrency=4)
    with budget.slot():
        ...  # one HTTP attempt; call budget.throttled(wait) instead of returning normally on a 429
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DECREASE_EVERY_S = 1.0  # one multiplicative decrease per this many seconds (a storm is one signal)
# A start is counted when its slot is granted, but Jira counts the request when it arrives: later by a
# new connection's handshake or a busy scheduler, while the next window's requests leave on warm
# connections at once. The window is held this much longer than a second, so Jira still never sees more
# than ``rate`` in one of its seconds (the latency benchmark saw 12 at a limit of 10 without it).
ARRIVAL_SLACK_S = 0.1
# A request beyond the most ever in flight opens a new connection (TCP, on Cloud TLS too): it can reach
# Jira this much later again (the 2,000-project benchmark's start-up burst, ten cold requests, arrived up
# to 0.17 s late). Held longer only those few; warm requests keep the short margin.
COLD_SLACK_S = 0.5


class RequestBudget:
    """Thread-safe; share one per sync. ``sleep`` is only used for server-requested pauses (tests fake it)."""

    def __init__(
        self,
        *,
        rate: float,
        concurrency: int,
        min_rate: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_rate = float(rate)
        self.max_concurrency = max(1, int(concurrency))
        self.min_rate = min(float(min_rate), self.max_rate)
        self.rate = self.max_rate
        self.concurrency = float(self.max_concurrency)
        self._clock = clock
        self._sleep = sleep
        self._skew = 0.0  # time a faked sleep claimed to pass that the clock did not see
        self._cond = threading.Condition()
        self._in_flight = 0
        self._held_until: list[float] = []  # per start in the window: when it stops counting
        self._paused_until = 0.0
        self._last_decrease = -1e18
        self._mine = threading.local()  # the newest pause each thread has waited out
        self.throttles = 0  # 429/503 answers seen
        self.requests = 0
        self.peak_in_flight = 0

    def clock(self) -> float:
        return self._clock() + self._skew

    def sleep(self, seconds: float) -> None:
        """Sleep with the injected ``sleep``; the retry layer waits through this too, so that with a fake
        sleep (tests) the budget's clock still moves past the pauses it was told were waited out."""
        began = self._clock()
        self._sleep(seconds)
        missed = seconds - (self._clock() - began)
        if missed > 0:
            with self._cond:
                self._skew += missed

    # -- taking and returning a slot ---------------------------------------------------------------------

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Yields the moment (on the budget's clock) this request was counted as started."""
        started = self.acquire()
        try:
            yield started
        finally:
            self.release()

    def acquire(self) -> float:
        self._honour_pause()
        with self._cond:
            while True:
                now = self.clock()
                if self._in_flight >= int(self.concurrency):
                    self._cond.wait(timeout=0.5)
                    continue
                # A sliding window: never more than ``rate`` starts in any second (1 per 1/rate s below 1).
                window = max(1.0, 1.0 / self.rate)
                allowed = max(1, int(self.rate * window))
                held = [until for until in self._held_until if until > now]
                self._held_until = held
                if len(held) < allowed:
                    cold = self._in_flight + 1 > self.peak_in_flight  # the pool opens a connection
                    held.append(now + window + (COLD_SLACK_S if cold else ARRIVAL_SLACK_S))
                    self._in_flight += 1
                    self.requests += 1
                    self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
                    return now
                self._cond.wait(timeout=max(0.001, min(held) - now))

    def release(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    # -- feedback ------------------------------------------------------------------------------------------

    def answered(self) -> None:
        """A request Jira answered (any status but 429/503): additive increase."""
        with self._cond:
            if self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate + 1.0 / max(self.rate, 1.0))
            if self.concurrency < self.max_concurrency:
                self.concurrency = min(float(self.max_concurrency), self.concurrency + 1.0 / self.concurrency)

    def throttled(self, wait: float | None) -> None:
        """Jira answered 429/503 (``wait``: the seconds it asked for): multiplicative decrease and pause."""
        with self._cond:
            now = self.clock()
            self.throttles += 1
            if now - self._last_decrease >= DECREASE_EVERY_S:
                self._last_decrease = now
                self.rate = max(self.min_rate, self.rate / 2)
                self.concurrency = max(1.0, self.concurrency / 2)
            if wait:
                until = now + wait
                if until > self._paused_until:
                    self._paused_until = until
                self._mine.waited = until  # its retry waits this out

    def _honour_pause(self) -> None:
        with self._cond:
            until = self._paused_until
        remaining = until - self.clock()
        if remaining > 0 and until > getattr(self._mine, "waited", 0.0):
            self._mine.waited = until  # each pause once per thread: a faked sleep does not move our clock
            self.sleep(remaining)

    def snapshot(self) -> dict[str, float]:
        with self._cond:
            return {
                "rate": round(self.rate, 2),
                "concurrency": round(self.concurrency, 2),
                "throttles": self.throttles,
                "requests": self.requests,
                "peak_in_flight": self.peak_in_flight,
            }
