"""Default paths the command line shows in ``--help``. They live here, not in :mod:`pmo_gates.config` or
:mod:`pmo_gates.demo`, so that registering the commands imports no rule, fact, store or sandbox code: each
command imports what it needs when it runs."""

from __future__ import annotations

from pathlib import Path

DEFAULT_CONFIG = Path("pmo-gates.yaml")
DEFAULT_DEMO_OUT = Path("pmo-gates-demo")
