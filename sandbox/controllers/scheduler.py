"""A scheduler: binds pending pods to nodes by requests, taints, node selectors and required affinity.

Pods that fit nowhere stay Pending with a `PodScheduled=False` condition and a FailedScheduling event
whose message counts the reasons per node, as kube-scheduler words it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.quantity import parse_quantity
from sandbox.selectors import selector_from_spec
from sandbox.store import Change, now_rfc3339

__all__ = ["Scheduler", "pod_requests", "tolerated"]

_DONE = ("Succeeded", "Failed")


def pod_requests(pod: dict[str, Any]) -> tuple[float, float]:
    """(cpu cores, memory bytes) the pod requests."""
    cpu = mem = 0.0
    for c in pod["spec"].get("containers") or []:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += parse_quantity(req.get("cpu", 0))
        mem += parse_quantity(req.get("memory", 0))
    return cpu, mem


def _host_ports(pod: dict[str, Any]) -> set[tuple[int, str]]:
    return {
        (int(p["hostPort"]), p.get("protocol", "TCP"))
        for c in pod["spec"].get("containers") or []
        for p in c.get("ports") or []
        if p.get("hostPort")
    }


def tolerated(taint: dict[str, Any], tolerations: list[dict[str, Any]]) -> bool:
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("operator") == "Exists" and (not t.get("key") or t["key"] == taint.get("key")):
            return True
        if t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def _affinity_ok(pod: dict[str, Any], labels: dict[str, str]) -> bool:
    required = ((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    for term in terms:
        ok = True
        for e in term.get("matchExpressions") or []:
            key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
            value = labels.get(key)
            ok = ok and {
                "In": value in values,
                "NotIn": value not in values,
                "Exists": key in labels,
                "DoesNotExist": key not in labels,
            }.get(op, False)
        if ok:
            return True
    return False


class Scheduler:
    """Keeps what each node has committed (requests, pod count) up to date from the change stream."""

    def __init__(self) -> None:
        self.committed: dict[str, list[float]] = {}
        self.pending: set[tuple[str, str]] = set()
        self._counted: dict[str, tuple[str, float, float]] = {}
        self._ports: dict[str, set[tuple[int, str]]] = {}

    def _account(self, change: Change) -> None:
        uid = change.obj["metadata"]["uid"]
        previous = self._counted.pop(uid, None)
        self._ports.pop(uid, None)
        if previous:
            totals = self.committed.setdefault(previous[0], [0.0, 0.0, 0.0])
            totals[0] -= previous[1]
            totals[1] -= previous[2]
            totals[2] -= 1
        node = change.obj["spec"].get("nodeName")
        if change.type != "DELETED" and node and change.obj.get("status", {}).get("phase") not in _DONE:
            cpu, mem = pod_requests(change.obj)
            totals = self.committed.setdefault(node, [0.0, 0.0, 0.0])
            totals[0] += cpu
            totals[1] += mem
            totals[2] += 1
            self._counted[uid] = (node, cpu, mem)
            self._ports[uid] = _host_ports(change.obj)

    def _ports_free(self, pod: dict[str, Any], node_name: str) -> bool:
        wanted = _host_ports(pod)
        if not wanted:
            return True
        for uid, (node, _, _) in self._counted.items():
            if (
                node == node_name
                and uid != pod["metadata"].get("uid")
                and self._ports.get(uid, set()) & wanted
            ):
                return False
        return True

    def _pod_affinity_ok(
        self,
        pod: dict[str, Any],
        node: dict[str, Any],
        nodes: dict[str, dict[str, Any]],
        placed: list[dict[str, Any]],
    ) -> str:
        affinity = pod["spec"].get("affinity") or {}
        for kind, want_match in (("podAffinity", True), ("podAntiAffinity", False)):
            terms = (affinity.get(kind) or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or []
            for term in terms:
                key = term.get("topologyKey", "kubernetes.io/hostname")
                value = (node["metadata"].get("labels") or {}).get(key)
                namespaces = term.get("namespaces") or [pod["metadata"]["namespace"]]
                match = selector_from_spec(term.get("labelSelector"))
                found = any(
                    other["metadata"]["namespace"] in namespaces
                    and match(other["metadata"].get("labels") or {})
                    and value is not None
                    and (
                        nodes.get(other["spec"]["nodeName"], {}).get("metadata", {}).get("labels") or {}
                    ).get(key)
                    == value
                    for other in placed
                    if other["metadata"].get("uid") != pod["metadata"].get("uid")
                )
                if found != want_match:
                    return (
                        "node(s) didn't match pod affinity rules"
                        if want_match
                        else "node(s) didn't match pod anti-affinity rules"
                    )
        return ""

    def _fit(self, pod: dict[str, Any], node: dict[str, Any]) -> str:
        """ "" when the pod fits the node, else the reason kube-scheduler would give."""
        spec, status = node.get("spec") or {}, node.get("status") or {}
        labels = node["metadata"].get("labels") or {}
        if spec.get("unschedulable"):
            return "node(s) were unschedulable"
        for taint in spec.get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(
                taint, pod["spec"].get("tolerations") or []
            ):
                return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
        selector = pod["spec"].get("nodeSelector") or {}
        if any(labels.get(k) != v for k, v in selector.items()) or not _affinity_ok(pod, labels):
            return "node(s) didn't match Pod's node affinity/selector"
        alloc = status.get("allocatable") or status.get("capacity") or {}
        used = self.committed.get(node["metadata"]["name"], [0.0, 0.0, 0.0])
        cpu, mem = pod_requests(pod)
        if used[2] + 1 > parse_quantity(alloc.get("pods", 110)):
            return "Too many pods"
        if cpu and used[0] + cpu > parse_quantity(alloc.get("cpu", 0)) + 1e-9:
            return "Insufficient cpu"
        if mem and used[1] + mem > parse_quantity(alloc.get("memory", 0)):
            return "Insufficient memory"
        if not self._ports_free(pod, node["metadata"]["name"]):
            return "node(s) didn't have free ports for the requested pod ports"
        return ""

    def _claims_problem(self, cluster: Cluster, pod: dict[str, Any]) -> str:
        for vol in pod["spec"].get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            pvc = cluster.store.find(resource("persistentvolumeclaims"), pod["metadata"]["namespace"], claim)
            if pvc is None:
                return f'persistentvolumeclaim "{claim}" not found'
            if (pvc.get("status") or {}).get("phase") != "Bound":
                return "pod has unbound immediate PersistentVolumeClaims"
        return ""

    def schedule(self, cluster: Cluster, pod: dict[str, Any]) -> None:
        nodes = cluster.store.list(resource("nodes"))
        claims = self._claims_problem(cluster, pod)
        if claims:
            self._unschedulable(
                cluster,
                pod,
                f"0/{len(nodes)} nodes are available: {claims}. preemption: 0/{len(nodes)} "
                f"nodes are available: {len(nodes)} Preemption is not helpful for scheduling.",
            )
            return
        reasons: Counter[str] = Counter()
        best: tuple[float, str] | None = None
        affinity = pod["spec"].get("affinity") or {}
        placed: list[dict[str, Any]] = []
        if affinity.get("podAffinity") or affinity.get("podAntiAffinity"):
            placed = [p for p in cluster.store.list(resource("pods")) if p["spec"].get("nodeName")]
        by_name = {n["metadata"]["name"]: n for n in nodes}
        for node in nodes:
            why = self._fit(pod, node) or (
                self._pod_affinity_ok(pod, node, by_name, placed)
                if placed or affinity.get("podAffinity")
                else ""
            )
            if why:
                reasons[why] += 1
                continue
            alloc = parse_quantity((node.get("status") or {}).get("allocatable", {}).get("cpu", 1)) or 1.0
            used = self.committed.get(node["metadata"]["name"], [0.0, 0.0, 0.0])
            score = (used[0] / alloc, node["metadata"]["name"])
            if best is None or score < best:  # type: ignore[operator]
                best = score  # type: ignore[assignment]
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        pods = resource("pods")
        if best is not None:
            self.pending.discard(key)
            bound = cluster.store.update(pods, {**pod, "spec": {**pod["spec"], "nodeName": best[1]}})
            self._account(
                Change(0, "MODIFIED", pods, bound)
            )  # count it now: later pods in this settle see it
            cluster.record_event(
                bound,
                "Normal",
                "Scheduled",
                f"Successfully assigned {key[0]}/{key[1]} to {best[1]}",
                "default-scheduler",
            )
            return
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items(), key=lambda i: i[0]))
        message = (
            (
                f"0/{len(nodes)} nodes are available: {detail}. preemption: 0/{len(nodes)} nodes are available: "
                f"{len(nodes)} No preemption victims found for incoming pod."
            )
            if nodes
            else "no nodes available to schedule pods"
        )
        self._unschedulable(cluster, pod, message)

    def _unschedulable(self, cluster: Cluster, pod: dict[str, Any], message: str) -> None:
        self.pending.add((pod["metadata"]["namespace"], pod["metadata"]["name"]))
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": now_rfc3339(),
        }
        old = [
            c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == "PodScheduled"
        ]
        if old and old[0].get("message") == message:
            return
        fresh = cluster.store.update(
            resource("pods"),
            {**pod, "status": {**(pod.get("status") or {}), "phase": "Pending", "conditions": [condition]}},
            subresource="status",
        )
        cluster.record_event(fresh, "Warning", "FailedScheduling", message, "default-scheduler")

    def _retry_pending(self, cluster: Cluster) -> None:
        for ns, name in sorted(self.pending):
            pod = cluster.store.find(resource("pods"), ns, name)
            if pod is None or pod["spec"].get("nodeName"):
                self.pending.discard((ns, name))
            else:
                self.schedule(cluster, pod)

    def __call__(self, cluster: Cluster, change: Change) -> None:
        kind = change.resource.kind
        if kind == "Pod":
            self._account(change)
            pod = change.obj
            if change.type == "DELETED" or pod.get("status", {}).get("phase") in _DONE:
                if self.pending and self._counted.get(pod["metadata"]["uid"]) is None:
                    self._retry_pending(cluster)
                return
            current = cluster.store.find(
                change.resource, pod["metadata"]["namespace"], pod["metadata"]["name"]
            )
            if (
                current is pod
                and not pod["spec"].get("nodeName")
                and pod["spec"].get("schedulerName", "default-scheduler") == "default-scheduler"
            ):
                self.schedule(cluster, pod)
        elif kind in ("Node", "PersistentVolumeClaim") and self.pending:
            self._retry_pending(cluster)
