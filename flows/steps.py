"""Tasks shared by the gate-review and corrective-actions flows: rules, facts, evaluation.

One task per step over the whole portfolio (never per rule or per project): the work is bulk SQL and
plain Python, and a task run per item would cost more in Prefect bookkeeping than the item itself.
Caching is off: inputs are a store, a rule set and facts for thousands of projects, and hashing them
would cost more than recomputing. Results are not persisted either (the flows persist only their compact
summaries): a suspended approval re-runs these steps rather than reading megabytes back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from pmo_gates.actions.run import Inputs, load_rules
from pmo_gates.config import Settings
from pmo_gates.flows.context import FlowRuntime
from pmo_gates.rules.evaluate import evaluate
from pmo_gates.rules.facts import FactTable, compute_fact_table
from pmo_gates.rules.facts.context import FactParams
from pmo_gates.rules.results import Evaluation
from pmo_gates.rules.ruleset import RuleSet
from pmo_gates.store import Store
from pmo_gates.store.readiness import require_projects


@task(name="load-rules", cache_policy=NO_CACHE, persist_result=False)
def load_rules_task(settings: Settings, today: date) -> RuleSet:
    return load_rules(settings, today)


@task(name="compute-facts", cache_policy=NO_CACHE, persist_result=False)
def compute_facts_task(store: Store, today: date, params: FactParams | None = None) -> FactTable:
    """Facts and each project's data errors; fails, saying why, when a failed sync left nothing to judge."""
    with store.session() as session:
        require_projects(session)
    return compute_fact_table(store, today=today, params=params)


@task(name="evaluate-rules", cache_policy=NO_CACHE, persist_result=False)
def evaluate_task(rule_set: RuleSet, facts: dict[str, dict[str, Any]], today: date) -> Evaluation:
    return evaluate(rule_set, facts, today=today)


def gather_inputs(runtime: FlowRuntime) -> Inputs:
    """Rules, facts and their evaluation as of the run's ``today``."""
    today = runtime.today
    rule_set = load_rules_task(runtime.settings, today)
    table = compute_facts_task(runtime.store, today, runtime.settings.fact_params())
    facts = table.values
    # quote(): Prefect would otherwise walk every value of these (thousands of projects) looking for futures.
    evaluation = evaluate_task(quote(rule_set), quote(facts), today)
    return Inputs(today=today, rule_set=rule_set, facts=facts, evaluation=evaluation, problems=table.problems)
