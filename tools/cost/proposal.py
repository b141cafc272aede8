"""Node-plan changes are proposed, never applied: a Karpenter NodePool restricted to the plan's instance
types and capacity types, with the plan's node counts as comments."""

from __future__ import annotations

from tools.cost.engine import PlanSummary

__all__ = ["karpenter_nodepool"]


def karpenter_nodepool(plan: PlanSummary, name: str = "opsgraph-plan") -> str:
    types = sorted({g.instance_type for g in plan.nodes})
    capacity = sorted({g.capacity_type for g in plan.nodes}) or ["on-demand"]
    lines = [
        "# Proposed by opsgraph cost plan: review, then apply it yourself (opsgraph does not apply node changes).",
        f"# Planned: {plan.monthly_cost:.2f} USD/month, proven lower bound {plan.lower_bound:.2f} (gap {plan.gap:.1%}).",
    ]
    lines += [
        f"#   {g.count} x {g.instance_type} ({g.capacity_type}, {g.usd_per_hour:g} USD/h)" for g in plan.nodes
    ]
    lines += [
        "apiVersion: karpenter.sh/v1",
        "kind: NodePool",
        "metadata:",
        f"  name: {name}",
        "spec:",
        "  template:",
        "    spec:",
        "      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}",
        "      requirements:",
        "        - key: node.kubernetes.io/instance-type",
        "          operator: In",
        f"          values: [{', '.join(types)}]",
        "        - key: karpenter.sh/capacity-type",
        "          operator: In",
        f"          values: [{', '.join(capacity)}]",
        "  disruption:",
        "    consolidationPolicy: WhenEmptyOrUnderutilized",
    ]
    return "\n".join(lines) + "\n"
