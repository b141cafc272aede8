"""Typed cost calls for the SDK and the HTTP API: the report the cost agent's tools are built on."""

from __future__ import annotations

from typing import Any

from tools.base import ToolContext
from tools.cost.engine import CostReport

__all__ = ["plan"]


def plan(ctx: ToolContext, *, namespace: str | None = None, time_limit_s: float = 20.0) -> CostReport:
    """Right-sizing, the node plan with its proven lower bound and gap, spot risk and savings.

    Reads the cluster of `ctx` (kubeconfig/context) and its usage, or the recorded snapshot and usage file
    named by `ctx.extras["cluster_snapshot"]` and `ctx.extras["usage_file"]`.
    """
    from tools.cost.cluster import ClusterSnapshot, read_cluster
    from tools.cost.connect import api_client_for, catalog_for, usage_source_for
    from tools.cost.engine import optimize
    from tools.cost.usage import RecordedUsageSource

    recorded = ctx.extras.get("cluster_snapshot")
    source: Any
    api: Any = None
    if recorded:
        snapshot = ClusterSnapshot.model_validate_json(ctx.resolve(str(recorded)).read_text())
        source = RecordedUsageSource(ctx.resolve(str(ctx.extras["usage_file"])))
    else:
        api = api_client_for(ctx)
    try:
        if api is not None:
            snapshot = read_cluster(api)
            source = usage_source_for(ctx, api)  # reads usage through the same client while optimizing
        return optimize(snapshot, source, catalog_for(ctx), time_limit_s=time_limit_s, namespace=namespace)
    finally:
        if api is not None:
            api.close()
