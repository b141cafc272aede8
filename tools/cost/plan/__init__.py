"""Node planning: exact CP-SAT for small problems, LP-guided packing with a certified bound for large ones."""

from tools.cost.plan.baseline import karpenter_style_plan, single_type_plan
from tools.cost.plan.planner import PlanRejectedError, plan_nodes, prune_dominated
from tools.cost.plan.relaxation import Relaxation, solve_relaxation

__all__ = [
    "PlanRejectedError",
    "Relaxation",
    "karpenter_style_plan",
    "plan_nodes",
    "prune_dominated",
    "single_type_plan",
    "solve_relaxation",
]
