"""The shared request budget: a hard cap on requests per second and in flight, multiplicative decrease on
429/503 (once per second however many workers see it), additive recovery, server pauses honoured once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pmo_gates.connectors.rate import ARRIVAL_SLACK_S, COLD_SLACK_S, RequestBudget


def test_never_more_than_rate_requests_start_in_any_second():
    budget = RequestBudget(rate=40, concurrency=8)
    starts: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        # The budget's own start times: a thread's clock read after the slot is granted can lag by a
        # scheduler tick and crowd 41 readings into a second although the starts themselves never did.
        with budget.slot() as started, lock:
            starts.append(started)

    began = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(100)))
    assert time.monotonic() - began >= 2.0  # 100 requests at 40 per second
    starts.sort()
    for i, at in enumerate(starts):
        in_window = sum(1 for t in starts[i:] if t < at + 1.0)
        assert in_window <= 40


def test_never_more_than_concurrency_in_flight():
    budget = RequestBudget(rate=1000, concurrency=3)

    def one(_: int) -> None:
        with budget.slot():
            time.sleep(0.01)

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(one, range(40)))
    assert budget.peak_in_flight == 3


def test_throttling_halves_once_per_second_and_answers_recover_additively():
    now = [100.0]
    budget = RequestBudget(rate=16, concurrency=8, clock=lambda: now[0], sleep=lambda s: None)
    budget.throttled(None)
    budget.throttled(None)  # the same storm: no second decrease within a second
    assert (budget.rate, budget.concurrency) == (8, 4)
    now[0] += 1.5
    budget.throttled(None)
    assert (budget.rate, budget.concurrency) == (4, 2)
    for _ in range(4):
        budget.answered()
    assert 4.5 < budget.rate < 5.5  # about +1 per `rate` answers
    for _ in range(10_000):
        budget.answered()
    assert (budget.rate, budget.concurrency) == (16, 8)  # never above the configured ceilings
    assert budget.throttles == 3


def test_a_retry_after_pauses_the_other_workers_once():
    slept: list[float] = []
    budget = RequestBudget(rate=100, concurrency=4, sleep=slept.append)
    with budget.slot():
        budget.throttled(5.0)  # this thread's retry waits the 5 s itself
    with budget.slot():
        pass
    assert slept == []
    other: list[float] = []

    def worker() -> None:
        with budget.slot():
            other.append(1)
        with budget.slot():
            other.append(2)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert other == [1, 2] and len(slept) == 1 and 4.0 < slept[0] <= 5.0


def _held_until(budget: RequestBudget, now: list[float], moment: float) -> None:
    """A request asked for at the clock's current time is not granted until the clock reaches ``moment``."""
    granted = threading.Event()
    worker = threading.Thread(target=lambda: (budget.acquire(), granted.set()), daemon=True)
    worker.start()
    assert not granted.wait(0.5)
    now[0] = moment
    assert granted.wait(10)
    worker.join(10)


def test_a_full_window_waits_a_margin_past_the_second_for_requests_that_reach_jira_late():
    # The budget counts a request when it grants the slot; Jira counts it when it arrives, later by the
    # connection set-up (a first request's TCP/TLS handshake) or a busy scheduler. The latency benchmark
    # saw 12 arrivals in one second at a limit of 10 when the next second's requests left on warm
    # connections the moment the window allowed: the window is held a margin longer.
    now = [-10.0]
    budget = RequestBudget(rate=10, concurrency=50, clock=lambda: now[0], sleep=lambda s: None)
    for _ in range(10):  # ten connections opened long ago: the requests below are warm
        budget.acquire()
    for _ in range(10):
        budget.release()
    now[0] = 0.0
    for _ in range(10):
        budget.acquire()
    now[0] = 1.0 + ARRIVAL_SLACK_S / 2  # a second later, but within the margin
    _held_until(budget, now, 1.0 + ARRIVAL_SLACK_S + 0.001)


def test_requests_that_open_a_connection_are_held_in_the_window_longer():
    # Ten requests at once open ten connections; their arrival can trail by a handshake, so the eleventh
    # (on a warm connection, arriving at once) waits past the warm margin too.
    now = [0.0]
    budget = RequestBudget(rate=10, concurrency=50, clock=lambda: now[0], sleep=lambda s: None)
    for _ in range(10):
        budget.acquire()
    for _ in range(10):
        budget.release()
    now[0] = 1.0 + ARRIVAL_SLACK_S + 0.01  # a warm window would have let it through
    _held_until(budget, now, 1.0 + COLD_SLACK_S + 0.001)
