"""Triage of a namespace or the whole cluster: every finding of every analyzer, ranked by severity.

Unhealthy pods are diagnosed once per owning workload (the first such pod stands for its siblings);
Services, Ingresses, autoscalers, budgets, claims, StatefulSets, Jobs and CronJobs are analysed in each
namespace; nodes and admission webhooks only for the whole cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.kubernetes.access import KubeAccess
from tools.kubernetes.analyzers import CLUSTER_WIDE, NAMESPACED
from tools.kubernetes.diagnose import diagnose_pod
from tools.kubernetes.findings import Finding, counts, rank, render_findings
from tools.kubernetes.services import service_findings
from tools.kubernetes.view import ClusterView, pod_ready

__all__ = ["Triage", "triage"]

_WARNING_ONLY = ("running but not Ready",)


@dataclass
class Triage:
    scope: str
    findings: list[Finding]
    checked: dict[str, int]
    gaps: list[str] = field(default_factory=list)
    limit: int = 15

    def text(self) -> str:
        n = counts(self.findings)
        summary = ", ".join(f"{v} {k}" for k, v in n.items() if v) or "none"
        checked = ", ".join(f"{v} {k}" for k, v in self.checked.items() if v)
        lines = [f"{self.scope}: {len(self.findings)} finding(s) ({summary}); checked {checked}"]
        if not self.findings:
            lines.append("no problem found")
        shown = self.findings[: self.limit]
        if shown:
            lines.append(render_findings(f"{self.scope}, findings ranked by severity", shown, numbered=True))
        rest = self.findings[self.limit :]
        if rest:
            lines.append(
                f"{len(rest)} more, less severe: " + "; ".join(f"[{f.severity}] {f.subject}" for f in rest)
            )
        lines += [f"not checked: {g}" for g in self.gaps]
        return "\n".join(lines)

    def artifact(self) -> dict[str, Any]:
        return {
            "kind": "kubernetes.findings",
            "scope": self.scope,
            "counts": counts(self.findings),
            "checked": self.checked,
            "findings": [f.as_dict() for f in self.findings],
            "gaps": self.gaps,
        }


def _owner(view: ClusterView, pod: dict[str, Any]) -> tuple[str, str]:
    """(kind, name) of the workload that owns `pod` (the Deployment above a ReplicaSet), or the pod."""
    meta = pod["metadata"]
    for ref in meta.get("ownerReferences") or []:
        if ref.get("kind") == "ReplicaSet":
            rs = view.find("replicasets", meta["namespace"], ref.get("name", ""))
            for up in ((rs or {}).get("metadata") or {}).get("ownerReferences") or []:
                if up.get("kind") == "Deployment":
                    return "Deployment", str(up.get("name"))
        if ref.get("controller") or ref.get("kind") in ("StatefulSet", "DaemonSet", "Job"):
            return str(ref.get("kind")), str(ref.get("name"))
    return "Pod", meta["name"]


def _pod_findings(view: ClusterView) -> list[Finding]:
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for pod in view.items("pods"):
        phase = (pod.get("status") or {}).get("phase")
        if phase == "Succeeded" or pod_ready(pod):
            continue
        kind, name = _owner(view, pod)
        if kind == "Job" and phase == "Failed":
            continue  # the Job analyzer reports a failed Job once, with its last pod
        groups.setdefault((pod["metadata"]["namespace"], kind, name), []).append(pod)
    out: list[Finding] = []
    for (ns, kind, name), pods in groups.items():
        report = diagnose_pod(view.access, pods[0]["metadata"]["name"], ns, pods[0])
        for f in report.findings:
            f.subject = f"{kind} {ns}/{name}"
            f.affected = len(pods)
            f.severity = "warning" if any(w in f.problem for w in _WARNING_ONLY) else "error"
            if kind != "Pod":
                f.problem = f"{f.problem} (pod {pods[0]['metadata']['name']}, {len(pods)} unhealthy)"
            out.append(f)
    return out


def triage(access: KubeAccess, namespace: str = "", limit: int = 15) -> Triage:
    """Every finding in `namespace` (or the whole cluster when empty), ranked by severity."""
    view = ClusterView(access, namespace)
    findings = _pod_findings(view)
    namespaces = sorted({s["metadata"]["namespace"] for s in view.items("services")})
    for ns in namespaces:
        findings += service_findings(access, ns)
    for analyze in NAMESPACED.values():
        findings += analyze(view)
    if not namespace:
        for analyze in CLUSTER_WIDE.values():
            findings += analyze(view)
    checked = {
        "nodes": 0 if namespace else len(view.items("nodes")),
        "pods": len(view.items("pods")),
        "services": len(view.items("services")),
        "ingresses": len(view.items("ingresses")),
        "hpas": len(view.items("horizontalpodautoscalers")),
        "pdbs": len(view.items("poddisruptionbudgets")),
        "pvcs": len(view.items("persistentvolumeclaims")),
        "statefulsets": len(view.items("statefulsets")),
        "jobs": len(view.items("jobs")),
        "cronjobs": len(view.items("cronjobs")),
        "webhook configurations": 0
        if namespace
        else len(view.items("validatingwebhookconfigurations"))
        + len(view.items("mutatingwebhookconfigurations")),
    }
    scope = f"namespace {namespace}" if namespace else "cluster"
    return Triage(scope, rank(findings), checked, view.gaps, limit)
