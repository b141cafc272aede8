"""The public names of the cost packages are a contract."""

from __future__ import annotations

import tools.cost
import tools.cost.plan
import tools.cost.usage
import verifiers.cost


def test_public_names() -> None:
    assert tools.cost.__all__ == ["build_tools"]
    assert {"plan_nodes", "karpenter_style_plan", "solve_relaxation", "PlanRejectedError"} <= set(
        tools.cost.plan.__all__
    )
    assert {"UsageSource", "PrometheusUsageSource", "MetricsApiUsageSource", "RecordedUsageSource"} <= set(
        tools.cost.usage.__all__
    )
    assert {"validate_plan", "certified_lower_bound", "Plan", "PlanProblem", "Workload", "Offering"} <= set(
        verifiers.cost.__all__
    )
    for module in (tools.cost, tools.cost.plan, tools.cost.usage, verifiers.cost):
        assert all(hasattr(module, name) for name in module.__all__)
