"""``--json`` output goes through one orjson helper: the same parsed content as the ``json.dumps(...,
indent=2, default=str)`` it replaces (datetimes as their ``str()``, non-ASCII text, floats, non-string
keys), still valid, indented JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.commands.actions import print_run
from pmo_gates.formatting import to_json

WHEN = datetime(2026, 11, 2, 6, 30, 15, 123456, tzinfo=UTC)


@dataclass
class Note:
    text: str


def _plan() -> Plan:
    items = [
        PlanItem(
            id=f"create_ticket:fp{n}",
            op="create_ticket",
            project_key=f"PRJ{n}",
            fingerprint=f"fp{n}",
            rule_id="establishment.charter",
            reason="Charter fehlt · «Überfällig» 期限切れ 🚧",
            evidence={"spi": 0.1 + 0.2, "cpi": 1e16, "tiny": 5e-324, "budget": 53_700.0, "when": WHEN, "n": n},
            payload={"fields": {"summary": "Projekt Ärger", "duedate": date(2026, 11, 30)}},
        )
        for n in range(3)
    ]
    return Plan(items=items, warnings=["naïve warning"], unchanged=2)


def _data() -> dict[str, Any]:
    """What ``print_run`` prints, plus the Python values a summary can hold that JSON cannot."""
    return {
        "plan": _plan().model_dump(mode="json"),
        "result": {
            "failed": [_plan().items[0].model_dump()],  # python mode: a real datetime and date inside
            "created_at": WHEN,
            "day": date(2026, 11, 2),
            "took": timedelta(seconds=90),
            "money": Decimal("12.50"),
            "keys": {"B", "A"} - {"B"},
            "note": Note("café"),
            "by_int": {1: "one", 2.5: "two and a half", None: "none", False: "no"},
            "floats": [0.0, -0.0, 1.0, 1 / 3, 123456789.123456789, 1e-7, -2.5e300],
            "empty": {"list": [], "dict": {}},
        },
    }


def _old(data: Any) -> str:
    return json.dumps(data, indent=2, default=str)


def test_parses_to_what_the_stdlib_wrote() -> None:
    data = _data()
    new = to_json(data)
    assert isinstance(new, bytes)
    assert json.loads(new) == json.loads(_old(data))
    parsed = json.loads(new)
    assert parsed["result"]["created_at"] == "2026-11-02 06:30:15.123456+00:00"  # str(), as default=str gave
    assert parsed["result"]["failed"][0]["payload"]["fields"]["duedate"] == "2026-11-30"
    assert parsed["result"]["note"] == "Note(text='café')"
    assert parsed["plan"]["items"][0]["reason"] == "Charter fehlt · «Überfällig» 期限切れ 🚧"


def test_indented_like_the_stdlib() -> None:
    data = {"a": [1, {"b": "c"}], "d": {}}
    assert to_json(data).decode() == _old(data)


def test_non_ascii_is_utf8_not_escaped() -> None:
    assert to_json({"k": "Ärger"}) == '{\n  "k": "Ärger"\n}'.encode()


def test_nan_becomes_null_valid_json() -> None:
    out = to_json({"spi": math.nan, "cpi": math.inf})
    assert json.loads(out, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name))) == {
        "spi": None,
        "cpi": None,
    }


def test_beyond_orjson_falls_back_to_the_stdlib() -> None:
    data = {"huge": 10**30, "when": WHEN}
    assert json.loads(to_json(data)) == json.loads(_old(data))


def test_print_run_prints_the_plan_as_json(capfd) -> None:
    run = SimpleNamespace(plan=_plan(), applied=None, dry_run=True, summary=lambda: {"dry_run": True, "at": WHEN})
    assert print_run(run, as_json=True, extra={"gate": "G2 · Ärger"}) == 0
    out = capfd.readouterr().out
    expected = {"gate": "G2 · Ärger", "plan": _plan().model_dump(mode="json"), "result": {"dry_run": True, "at": WHEN}}
    assert json.loads(out) == json.loads(_old(expected))
