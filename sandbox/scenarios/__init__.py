"""Scenarios: the state a sandbox starts in. `empty` is a bare cluster; `default` is the demo shop."""

from __future__ import annotations

import time
from collections.abc import Callable

from sandbox.aging import age_scenario
from sandbox.cluster import Cluster
from sandbox.scenarios.base import load_base
from sandbox.scenarios.kagent import load_kagent
from sandbox.scenarios.shop import load_shop
from sandbox.scenarios.triage import load_triage

__all__ = ["SCENARIOS", "load_scenario"]

SCENARIOS: dict[str, tuple[str, Callable[[Cluster], None]]] = {
    "empty": ("three worker nodes, the system namespaces and default RBAC; nothing running", load_base),
    "default": ("the demo shop: several namespaces and deployments with seeded faults", load_shop),
    "shop": ("alias of default", load_shop),
    "kagent": (
        "the healthy 4-tier app the kagent challenges break (frontend, 3 backends, mysql, neo4j)",
        load_kagent,
    ),
    "triage": (
        "one fault for each cluster-triage analyzer: nodes, ingress, HPA, PDB, storage, jobs, webhooks",
        load_triage,
    ),
}


def load_scenario(cluster: Cluster, name: str) -> None:
    """Fill `cluster` with the named scenario; ValueError naming the known ones otherwise."""
    entry = SCENARIOS.get(name)
    if entry is None:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    loaded_at = time.time()
    cluster.loading = True
    try:
        entry[1](cluster)
    finally:
        cluster.loading = False
    age_scenario(cluster, loaded_at)
