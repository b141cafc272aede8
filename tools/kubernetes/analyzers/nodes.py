"""Nodes: NotReady, under memory/disk/PID pressure or without network, and cordoned while pods wait that
only they could take."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.findings import Finding
from tools.kubernetes.view import ClusterView

__all__ = ["node_findings"]

_PRESSURE = {
    "MemoryPressure": "the kubelet is short of memory: it evicts pods and new pods avoid the node",
    "DiskPressure": "the node's disk is nearly full: the kubelet evicts pods and garbage-collects images",
    "PIDPressure": "the node runs out of process ids: new processes and pods fail",
    "NetworkUnavailable": "the node's network is not configured: its pods cannot reach others",
}


def _pods_on(view: ClusterView, node: str) -> list[dict[str, Any]]:
    return [
        p
        for p in view.items("pods")
        if (p.get("spec") or {}).get("nodeName") == node
        and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
    ]


def _waiting_for_cordoned(view: ClusterView) -> list[tuple[dict[str, Any], str]]:
    """Pending pods whose scheduler message says some nodes were unschedulable (cordoned)."""
    out = []
    for pod in view.items("pods"):
        status = pod.get("status") or {}
        if status.get("phase") != "Pending" or (pod.get("spec") or {}).get("nodeName"):
            continue
        for c in status.get("conditions") or []:
            if c.get("type") == "PodScheduled" and "were unschedulable" in (c.get("message") or ""):
                out.append((pod, c["message"]))
    return out


def _condition_finding(node: dict[str, Any], c: dict[str, Any], view: ClusterView) -> Finding | None:
    name, kind, state = node["metadata"]["name"], c.get("type", ""), c.get("status")
    taints = [f"{t.get('key')}:{t.get('effect')}" for t in (node.get("spec") or {}).get("taints") or []]
    evidence = [
        f"condition {kind}={state} ({c.get('reason', '')}): {c.get('message', '')}",
        f"spec.taints = {', '.join(taints) or 'none'}",
    ]
    if kind == "Ready" and state != "True":
        pods = _pods_on(view, name)
        evidence.append(
            f"pods bound to it: {len(pods)}"
            + (f" ({', '.join(p['metadata']['name'] for p in pods[:4])})" if pods else "")
        )
        return Finding(
            f"Node {name} is NotReady",
            f"Ready={state}: {c.get('reason', '')} — {c.get('message', '')}".rstrip(" —"),
            evidence,
            "check the node's kubelet and container runtime (or replace the node); its pods are evicted "
            "once their unreachable toleration (300 s by default) runs out",
            "critical",
            f"Node {name}",
            affected=max(1, len(pods)),
        )
    if kind in _PRESSURE and state == "True":
        return Finding(
            f"Node {name} has {kind}",
            _PRESSURE[kind],
            evidence,
            "free the resource on the node (or move workloads off it and add capacity)",
            "error",
            f"Node {name}",
            affected=len(_pods_on(view, name)) or 1,
        )
    return None


def node_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    waiting = _waiting_for_cordoned(view)
    for node in view.items("nodes"):
        name = node["metadata"]["name"]
        for c in (node.get("status") or {}).get("conditions") or []:
            finding = _condition_finding(node, c, view)
            if finding is not None:
                out.append(finding)
        if not (node.get("spec") or {}).get("unschedulable"):
            continue
        if waiting:
            out.append(
                Finding(
                    f"Node {name} is cordoned while {len(waiting)} pod(s) wait to be scheduled",
                    "the node is marked unschedulable, and the scheduler reports cordoned nodes among the "
                    "reasons these pods fit nowhere",
                    [
                        "spec.unschedulable = true",
                        *(
                            f'pod {p["metadata"]["namespace"]}/{p["metadata"]["name"]} Pending: "{m}"'
                            for p, m in waiting[:3]
                        ),
                    ],
                    f"uncordon {name} if its maintenance is over (uncordon_node), or add capacity the pods can use",
                    "error",
                    f"Node {name}",
                    affected=len(waiting),
                )
            )
        else:
            out.append(
                Finding(
                    f"Node {name} is cordoned",
                    "it is marked unschedulable: no new pod lands on it",
                    ["spec.unschedulable = true"],
                    f"uncordon {name} when its maintenance is over",
                    "info",
                    f"Node {name}",
                )
            )
    return out
