"""Analyzers: each reads a `ClusterView` and returns findings with cited evidence, one kind of object each.

`NAMESPACED` run for a namespace or the whole cluster; `CLUSTER_WIDE` (nodes, webhooks) only for the
whole cluster. The pod and Service analysis (`tools.kubernetes.triage`) sits beside them.
"""

from __future__ import annotations

from collections.abc import Callable

from tools.kubernetes.analyzers.autoscaling import hpa_findings
from tools.kubernetes.analyzers.batch import cronjob_findings, job_findings
from tools.kubernetes.analyzers.disruption import pdb_findings
from tools.kubernetes.analyzers.ingress import ingress_findings
from tools.kubernetes.analyzers.nodes import node_findings
from tools.kubernetes.analyzers.storage import pvc_findings, statefulset_findings
from tools.kubernetes.analyzers.webhooks import webhook_findings
from tools.kubernetes.findings import Finding
from tools.kubernetes.view import ClusterView

__all__ = ["CLUSTER_WIDE", "NAMESPACED", "Analyzer"]

Analyzer = Callable[[ClusterView], list[Finding]]

NAMESPACED: dict[str, Analyzer] = {
    "Ingress": ingress_findings,
    "HorizontalPodAutoscaler": hpa_findings,
    "PodDisruptionBudget": pdb_findings,
    "PersistentVolumeClaim": pvc_findings,
    "StatefulSet": statefulset_findings,
    "Job": job_findings,
    "CronJob": cronjob_findings,
}
CLUSTER_WIDE: dict[str, Analyzer] = {
    "Node": node_findings,
    "AdmissionWebhook": webhook_findings,
}
