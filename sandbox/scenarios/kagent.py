"""The "golden" environment of the kagent agent-framework challenges (kagent-dev/kagent, Apache-2.0),
rebuilt from what the 24 challenges' breakage steps name, so those steps can run against the sandbox:
frontend-v1 → backend-v1 / backend-v2 (neo4j-db-v1) / backend-v3 (mysql-v1), all in `default`, on
one node (`kagent-control-plane`), as the challenges' kind cluster.

Everything is healthy at start. A challenge's steps (kubectl commands, with CLUSTER_CTX=sandbox) then
break it; the sandbox shows the fault where a cluster would: config errors, OOM kills, probe
failures, unschedulable pods, unbound claims, empty endpoints. Traffic between the tiers is not
simulated (NetworkPolicies, DNS and ports are stored, not enforced).
"""

from __future__ import annotations

from typing import Any

from sandbox.cluster import Cluster
from sandbox.images import DEMO_REGISTRY
from sandbox.scenarios.base import load_base

__all__ = ["load_kagent"]


def _deployment(
    name: str, app: str, version: str, container: dict[str, Any], **pod_spec: Any
) -> dict[str, Any]:
    labels = {"app": app, "version": version}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container], **pod_spec}},
        },
    }


def _service(name: str, app: str, version: str, port: int, target: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": app}},
        "spec": {
            "selector": {"app": app, "version": version},
            "ports": [{"name": "http", "port": port, "targetPort": target}],
        },
    }


def _secret_env(*keys: str) -> list[dict[str, Any]]:
    return [{"name": k, "valueFrom": {"secretKeyRef": {"name": "mysql-secrets", "key": k}}} for k in keys]


def load_kagent(cluster: Cluster) -> None:
    load_base(cluster, single_node="kagent-control-plane")
    seed = cluster.seed
    seed(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "mysql-secrets", "namespace": "default"},
            "stringData": {
                "MYSQL_HOST": "mysql-v1",
                "MYSQL_USER": "root",
                "MYSQL_PASSWORD": "password",
                "MYSQL_DATABASE": "demo",
            },
        }
    )
    seed(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "mysql-pvc", "namespace": "default"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    )
    backend = f"{DEMO_REGISTRY}backend:1.0.0"
    http = [{"name": "http", "containerPort": 8080}]
    seed(
        _deployment(
            "frontend-v1",
            "frontend",
            "v1",
            {
                "name": "frontend",
                "image": f"{DEMO_REGISTRY}frontend:1.8.0",
                "ports": http,
                "env": [
                    {
                        "name": "BACKEND_URLS",
                        "value": "http://backend-v1:8080 http://backend-v2:8080 http://backend-v3:8080",
                    }
                ],
            },
        )
    )
    seed(
        _deployment(
            "backend-v1",
            "backend",
            "v1",
            {"name": "backend", "image": backend, "ports": http},
        )
    )
    seed(
        _deployment(
            "backend-v2",
            "backend",
            "v2",
            {
                "name": "backend",
                "image": backend,
                "ports": http,
                "env": [{"name": "NEO4J_URI", "value": "bolt://neo4j-db-v1:7687"}],
            },
        )
    )
    seed(
        _deployment(
            "backend-v3",
            "backend",
            "v3",
            {
                "name": "backend",
                "image": backend,
                "ports": http,
                "env": _secret_env("MYSQL_HOST", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_DATABASE"),
            },
        )
    )
    seed(
        _deployment(
            "mysql-v1",
            "mysql",
            "v1",
            {
                "name": "mysql",
                "image": "mysql:8.4",
                "ports": [{"name": "mysql", "containerPort": 3306}],
                "env": [
                    {
                        "name": "MYSQL_ROOT_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "mysql-secrets", "key": "MYSQL_PASSWORD"}},
                    },
                    {
                        "name": "MYSQL_DATABASE",
                        "valueFrom": {"secretKeyRef": {"name": "mysql-secrets", "key": "MYSQL_DATABASE"}},
                    },
                ],
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/mysql"}],
            },
            volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "mysql-pvc"}}],
        )
    )
    seed(
        _deployment(
            "neo4j-db-v1",
            "neo4j",
            "v1",
            {
                "name": "neo4j",
                "image": "neo4j:5.24",
                "ports": [{"name": "bolt", "containerPort": 7687}],
                "env": [{"name": "NEO4J_AUTH", "value": "none"}],
            },
        )
    )
    for name, app, version, port in (
        ("frontend-v1", "frontend", "v1", 8080),
        ("backend-v1", "backend", "v1", 8080),
        ("backend-v2", "backend", "v2", 8080),
        ("backend-v3", "backend", "v3", 8080),
    ):
        seed(_service(name, app, version, port, 8080))
    seed(_service("mysql-v1", "mysql", "v1", 3306, 3306))
    seed(_service("neo4j-db-v1", "neo4j", "v1", 7687, 7687))
