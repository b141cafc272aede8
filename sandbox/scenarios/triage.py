"""Cluster triage: one fault for each analyzer of `diagnose_cluster`, on top of the bare cluster.

| where | object | fault |
|---|---|---|
| nodes | worker-4 | NotReady: its kubelet stopped posting status (tainted unreachable, as the node controller does) |
| nodes | worker-5 | MemoryPressure (tainted memory-pressure: new pods avoid it) |
| nodes | worker-6 | cordoned; the only `disktype=ssd` node, so Deployment ops/indexer stays Pending |
| web | Ingress storefront | `/api` routes to Service storefront-api, which does not exist; TLS Secret missing |
| web | Ingress legacy | no IngressClass (no ingressClassName, no annotation, no default class); backend port 8080 not on the Service |
| web | Ingress admin | IngressClass `traefik` does not exist |
| autoscale | HPA api | at its maximum (3) with CPU far above target |
| autoscale | HPA worker | its target Deployment `worker` does not exist |
| autoscale | HPA reports | the target's container requests no CPU, so utilisation cannot be computed |
| ops | PDB ledger | minAvailable 2 of 2 pods: blocks every eviction (drains hang) |
| ops | PDB ghost | selects no pod |
| data | PVC uploads | StorageClass `fast-ssd` does not exist: Pending, and Deployment uploader with it |
| data | PVC archive | ReadWriteMany on a provisioner that supports ReadWriteOnce only |
| data | PVC scratch | `storageClassName: ""` (no dynamic provisioning) and no PersistentVolume to bind |
| data | StatefulSet db | its claim template's StorageClass `premium` is missing and its Service `db-headless` too |
| batch | Job migrate | fails every try (`exit 1`) until its backoffLimit (2) is exceeded |
| batch | CronJob nightly-report | concurrencyPolicy Forbid and a Job stuck since two days: every schedule since is missed |
| batch | CronJob cleanup | suspended |
| guard | ValidatingWebhookConfiguration policy-guard | failurePolicy Fail; its Service has no ready endpoint (the image cannot be pulled) |
| (none) | MutatingWebhookConfiguration sidecar-injector | its Service mesh/injector does not exist (failurePolicy Ignore) |

Healthy objects sit beside each fault (a working Ingress path, a Deployment behind a PDB that allows
disruptions...), so an analyzer that reports everything is caught. The sandbox stores webhook
configurations but does not call them, so pod creation is not actually blocked here as it would be on a
cluster. The CronJob controller keeps nightly-report's stuck Job active: Forbid starts nothing more.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.cluster import Cluster
from sandbox.images import DEMO_REGISTRY
from sandbox.scenarios.base import load_base, node
from sandbox.store import rfc3339

__all__ = ["TRIAGE_NAMESPACES", "load_triage"]

TRIAGE_NAMESPACES = ("web", "autoscale", "ops", "data", "batch", "guard")
_DAY = 86400.0


def _labels(name: str) -> dict[str, str]:
    return {"app": name}


def _deployment(
    name: str,
    namespace: str,
    image: str,
    *,
    replicas: int = 1,
    cpu: str | None = "50m",
    port: int = 80,
    **pod_spec: Any,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": name, "image": image, "ports": [{"containerPort": port}]}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu, "memory": "64Mi"}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": _labels(name)},
            "template": {
                "metadata": {"labels": _labels(name)},
                "spec": {"containers": [container], **pod_spec},
            },
        },
    }


def _service(name: str, namespace: str, port: int = 80, target: int = 80) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": _labels(name), "ports": [{"name": "http", "port": port, "targetPort": target}]},
    }


def _condition(kind: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def _nodes(cluster: Cluster) -> None:
    lost = node("worker-4", index=4, zone="us-east-1a")
    lost["spec"]["taints"] = [
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
    ]
    lost["status"]["conditions"] = [
        _condition(kind, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")
    ]
    cluster.seed(lost)
    pressed = node("worker-5", index=5, zone="us-east-1b")
    pressed["spec"]["taints"] = [{"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}]
    for c in pressed["status"]["conditions"]:
        if c["type"] == "MemoryPressure":
            c.update(
                status="True",
                reason="KubeletHasInsufficientMemory",
                message="kubelet has insufficient memory available",
            )
    cluster.seed(pressed)
    cordoned = node("worker-6", index=6, zone="us-east-1c")
    cordoned["metadata"]["labels"]["disktype"] = "ssd"
    cordoned["spec"]["unschedulable"] = True
    cordoned["spec"]["taints"] = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    cluster.seed(cordoned)


def _ingresses(cluster: Cluster) -> None:
    seed = cluster.seed
    seed(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
    )
    seed(_deployment("storefront", "web", "nginx:1.27", replicas=2))
    seed(_service("storefront", "web"))

    def path(path: str, service: str, port: int) -> dict[str, Any]:
        backend = {"service": {"name": service, "port": {"number": port}}}
        return {"path": path, "pathType": "Prefix", "backend": backend}

    def ingress(name: str, paths: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
        rule = {"host": f"{name}.example.com", "http": {"paths": paths}}
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": "web"},
            "spec": {**spec, "rules": [rule]},
        }

    seed(
        ingress(
            "storefront",
            [path("/", "storefront", 80), path("/api", "storefront-api", 80)],
            ingressClassName="nginx",
            tls=[{"hosts": ["storefront.example.com"], "secretName": "storefront-tls"}],
        )
    )
    seed(ingress("legacy", [path("/", "storefront", 8080)]))
    seed(ingress("admin", [path("/", "storefront", 80)], ingressClassName="traefik"))


def _hpa(name: str, target: str, cpu_target: int = 60, low: int = 1, high: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": "autoscale"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": cpu_target},
                    },
                }
            ],
        },
    }


def _autoscaling(cluster: Cluster) -> None:
    seed = cluster.seed
    # the backend image uses ~30m CPU; a 10m request puts it far above any target
    seed(_deployment("api", "autoscale", f"{DEMO_REGISTRY}backend:1.2.0", cpu="10m", port=8080))
    seed(_hpa("api", "api"))
    seed(_hpa("worker", "worker"))
    seed(_deployment("reports", "autoscale", f"{DEMO_REGISTRY}backend:1.2.0", cpu=None, port=8080))
    seed(_hpa("reports", "reports"))
    seed(_deployment("search", "autoscale", "nginx:1.27", cpu="100m"))
    seed(_hpa("search", "search", high=5))  # healthy: idle, at its minimum


def _budgets(cluster: Cluster) -> None:
    seed = cluster.seed
    seed(_deployment("ledger", "ops", "nginx:1.27", replicas=2))
    seed(_deployment("gateway", "ops", "nginx:1.27", replicas=3))
    seed(_deployment("indexer", "ops", "nginx:1.27", nodeSelector={"disktype": "ssd"}))

    def pdb(name: str, selector: dict[str, str], **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "namespace": "ops"},
            "spec": {**spec, "selector": {"matchLabels": selector}},
        }

    seed(pdb("ledger", _labels("ledger"), minAvailable=2))
    seed(pdb("gateway", _labels("gateway"), maxUnavailable=1))  # healthy: one may go
    seed(pdb("ghost", _labels("ghost"), minAvailable=1))


def _storage(cluster: Cluster) -> None:
    seed = cluster.seed

    def claim(name: str, storage_class: str | None, mode: str = "ReadWriteOnce") -> dict[str, Any]:
        spec: dict[str, Any] = {"accessModes": [mode], "resources": {"requests": {"storage": "5Gi"}}}
        if storage_class is not None:
            spec["storageClassName"] = storage_class
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": "data"},
            "spec": spec,
        }

    seed(claim("uploads", "fast-ssd"))
    seed(claim("archive", "standard", "ReadWriteMany"))
    seed(claim("scratch", ""))
    seed(claim("media", None))  # healthy: the default class provisions it
    volume = {"name": "uploads", "persistentVolumeClaim": {"claimName": "uploads"}}
    seed(_deployment("uploader", "data", "nginx:1.27", volumes=[volume]))
    seed(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "data"},
            "spec": {
                "replicas": 3,
                "serviceName": "db-headless",
                "selector": {"matchLabels": _labels("db")},
                "template": {
                    "metadata": {"labels": _labels("db")},
                    "spec": {
                        "containers": [
                            {
                                "name": "db",
                                "image": "postgres:16",
                                "env": [{"name": "POSTGRES_PASSWORD", "value": "demo"}],
                                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
                            }
                        ]
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "storageClassName": "premium",
                            "resources": {"requests": {"storage": "10Gi"}},
                        },
                    }
                ],
            },
        }
    )


def _job(name: str, script: str, backoff: int = 6, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "batch"}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
        meta["creationTimestamp"] = rfc3339(time.time() - 2 * _DAY)
    container = {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": backoff,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
        },
    }


def _cronjob(name: str, schedule: str, script: str, **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", script]}
    template = {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [container]}}}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": name,
            "namespace": "batch",
            "creationTimestamp": rfc3339(time.time() - 20 * _DAY),
        },
        "spec": {"schedule": schedule, "jobTemplate": template, **spec},
    }


def _batch(cluster: Cluster) -> None:
    seed = cluster.seed
    seed(
        _job(
            "migrate",
            "echo 'applying migration 0042'; echo 'ERROR: relation users already exists'; exit 1",
            2,
        )
    )
    stuck_since = time.time() - 2 * _DAY
    report = seed(
        _cronjob(
            "nightly-report",
            "*/30 * * * *",
            "echo 'building report'; sleep 86400",
            concurrencyPolicy="Forbid",
        )
    )
    job = seed(
        _job(f"nightly-report-{int(stuck_since // 60)}", "echo 'building report'; sleep 86400", owner=report)
    )
    cluster.store.update(
        cluster.rt_for(report),
        {
            **report,
            "status": {
                "active": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "namespace": "batch",
                        "name": job["metadata"]["name"],
                    }
                ],
                "lastScheduleTime": rfc3339(stuck_since),
                "lastSuccessfulTime": rfc3339(stuck_since - 1800),
            },
        },
        subresource="status",
    )
    seed(_cronjob("cleanup", "0 3 * * *", "echo cleaned", suspend=True))


def _webhooks(cluster: Cluster) -> None:
    seed = cluster.seed
    seed(_deployment("policy-guard", "guard", f"{DEMO_REGISTRY}policy-guard:1.2.0", port=8443))
    seed(_service("policy-guard", "guard", 443, 8443))
    rules = [
        {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["pods"]}
    ]

    def hook(name: str, namespace: str, service: str, policy: str) -> dict[str, Any]:
        return {
            "name": name,
            "clientConfig": {
                "service": {"namespace": namespace, "name": service, "path": "/validate", "port": 443}
            },
            "rules": rules,
            "failurePolicy": policy,
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
        }

    seed(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "policy-guard"},
            "webhooks": [hook("validate.policy-guard.io", "guard", "policy-guard", "Fail")],
        }
    )
    seed(
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": "sidecar-injector"},
            "webhooks": [hook("inject.mesh.io", "mesh", "injector", "Ignore")],
        }
    )


def load_triage(cluster: Cluster) -> None:
    load_base(cluster)
    for ns in TRIAGE_NAMESPACES:
        cluster.seed(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "creationTimestamp": rfc3339(time.time() - 30 * _DAY)},
            }
        )
    _nodes(cluster)
    _ingresses(cluster)
    _autoscaling(cluster)
    _budgets(cluster)
    _storage(cluster)
    _batch(cluster)
    _webhooks(cluster)
