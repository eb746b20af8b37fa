import math
from datetime import date, datetime

import pytest
from sqlalchemy import event

from pmo_gates.rules.catalog import FactCatalog, FactType
from pmo_gates.rules.facts import (
    FactError,
    FactRegistry,
    builtin_registry,
    compute_fact_table,
    compute_facts,
    default_catalog,
    default_registry,
)
from pmo_gates.rules.facts import registry as registry_module
from tests.fixtures_facts import TODAY, Portfolio, facts_of, random_portfolio

# The facts the PMO's rules are promised (VISION.md and the facts brief); more may exist.
PROMISED = (
    "phase",
    "current_gate",
    "project_manager",
    "has_project_manager",
    "planned_start",
    "planned_end",
    "forecast_end",
    "schedule_slip_days",
    "percent_complete_issues",
    "percent_complete_points",
    "days_in_phase",
    "budget",
    "actual_cost",
    "pv",
    "ev",
    "ac",
    "spi",
    "cpi",
    "eac",
    "open_blockers",
    "cross_project_blockers",
    "unassigned_open_issues",
    "overloaded_assignees",
    "scope_growth_pct",
    "bottleneck_status",
    "bottleneck_days",
    "reopen_rate",
    "risk_register_size",
    "days_since_status_update",
    "has_approved_budget",
    "has_charter",
    "has_lessons_learned",
    "open_issues",
    "total_issues",
    "defect_share",
    "overdue_corrective_actions",
    "corrective_actions_closed_on_time_pct",
    "days_since_last_rca",
    "has_priority_rank",
    "strategic_value",
    "expected_roi",
)


def test_every_promised_fact_is_registered():
    assert sorted(set(PROMISED) - set(builtin_registry())) == []


@pytest.mark.parametrize("name", builtin_registry().names())
def test_every_fact_is_documented(name):
    definition = builtin_registry().get(name)
    spec = definition.spec
    assert isinstance(spec.type, FactType)
    assert spec.description.strip() and "\n" not in spec.description
    assert spec.description.endswith(".")
    assert len(definition.details) > 20, "the function's docstring states the edge cases"
    if spec.type in (FactType.NUMBER, FactType.INTEGER) and not name.startswith(("strategic", "days_")):
        assert spec.unit, "numbers carry a unit"
    if spec.unit == "days":
        assert spec.type in (FactType.NUMBER, FactType.INTEGER)


def test_catalog_matches_registry():
    catalog = default_catalog()
    assert isinstance(catalog, FactCatalog)
    assert list(catalog) == builtin_registry().names()
    for name, spec in catalog.items():
        assert spec == builtin_registry().get(name).spec


def test_registration_is_checked():
    registry = FactRegistry("t")

    @registry.register("a", type=FactType.INTEGER, description="A.")
    def a(ctx):
        return {}

    with pytest.raises(ValueError, match="already registered"):
        registry.register("a", type=FactType.INTEGER, description="A again.")(a)
    with pytest.raises(ValueError, match="snake_case"):
        registry.register("Bad-Name", type=FactType.INTEGER, description="Bad.")
    with pytest.raises(ValueError, match="one non-empty line"):
        registry.register("b", type=FactType.INTEGER, description="two\nlines")
    with pytest.raises(ValueError, match="needs a default"):
        registry.register("c", type=FactType.INTEGER, description="C.", nullable=False)
    with pytest.raises(ValueError, match="is a integer"):
        registry.register("d", type=FactType.INTEGER, description="D.", default="zero")
    with pytest.raises(KeyError, match="did you mean 'a'"):
        registry.get("aa")


def test_merging_registries_rejects_a_name_twice():
    other = FactRegistry("acme")
    other.register("spi", type=FactType.NUMBER, description="Clash.")(lambda ctx: {})
    with pytest.raises(ValueError, match="'spi' from acme is already registered"):
        builtin_registry().merged(other)


class _EntryPoint:
    def __init__(self, name, value, loaded):
        self.name, self.value, self._loaded = name, value, loaded

    def load(self):
        if isinstance(self._loaded, Exception):
            raise self._loaded
        return self._loaded


def test_plugins_join_the_default_registry(monkeypatch):
    plugin = FactRegistry("acme")
    plugin.register("acme_score", type=FactType.NUMBER, description="Acme's score.")(lambda ctx: {})
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [_EntryPoint("acme", "acme:r", plugin)])
    assert "acme_score" in default_registry()
    assert "acme_score" in default_catalog()
    assert "acme_score" not in builtin_registry()


@pytest.mark.parametrize(
    ("loaded", "message"),
    [(ImportError("no module acme"), "failed to load: no module acme"), (object(), "not a FactRegistry")],
)
def test_broken_plugins_are_named(monkeypatch, loaded, message):
    monkeypatch.setattr(registry_module, "entry_points", lambda group: [_EntryPoint("acme", "acme:r", loaded)])
    with pytest.raises((ImportError, TypeError), match=f"fact plugin 'acme' \\(acme:r\\).*{message}"):
        default_registry()


def test_bad_requests_are_reported(sqlite_store):
    p = Portfolio()
    p.project("A")
    p.save(sqlite_store)
    with pytest.raises(FactError, match=r"unknown fact 'sip' \(did you mean 'spi'\?\)"):
        compute_facts(sqlite_store, today=TODAY, only=["spi", "sip"])
    with pytest.raises(FactError, match=r"unknown project key\(s\).*: NOPE, ZED"):
        compute_facts(sqlite_store, today=TODAY, projects=["A", "ZED", "NOPE"])
    with pytest.raises(FactError, match="today must be a date, got datetime"):
        compute_facts(sqlite_store, today=datetime(2026, 11, 2))
    with pytest.raises(FactError, match="today must be a date, got str"):
        compute_facts(sqlite_store, today="2026-11-02")


def _registry_with(fn, **spec):
    registry = FactRegistry("t")
    registry.register("x", description="X.", **{"type": FactType.NUMBER, **spec})(fn)
    return registry


def test_broken_fact_functions_are_named(sqlite_store):
    p = Portfolio()
    p.project("A")
    p.save(sqlite_store)

    def boom(ctx):
        raise ZeroDivisionError("division by zero")

    # A failure is the project's data error (the fact is unknown for it), never the portfolio's stop.
    for fn, message in (
        (boom, "could not be computed: ZeroDivisionError: division by zero"),
        (lambda ctx: {"A": "7"}, "fact 'x' is a number, got str '7'"),
        (lambda ctx: {"A": math.inf}, "not a finite number (inf)"),
    ):
        table = compute_fact_table(sqlite_store, today=TODAY, registry=_registry_with(fn))
        assert table.values == {"A": {"x": None}}
        assert [(p.project_key, p.field, p.message) for p in table.problems] == [("A", "x", message)]


def test_defaults_fill_omitted_projects_without_sharing_lists(sqlite_store):
    p = Portfolio()
    p.project("A")
    p.project("B")
    p.save(sqlite_store)
    registry = _registry_with(lambda ctx: {"A": 1 / 3, "GONE": 5.0})
    registry.register("keys", type=FactType.STRING_LIST, description="K.", nullable=False, default=[])(lambda ctx: {})
    facts = compute_facts(sqlite_store, today=TODAY, registry=registry)
    assert facts == {"A": {"keys": [], "x": 0.333333}, "B": {"keys": [], "x": None}}  # rounded; out-of-scope dropped
    facts["A"]["keys"].append("A-1")
    assert facts["B"]["keys"] == []


def test_all_facts_on_a_mixed_portfolio_fit_the_catalog(store):
    random_portfolio(12).save(store)
    facts = facts_of(store)
    catalog = default_catalog()
    assert len(facts) == 12
    for row in facts.values():
        assert list(row) == list(catalog)
        assert catalog.coerce_facts(row) == row


def test_sqlite_and_postgresql_agree(sqlite_store, pg_store):
    portfolio = random_portfolio(15, seed=4)
    portfolio.save(sqlite_store)
    random_portfolio(15, seed=4).save(pg_store)
    assert facts_of(sqlite_store) == facts_of(pg_store)


def test_scope_and_only(store):
    random_portfolio(5).save(store)
    facts = facts_of(store, "spi", "open_issues", projects=["R3", "R1"])
    assert list(facts) == ["R1", "R3"]
    assert all(list(row) == ["spi", "open_issues"] for row in facts.values())
    everything = facts_of(store)
    assert {
        key: {"spi": row["spi"], "open_issues": row["open_issues"]}
        for key, row in everything.items()
        if key in ("R1", "R3")
    } == facts


def _statements(store, projects: list[str] | None = None) -> int:
    count = [0]

    def before(*_):
        count[0] += 1

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        facts_of(store, projects=projects)
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
    return count[0]


def test_statement_count_does_not_grow_with_projects(store):
    random_portfolio(3, seed=9, prefix="S").save(store)
    small = _statements(store)
    random_portfolio(60, seed=9, prefix="L", first_id=100_000).save(store)
    big = _statements(store)
    some = _statements(store, projects=[f"L{n}" for n in range(0, 60, 2)])
    assert small == big == some
    assert big <= 25


def test_today_is_the_only_clock(store):
    p = Portfolio()
    p.project("A", planned_start=date(2026, 1, 1), planned_end=date(2026, 12, 31), budget=364.0)
    p.save(store)
    assert facts_of(store, "pv", today=date(2026, 1, 11))["A"]["pv"] == 10.0
    assert facts_of(store, "pv", today=date(2026, 1, 11))["A"]["pv"] == 10.0
