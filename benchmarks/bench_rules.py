"""Rule evaluation speed: the shipped packs over 10,000 generated projects.

Prints microseconds per (project, rule) evaluation for
  - ours: the compiled rule functions (applies + check + null semantics in one generated function),
  - hand: the same rules hand-written as Python functions (with the same unknown handling),
  - cel:  cel-python's compiled runner on the same expressions (when cel-python is installed),
checks that ours and hand agree on every outcome, and times the whole ``evaluate()`` (findings,
evidence, fingerprints, gate decisions). Run: ``python benchmarks/bench_rules.py [--projects N] [--json]``.

Targets (checked, exit code 1 when missed): ours at most ``TARGET_RATIO`` (2x) the time of the
hand-written functions, and the same outcome as them for every (project, rule). cel-python is a
comparison, not a target (its null handling differs: it reports null operands as errors).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from pmo_gates.rules.catalog import FactCatalog, FactSpec, FactType
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.rules.facts.registry import default_catalog
from pmo_gates.rules.loader import PACKS_DIR, load_rule_set
from pmo_gates.rules.models import Outcome
from pmo_gates.rules.ruleset import RuleSet

TODAY = dt.date(2026, 11, 20)
PASS, FAIL, NA, UNKNOWN = Outcome.PASS, Outcome.FAIL, Outcome.NOT_APPLICABLE, Outcome.UNKNOWN
TARGET_RATIO = 2.0  # ours / hand-written, per (project, rule) evaluation


# -- generated facts -----------------------------------------------------------------------------------


def random_value(spec: FactSpec, rng: random.Random) -> Any:
    if spec.nullable and rng.random() < 0.08:
        return None
    unit = spec.unit
    if spec.type is FactType.BOOL:
        return rng.random() < 0.8
    if spec.type is FactType.STRING:
        return rng.choice(spec.choices) if spec.choices else rng.choice(["Ada", "Grace", "Linus", "Barbara"])
    if spec.type is FactType.DATE:
        return TODAY + dt.timedelta(days=rng.randint(-400, 400))
    if spec.type is FactType.STRING_LIST:
        return [f"OPS-{rng.randint(1, 99)}" for _ in range(rng.randint(0, 3))]
    if spec.type is FactType.INTEGER:
        return rng.randint(-20, 60) if unit == "days" else rng.randint(0, 40)
    if unit == "%":
        return round(rng.uniform(0, 100), 1)
    if unit == "ratio":
        return round(rng.uniform(0, 1.4), 3)
    if unit == "currency":
        return round(rng.uniform(-1e4, 1e6), 2)
    if unit == "days":
        return round(rng.uniform(0, 60), 1)
    return round(rng.uniform(0, 10), 2)


def generate(catalog: FactCatalog, count: int, seed: int = 7) -> dict[str, dict[str, Any]]:
    rng = random.Random(seed)
    return {f"P{i:05d}": {name: random_value(spec, rng) for name, spec in catalog.items()} for i in range(count)}


# -- the shipped rules written by hand, as a Python developer would (same unknown handling) ------------

PLANNED = ("planning", "execution", "closure")


def charter_approved(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase == "closed":
        return NA
    value = f.get("has_charter")
    return UNKNOWN if value is None else PASS if value else FAIL


def project_manager_named(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase == "closed":
        return NA
    value = f.get("has_project_manager")
    return UNKNOWN if value is None else PASS if value else FAIL


def budget_approved(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase not in PLANNED:
        return NA
    approved, budget = f.get("has_approved_budget"), f.get("budget")
    if approved is False or budget is None or budget <= 0:
        return FAIL
    return UNKNOWN if approved is None else PASS


def planned_dates_set(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase not in PLANNED:
        return NA
    start, end = f.get("planned_start"), f.get("planned_end")
    if start is None or end is None:
        return FAIL
    return PASS if end > start else FAIL


def status_report_current(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase not in ("planning", "execution"):
        return NA
    days = f.get("days_since_status_update")
    return UNKNOWN if days is None else PASS if days <= 14 else FAIL


def closure_work_complete(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase != "closure":
        return NA
    open_issues = f.get("open_issues")
    return UNKNOWN if open_issues is None else PASS if open_issues == 0 else FAIL


def project_on_schedule(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if f.get("planned_end") is None or (phase is not None and phase != "execution"):
        return NA
    if phase is None:
        return UNKNOWN
    delay = f.get("delay_days")
    return UNKNOWN if delay is None else PASS if delay <= 14 else FAIL


def cost_under_control(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase, budget = f.get("phase"), f.get("budget")
    if budget is None or phase == "closed" or (phase is not None and phase != "execution"):
        return NA
    if phase is None:
        return UNKNOWN
    cpi = f.get("cpi")
    return UNKNOWN if cpi is None else PASS if cpi >= 0.9 else FAIL


def corrective_actions_on_time(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase == "closed":
        return NA
    overdue = f.get("overdue_corrective_actions")
    return UNKNOWN if overdue is None else PASS if overdue == 0 else FAIL


def delay_analysed_monthly(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase, slip = f.get("phase"), f.get("delay_days")
    if (phase is not None and phase != "execution") or (slip is not None and slip <= 14):
        return NA
    if phase is None or slip is None:
        return UNKNOWN
    age = f.get("days_since_last_rca")
    return PASS if age is not None and age <= 31 else FAIL


def priority_ranked(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase not in ("initiation", "planning", "execution"):
        return NA
    ranked = f.get("has_priority_rank")
    return UNKNOWN if ranked is None else PASS if ranked else FAIL


def risk_register_kept(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase not in ("planning", "execution"):
        return NA
    size = f.get("risk_register_size")
    return UNKNOWN if size is None else PASS if size >= 1 else FAIL


def work_is_staffed(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase, total = f.get("phase"), f.get("total_issues")
    if (phase is not None and phase != "execution") or (total is not None and total < 10):
        return NA
    if phase is None or total is None:
        return UNKNOWN
    unassigned = f.get("unassigned_open_issues")
    return UNKNOWN if unassigned is None else PASS if unassigned <= 5 else FAIL


def _in_execution(f: Mapping[str, Any], name: str) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase != "execution":
        return NA
    value = f.get(name)
    return UNKNOWN if value is None else PASS if value == 0 else FAIL


def team_not_overloaded(f: Mapping[str, Any], today: dt.date) -> Outcome:
    return _in_execution(f, "overloaded_assignees")


def cross_project_dependencies_clear(f: Mapping[str, Any], today: dt.date) -> Outcome:
    return _in_execution(f, "cross_project_blockers")


def spi_on_track(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase, budget = f.get("phase"), f.get("budget")
    if budget is None or (phase is not None and phase != "execution"):
        return NA
    if phase is None:
        return UNKNOWN
    spi = f.get("spi")
    return UNKNOWN if spi is None else PASS if spi >= 0.9 else FAIL


def eac_within_budget(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase, budget = f.get("phase"), f.get("budget")
    if budget is None or budget <= 0 or (phase is not None and phase != "execution"):
        return NA
    if phase is None:
        return UNKNOWN
    eac = f.get("eac")
    return UNKNOWN if eac is None else PASS if eac <= budget * 1.1 else FAIL


def _quality(f: Mapping[str, Any], name: str, limit: float) -> Outcome:
    phase, total = f.get("phase"), f.get("total_issues")
    if (phase is not None and phase not in ("execution", "closure")) or (total is not None and total < 20):
        return NA
    if phase is None or total is None:
        return UNKNOWN
    value = f.get(name)
    return UNKNOWN if value is None else PASS if value <= limit else FAIL


def reopen_rate_low(f: Mapping[str, Any], today: dt.date) -> Outcome:
    return _quality(f, "reopen_rate", 0.1)


def defect_share_low(f: Mapping[str, Any], today: dt.date) -> Outcome:
    return _quality(f, "defect_share", 0.3)


def scope_growth_controlled(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase != "execution":
        return NA
    growth = f.get("scope_growth_pct")
    return UNKNOWN if growth is None else PASS if growth <= 20 else FAIL


def lessons_learned_recorded(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase not in ("closure", "closed"):
        return NA
    value = f.get("has_lessons_learned")
    return UNKNOWN if value is None else PASS if value else FAIL


def corrective_actions_effective(f: Mapping[str, Any], today: dt.date) -> Outcome:
    pct = f.get("corrective_actions_closed_on_time_pct")
    if pct is None:
        return NA
    return PASS if pct >= 80 else FAIL


def business_case_positive(f: Mapping[str, Any], today: dt.date) -> Outcome:
    phase = f.get("phase")
    if phase is None:
        return UNKNOWN
    if phase not in ("initiation", "planning"):
        return NA
    roi, value = f.get("expected_roi"), f.get("strategic_value")
    if (roi is not None and roi > 0) or (value is not None and value >= 8):
        return PASS
    return UNKNOWN if roi is None or value is None else FAIL


HAND_WRITTEN = [
    charter_approved, project_manager_named, budget_approved, planned_dates_set, status_report_current,
    closure_work_complete, project_on_schedule, cost_under_control, corrective_actions_on_time,
    delay_analysed_monthly, priority_ranked, risk_register_kept, work_is_staffed, team_not_overloaded,
    cross_project_dependencies_clear, spi_on_track, eac_within_budget, reopen_rate_low, defect_share_low,
    scope_growth_controlled, lessons_learned_recorded, corrective_actions_effective, business_case_positive,
]  # fmt: skip
HAND: dict[str, Callable[[Mapping[str, Any], dt.date], Outcome]] = {
    fn.__name__.replace("_", "-"): fn for fn in HAND_WRITTEN
}


# -- cel-python ------------------------------------------------------------------------------------------


def cel_source(source: str, settings: Mapping[str, Any]) -> str:
    """Our expression in CEL: settings inlined, has(x) spelled x != null."""
    source = re.sub(r"settings\.([a-z_][a-z0-9_]*)", lambda m: repr(settings[m.group(1)]), source)
    return re.sub(r"has\(([a-z_][a-z0-9_]*)\)", r"(\1 != null)", source)


def cel_programs(rule_set: RuleSet) -> dict[str, tuple[Any, Any]] | None:
    try:
        import celpy
    except ImportError:
        return None
    logging.getLogger("celpy").setLevel(logging.CRITICAL)  # it logs every null operand as an error
    env = celpy.Environment(runner_class=celpy.CompiledRunner)
    programs = {}
    for compiled in rule_set.enabled_rules():
        rule = compiled.rule
        applies = env.program(env.compile(cel_source(rule.applies, rule_set.settings)))
        check = env.program(env.compile(cel_source(rule.check, rule_set.settings)))
        programs[rule.id] = (applies, check)
    return programs


def cel_activation(facts: Mapping[str, Any]) -> dict[str, Any]:
    import celpy
    from celpy import celtypes

    out: dict[str, Any] = {}
    for name, value in facts.items():
        if isinstance(value, dt.date):
            out[name] = celtypes.TimestampType(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
        elif isinstance(value, float):
            out[name] = celtypes.DoubleType(value)
        elif value is None:
            out[name] = None
        else:
            out[name] = celpy.json_to_cel(value)
    return out


def cel_outcome(programs: tuple[Any, Any], activation: dict[str, Any]) -> Outcome:
    applies, check = programs
    try:
        applied = applies.evaluate(activation)
        if applied is not True and str(applied) != "True":
            return NA
        return PASS if str(check.evaluate(activation)) == "True" else FAIL
    except Exception:  # CEL reports null operands as evaluation errors
        return UNKNOWN


# -- timing ------------------------------------------------------------------------------------------------


def per_evaluation_us(functions: list[Callable[..., Outcome]], facts: list[Mapping[str, Any]], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for fn in functions:
            for project in facts:
                fn(project, TODAY)
        best = min(best, time.perf_counter() - start)
    return best / (len(functions) * len(facts)) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--cel-projects", type=int, default=300, help="CEL is slow: time it on fewer projects")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    catalog = default_catalog()
    start = time.perf_counter()
    rule_set = load_rule_set([PACKS_DIR], catalog, today=TODAY)
    load_ms = (time.perf_counter() - start) * 1e3
    rules = rule_set.enabled_rules()
    assert set(HAND) == {r.id for r in rules}, sorted(set(HAND) ^ {r.id for r in rules})
    facts = generate(catalog, args.projects)
    projects = list(facts.values())

    ours = [r.outcome_fn for r in rules]
    hand = [HAND[r.id] for r in rules]
    mismatches = sum(
        1 for r in rules for project in projects if r.outcome_fn(project, TODAY) is not HAND[r.id](project, TODAY)
    )
    ours_us = per_evaluation_us(ours, projects, args.rounds)
    hand_us = per_evaluation_us(hand, projects, args.rounds)
    evaluations = len(rules) * len(projects)
    say(f"rules: {len(rules)} (shipped packs), projects: {len(projects)}, evaluations: {evaluations:,}")
    say(f"load + compile the shipped files:           {load_ms:8.1f} ms")
    say(f"ours (compiled rule functions):            {ours_us:8.3f} us per (project, rule)")
    say(f"hand-written Python functions:             {hand_us:8.3f} us per (project, rule)")
    say(f"ratio ours / hand-written:                 {ours_us / hand_us:8.2f}x   (target <= {TARGET_RATIO:g}x)")
    say(f"outcome mismatches ours vs hand-written:   {mismatches:8d}")
    report: dict[str, object] = {
        "rules": len(rules),
        "projects": len(projects),
        "evaluations": evaluations,
        "load_compile_ms": round(load_ms, 1),
        "ours_us": round(ours_us, 4),
        "hand_us": round(hand_us, 4),
        "ratio_ours_hand": round(ours_us / hand_us, 3),
        "target_ratio": TARGET_RATIO,
        "mismatches": mismatches,
        "cel": None,
    }

    programs = cel_programs(rule_set)
    if programs is None:
        say("cel-python: not installed (pip install cel-python) - skipped")
    else:
        sample = projects[: args.cel_projects]
        activations = [cel_activation(p) for p in sample]
        start = time.perf_counter()
        cel = {(r.id, i): cel_outcome(programs[r.id], a) for r in rules for i, a in enumerate(activations)}
        cel_us = (time.perf_counter() - start) / len(cel) * 1e6
        agree = sum(1 for (rule_id, i), o in cel.items() if o is rule_set.rules[rule_id].outcome(sample[i], TODAY))
        say(
            f"cel-python compiled runner:                {cel_us:8.3f} us per (project, rule)   "
            f"({cel_us / ours_us:.0f}x ours; {agree}/{len(cel)} outcomes agree, on {len(sample)} projects)"
        )
        report["cel"] = {
            "us": round(cel_us, 3),
            "ratio_cel_ours": round(cel_us / ours_us, 1),
            "outcomes_agree": agree,
            "evaluations": len(cel),
            "projects": len(sample),
        }

    start = time.perf_counter()
    evaluation = evaluate(rule_set, facts, today=TODAY)
    total = time.perf_counter() - start
    say(
        f"evaluate() end to end:                     {total / len(evaluation.findings) * 1e6:8.3f} us per finding "
        f"({len(evaluation.findings):,} findings, {len(evaluation.gate_results):,} gate results, {total:.2f} s)"
    )
    report["evaluate"] = {
        "seconds": round(total, 3),
        "us_per_finding": round(total / len(evaluation.findings) * 1e6, 3),
        "findings": len(evaluation.findings),
        "gate_results": len(evaluation.gate_results),
    }
    targets = {"ratio_ours_hand": ours_us / hand_us <= TARGET_RATIO, "same_outcomes": mismatches == 0}
    report["targets"] = targets
    say("Targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in targets.items()))
    if args.json:
        print(json.dumps(report, indent=2))
    return 0 if all(targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
