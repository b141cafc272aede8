"""The demo shop: a small online store spread over four namespaces, with the faults an on-call engineer meets.

| namespace | workload | fault |
|---|---|---|
| shop | frontend (3) | none: healthy, behind Service `frontend` |
| shop | checkout (2) | CrashLoopBackOff: env `PAYMENT_SERVICE_URL` missing, KeyError stack trace in the logs |
| shop | catalog (2) | ImagePullBackOff: rolled out to tag 3.1.1, which does not exist; the old ReplicaSet keeps serving |
| shop | cart (1) | Service `cart` selects `app=carts`; the pods say `app=cart`, so the Service has no endpoints |
| shop | inventory-sync (1) | ServiceAccount `inventory-sync` may not list ConfigMaps: Forbidden in the logs, CrashLoopBackOff |
| payments | payments (2) | none |
| ml | recommender (1) | OOMKilled: needs ~700Mi, limit 256Mi |
| ml | trainer (1) | Pending: requests 12 CPUs, no node has more than 7.9 allocatable |
| analytics | analytics (3) | over-provisioned: requests 2 CPU / 4Gi each, uses ~0.12 CPU / 350Mi (for the cost agent) |
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.images import DEMO_REGISTRY
from sandbox.scenarios.base import load_base, role_binding
from sandbox.store import rfc3339

__all__ = ["APP_NAMESPACES", "deployment", "load_shop"]

APP_NAMESPACES = ("shop", "payments", "ml", "analytics")
_RBAC = "rbac.authorization.k8s.io"
_DAY = 86400.0


def _meta(name: str, namespace: str, age_days: float = 0, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"app": name, **labels}}
    if age_days:
        meta["creationTimestamp"] = rfc3339(time.time() - age_days * _DAY)
    return meta


def deployment(
    name: str,
    namespace: str,
    image: str,
    *,
    replicas: int = 1,
    cpu: str = "100m",
    memory: str = "128Mi",
    limit_memory: str | None = None,
    env: dict[str, str] | None = None,
    port: int = 8080,
    service_account: str | None = None,
    probe_path: str | None = "/healthz",
    age_days: float = 12,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    pod_labels = {"app": name, **(labels or {})}
    resources: dict[str, Any] = {"requests": {"cpu": cpu, "memory": memory}}
    if limit_memory:
        resources["limits"] = {"memory": limit_memory}
    container: dict[str, Any] = {
        "name": name,
        "image": image,
        "resources": resources,
        "ports": [{"name": "http", "containerPort": port}],
        "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
    }
    if probe_path:
        container["readinessProbe"] = {"httpGet": {"path": probe_path, "port": "http"}, "periodSeconds": 10}
    spec: dict[str, Any] = {"containers": [container]}
    if service_account:
        spec["serviceAccountName"] = service_account
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            **_meta(name, namespace, age_days, **(labels or {})),
            "annotations": {"team": namespace},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": pod_labels}, "spec": spec},
        },
    }


def _service(
    name: str, namespace: str, selector: dict[str, str], port: int = 80, target: int | str = "http"
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace, 12),
        "spec": {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": target}]},
    }


def load_shop(cluster: Cluster) -> None:
    load_base(cluster)
    for ns in APP_NAMESPACES:
        cluster.seed(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": ns,
                    "labels": {"team": ns},
                    "creationTimestamp": rfc3339(time.time() - 30 * _DAY),
                },
            }
        )
        cluster.seed(
            role_binding(
                "developers-edit",
                "ClusterRole",
                "edit",
                [{"apiGroup": _RBAC, "kind": "Group", "name": "developers"}],
                namespace=ns,
            )
        )
    reg = DEMO_REGISTRY
    seed = cluster.seed
    seed(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("frontend-config", "shop"),
            "data": {"CHECKOUT_URL": "http://checkout.shop", "FEATURE_FLAGS": "new-cart=false"},
        }
    )
    seed(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("payments-db", "payments"),
            "stringData": {"username": "payments", "password": "s3cr3t-do-not-show"},
        }
    )
    seed(deployment("frontend", "shop", f"{reg}frontend:1.8.0", replicas=3, probe_path="/ready"))
    seed(_service("frontend", "shop", {"app": "frontend"}))
    seed(
        deployment(
            "checkout",
            "shop",
            f"{reg}checkout:2.3.1",
            replicas=2,
            cpu="200m",
            memory="256Mi",
            env={"LOG_LEVEL": "info"},
        )
    )
    seed(_service("checkout", "shop", {"app": "checkout"}))
    seed(deployment("catalog", "shop", f"{reg}catalog:3.1.0", replicas=2))
    seed(_service("catalog", "shop", {"app": "catalog"}))
    cluster.patch(
        resource("deployments", "apps"),
        "shop",
        "catalog",
        "application/strategic-merge-patch+json",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "catalog", "image": f"{reg}catalog:3.1.1"}]}}
            }
        },
    )
    seed(deployment("cart", "shop", "redis:7.2", cpu="100m", memory="128Mi", port=6379, probe_path=None))
    seed(_service("cart", "shop", {"app": "carts"}, port=6379, target=6379))
    seed(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "inventory-sync", "namespace": "shop"},
        }
    )
    seed(
        deployment(
            "inventory-sync",
            "shop",
            f"{reg}inventory-sync:1.0.4",
            service_account="inventory-sync",
            probe_path=None,
        )
    )
    seed(
        deployment(
            "payments",
            "payments",
            f"{reg}payments:1.4.2",
            replicas=2,
            cpu="500m",
            memory="512Mi",
            probe_path="/actuator/health",
        )
    )
    seed(_service("payments", "payments", {"app": "payments"}))
    seed(
        deployment(
            "recommender", "ml", f"{reg}recommender:0.9.3", cpu="500m", memory="256Mi", limit_memory="256Mi"
        )
    )
    seed(deployment("trainer", "ml", f"{reg}trainer:2.0.1", cpu="12", memory="8Gi", probe_path=None))
    seed(deployment("analytics", "analytics", f"{reg}analytics:5.2.0", replicas=3, cpu="2", memory="4Gi"))
    seed(_service("analytics", "analytics", {"app": "analytics"}))
