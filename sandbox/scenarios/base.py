"""The base every scenario starts from: system namespaces, nodes, default RBAC and the sandbox users' bindings."""

from __future__ import annotations

from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.rbac import bootstrap_rbac

__all__ = ["WORKER_NODES", "load_base", "node", "role_binding"]

WORKER_NODES = ("worker-1", "worker-2", "worker-3")
_RBAC = "rbac.authorization.k8s.io"


def node(
    name: str,
    cpu: str = "8",
    memory: str = "32Gi",
    *,
    control_plane: bool = False,
    index: int = 0,
    instance_type: str = "m5.2xlarge",
    zone: str = "us-east-1a",
) -> dict[str, Any]:
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/zone": zone,
    }
    spec: dict[str, Any] = {"podCIDR": f"10.244.{index}.0/24"}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    # allocatable = capacity minus the kubelet's reservations, as on a real node
    alloc_cpu = f"{int(cpu) * 1000 - 100}m"
    resources = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": {
            "capacity": resources,
            "allocatable": {**resources, "cpu": alloc_cpu, "memory": f"{int(memory[:-2]) * 1024 - 512}Mi"},
            "conditions": [
                {
                    "type": t,
                    "status": "False",
                    "reason": f"Kubelet{r}",
                    "message": m,
                    "lastHeartbeatTime": None,
                    "lastTransitionTime": None,
                }
                for t, r, m in (
                    ("MemoryPressure", "HasSufficientMemory", "kubelet has sufficient memory available"),
                    ("DiskPressure", "HasNoDiskPressure", "kubelet has no disk pressure"),
                    ("PIDPressure", "HasSufficientPID", "kubelet has sufficient PID available"),
                )
            ]
            + [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": None,
                    "lastTransitionTime": None,
                }
            ],
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.0.{10 + index}"},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.31.0",
                "kubeProxyVersion": "v1.31.0",
                "containerRuntimeVersion": "containerd://1.7.22",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0-26-amd64",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }


def role_binding(
    name: str, role_kind: str, role: str, subjects: list[dict[str, str]], namespace: str = ""
) -> dict[str, Any]:
    kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": f"{_RBAC}/v1",
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": _RBAC, "kind": role_kind, "name": role},
        "subjects": subjects,
    }


def load_base(cluster: Cluster, *, single_node: str = "") -> None:
    """System namespaces, RBAC, storage and nodes: a tainted control plane and three workers, or, with
    `single_node`, one untainted node of that name (as a one-node kind cluster)."""
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        cluster.seed({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for plural, obj in bootstrap_rbac():
        cluster.create(resource(plural, _RBAC), obj)
    cluster.seed(
        role_binding(
            "viewers-view", "ClusterRole", "view", [{"apiGroup": _RBAC, "kind": "Group", "name": "viewers"}]
        )
    )
    if single_node:
        one = node(single_node, "8", "32Gi", control_plane=True, instance_type="kind")
        one["spec"].pop("taints", None)
        cluster.seed(one)
    else:
        cluster.seed(node("control-plane", "4", "16Gi", control_plane=True, instance_type="m5.xlarge"))
        for n, name in enumerate(WORKER_NODES, start=1):
            cluster.seed(node(name, index=n, zone=f"us-east-1{'abc'[n - 1]}"))
    cluster.seed(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        }
    )
    cluster.seed(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kubernetes",
                "namespace": "default",
                "labels": {"component": "apiserver", "provider": "kubernetes"},
            },
            "spec": {"ports": [{"name": "https", "port": 443, "targetPort": 6443}], "clusterIP": "10.96.0.1"},
        }
    )
