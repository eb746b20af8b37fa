"""Corrective actions: requests (from rule findings and root-cause analysis) -> an itemised plan of Jira
changes -> applied exactly once, with the ledger (store + labels + entity property) as memory.
See docs/actions.md."""

from pmo_gates.actions.apply import ApplyResult, ItemResult, apply_plan
from pmo_gates.actions.plan import Plan, PlanItem
from pmo_gates.actions.planner import plan_actions
from pmo_gates.actions.requests import ActionRequest

__all__ = ["ActionRequest", "ApplyResult", "ItemResult", "Plan", "PlanItem", "apply_plan", "plan_actions"]
