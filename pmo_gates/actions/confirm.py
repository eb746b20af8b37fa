"""Waiting for Jira's state after an ambiguous write, instead of sending it again blind.

A create or comment POST that timed out or lost its connection may be applied by Jira seconds later (a
50-issue bulk create on a busy site outlives any sensible read timeout), and search sees it later still
(index lag). So after such a failure the caller *probes* (search by fingerprint label, or GET the issue's
comments for the marker) with back-off until the probe answers or ``wait_seconds`` pass; an item still
unknown is left pending for the next run, never re-sent in the same run. ``budget_seconds`` bounds the
polling of the whole run, so a Jira that drops every request cannot hold a run for hours.

    >>> waits = []
    >>> c = Confirmer(ConfirmConfig(wait_seconds=5, first_poll_seconds=1), sleep=waits.append)
    >>> answers = iter([None, None, "PMO-7"])
    >>> c.wait_for(lambda: next(answers)), waits
    ('PMO-7', [1.0, 2.0])
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pmo_gates.config import ConfirmConfig

log = logging.getLogger(__name__)

T = TypeVar("T")


class Confirmer:
    """Polls a probe with exponential back-off inside a per-write window and a per-run budget."""

    def __init__(
        self,
        config: ConfirmConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.spent = 0.0  # seconds slept so far in this run (the budget counts waits, not probes)

    def wait_for(self, probe: Callable[[], T | None], *, done: Callable[[T], bool] = bool) -> T | None:
        """``probe()`` until ``done(answer)``: the last answer (possibly partial, or None) once the window or
        the run's budget is over. The probe runs at once, then after 1, 2, 4 ... ``first_poll_seconds``."""
        cfg = self.config
        waited = 0.0
        pause = cfg.first_poll_seconds
        answer = probe()
        while not (answer is not None and done(answer)):
            left = min(cfg.wait_seconds - waited, cfg.budget_seconds - self.spent)
            if left <= 0:
                break
            step = min(pause, cfg.max_poll_seconds, left)
            self.sleep(step)
            waited += step
            self.spent += step
            pause *= 2
            answer = probe()
        return answer
