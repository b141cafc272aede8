"""Controllers: the small loops that make the sandbox behave like a cluster after each write."""

from __future__ import annotations

from sandbox.cluster import Reconciler
from sandbox.controllers.autoscaler import Autoscaler
from sandbox.controllers.cronjobs import reconcile_cronjobs
from sandbox.controllers.disruption import reconcile_disruption
from sandbox.controllers.endpoints import reconcile_endpoints
from sandbox.controllers.gc import reconcile_garbage
from sandbox.controllers.kubelet import Kubelet
from sandbox.controllers.namespaces import reconcile_namespaces
from sandbox.controllers.nodes import reconcile_nodes
from sandbox.controllers.scheduler import Scheduler
from sandbox.controllers.sets import reconcile_sets
from sandbox.controllers.volumes import reconcile_volumes
from sandbox.controllers.workloads import reconcile_workloads
from sandbox.crds import reconcile_crds

__all__ = ["all_controllers"]


def all_controllers() -> list[Reconciler]:
    """In the order they run on each change."""
    return [
        reconcile_namespaces,
        reconcile_crds,
        reconcile_nodes,
        reconcile_garbage,
        reconcile_cronjobs,
        reconcile_workloads,
        reconcile_sets,
        reconcile_volumes,
        Scheduler(),
        Kubelet(),
        reconcile_endpoints,
        reconcile_disruption,
        Autoscaler(),
    ]
