"""PodDisruptionBudget: one that allows no disruption at all blocks every eviction (drains and node upgrades
wait forever); one that selects no pod protects nothing."""

from __future__ import annotations

import math
from typing import Any

from tools.kubernetes.findings import Finding
from tools.kubernetes.view import ClusterView, pod_ready, subject

__all__ = ["allowed_disruptions", "pdb_findings"]


def _count(value: Any, total: int) -> int:
    """An IntOrString of a PDB: a number, or a percentage of `total` rounded up (as the controller does)."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def allowed_disruptions(spec: dict[str, Any], expected: int, healthy: int) -> int:
    """How many pods may be evicted now, as the disruption controller computes it."""
    if "maxUnavailable" in spec:
        desired = expected - _count(spec["maxUnavailable"], expected)
    else:
        desired = _count(spec.get("minAvailable", 1), expected)
    return max(0, healthy - desired)


def pdb_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    for pdb in view.items("poddisruptionbudgets"):
        ns, who = pdb["metadata"]["namespace"], subject("PodDisruptionBudget", pdb)
        spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
        pods = [
            p
            for p in view.pods_selected(ns, spec.get("selector"))
            if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        shown = spec.get("selector", {}).get("matchLabels") or spec.get("selector")
        if not pods:
            out.append(
                Finding(
                    f"{who} selects no pod",
                    f"its selector {shown} matches no pod in {ns}, so it protects nothing",
                    [f"spec.selector = {shown}", f"pods in {ns} matching it: none"],
                    "fix the selector to the labels of the pods it should protect, or delete it",
                    "info",
                    who,
                )
            )
            continue
        healthy = sum(pod_ready(p) for p in pods)
        allowed = allowed_disruptions(spec, len(pods), healthy)
        if "disruptionsAllowed" in status and status.get("expectedPods"):
            allowed = int(status["disruptionsAllowed"])
        if allowed > 0:
            continue
        rule = (
            f"maxUnavailable = {spec['maxUnavailable']}"
            if "maxUnavailable" in spec
            else f"minAvailable = {spec.get('minAvailable', 1)}"
        )
        out.append(
            Finding(
                f"{who} blocks every eviction ({rule}, {healthy} of {len(pods)} pods healthy)",
                "it allows 0 disruptions: every eviction is refused (429), so kubectl drain, node upgrades and "
                "the cluster autoscaler wait on these pods forever",
                [
                    f"spec.{rule}",
                    f"pods selected: {len(pods)} ({', '.join(p['metadata']['name'] for p in pods[:4])}), "
                    f"{healthy} Ready",
                    f"status.disruptionsAllowed = {status.get('disruptionsAllowed', 'not reported')}",
                ],
                "allow at least one disruption: lower minAvailable below the replica count, use "
                "maxUnavailable: 1, or add a replica",
                "warning",
                who,
                affected=len(pods),
            )
        )
    return out
