"""Typed cost calls for the SDK, the HTTP API and the cost agent's tools: one way to read the inputs."""

from __future__ import annotations

from typing import Any

from tools.base import ToolContext
from tools.cost.cluster import ClusterSnapshot
from tools.cost.engine import CostReport
from tools.cost.usage import UsageSource

__all__ = ["cluster_inputs", "plan"]


def cluster_inputs(ctx: ToolContext) -> tuple[ClusterSnapshot, UsageSource, Any]:
    """The cluster snapshot, its usage source, and the API client they read through (None for a recording).

    The cluster of `ctx` (kubeconfig/context) is read whole: the nodes' cost is shared out over every
    namespace. `ctx.extras["cluster_snapshot"]` and `["usage_file"]` name a recorded cluster instead.
    The caller closes the client once it no longer reads usage through it.
    """
    from tools.cost.cluster import read_cluster
    from tools.cost.connect import api_client_for, usage_source_for
    from tools.cost.usage import RecordedUsageSource

    recorded = ctx.extras.get("cluster_snapshot")
    if recorded:
        snapshot = ClusterSnapshot.model_validate_json(ctx.setting_path(str(recorded)).read_text())
        return snapshot, RecordedUsageSource(ctx.setting_path(str(ctx.extras["usage_file"]))), None
    api = api_client_for(ctx)
    try:
        return read_cluster(api), usage_source_for(ctx, api), api
    except BaseException:
        api.close()
        raise


def plan(ctx: ToolContext, *, namespace: str | None = None, effort: float = 1.0) -> CostReport:
    """Right-sizing, the node plan with its proven lower bound and gap, spot risk and savings."""
    from tools.cost.connect import catalog_for
    from tools.cost.engine import optimize

    snapshot, source, api = cluster_inputs(ctx)
    try:
        return optimize(
            snapshot, source, catalog_for(ctx), effort=effort, namespace=namespace, reconcile=True
        )
    finally:
        if api is not None:
            api.close()
