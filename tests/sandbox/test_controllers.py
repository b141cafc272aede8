"""Controllers behave as on a cluster: rolling updates, scheduling, garbage collection, namespace deletion."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kubernetes import client

pytestmark = pytest.mark.usefixtures("sandbox_only")  # exact controller timing is the sandbox's


def _deploy(name: str, image: str, replicas: int, **pod_spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}], **pod_spec},
            },
        },
    }


def test_bad_rollout_keeps_old_pods_serving(kube_client: Any, sandbox_namespace: str) -> None:
    apps, core = client.AppsV1Api(kube_client), client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    apps.create_namespaced_deployment(ns, _deploy("api", "nginx:1.27", 4))
    apps.patch_namespaced_deployment(
        "api",
        ns,
        {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "nginx:9.9-nonexistent"}]}}}},
    )
    pods = core.list_namespaced_pod(ns).items
    images = sorted(p.spec.containers[0].image for p in pods)
    # maxUnavailable 25% of 4 = 1 old pod removed; maxSurge 1 → 2 new pods, all stuck pulling
    assert images.count("nginx:1.27") == 3 and images.count("nginx:9.9-nonexistent") == 2
    dep = apps.read_namespaced_deployment("api", ns)
    assert dep.status.ready_replicas == 3 and dep.status.updated_replicas == 2
    apps.patch_namespaced_deployment(
        "api", ns, {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "nginx:1.28"}]}}}}
    )
    dep = apps.read_namespaced_deployment("api", ns)
    assert dep.status.ready_replicas == 4 and dep.status.updated_replicas == 4
    assert {p.spec.containers[0].image for p in core.list_namespaced_pod(ns).items} == {"nginx:1.28"}


def test_scheduler_leaves_oversized_pods_pending_and_binds_when_capacity_frees(
    kube_client: Any, sandbox_namespace: str
) -> None:
    core = client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    big = {
        "metadata": {"name": "big"},
        "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "64"}}}]},
    }
    core.create_namespaced_pod(ns, big)
    pod = core.read_namespaced_pod("big", ns)
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    events = core.list_namespaced_event(ns, field_selector="involvedObject.name=big").items
    assert any(e.reason == "FailedScheduling" and "Insufficient cpu" in e.message for e in events)
    selected = {
        "metadata": {"name": "picky"},
        "spec": {
            "nodeSelector": {"kubernetes.io/hostname": "worker-3"},
            "containers": [{"name": "c", "image": "nginx"}],
        },
    }
    core.create_namespaced_pod(ns, selected)
    assert core.read_namespaced_pod("picky", ns).spec.node_name == "worker-3"


def test_deleting_a_namespace_removes_its_contents(kube_client: Any) -> None:
    core, apps = client.CoreV1Api(kube_client), client.AppsV1Api(kube_client)
    core.create_namespace({"metadata": {"name": "doomed"}})
    assert core.read_namespaced_service_account("default", "doomed").metadata.name == "default"
    apps.create_namespaced_deployment("doomed", _deploy("x", "nginx", 2))
    core.delete_namespace("doomed")
    assert core.read_namespace("doomed").status.phase == "Terminating"
    assert core.list_namespaced_pod("doomed").items == []  # content goes at once; the namespace just after
    deadline = time.monotonic() + 10
    while (
        any(n.metadata.name == "doomed" for n in core.list_namespace().items) and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert [n.metadata.name for n in core.list_namespace().items if n.metadata.name == "doomed"] == []


def test_orphan_propagation_keeps_dependents(kube_client: Any, sandbox_namespace: str) -> None:
    apps, core = client.AppsV1Api(kube_client), client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    apps.create_namespaced_deployment(ns, _deploy("keep", "nginx", 1))
    apps.delete_namespaced_deployment("keep", ns, propagation_policy="Orphan")
    sets = apps.list_namespaced_replica_set(ns).items
    assert len(sets) == 1 and not sets[0].metadata.owner_references
    assert len(core.list_namespaced_pod(ns).items) == 1


def test_missing_service_account_is_rejected_and_reported_on_the_replicaset(
    kube_client: Any, sandbox_namespace: str
) -> None:
    apps, core = client.AppsV1Api(kube_client), client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    apps.create_namespaced_deployment(ns, _deploy("ghost-sa", "nginx", 1, serviceAccountName="nobody"))
    assert core.list_namespaced_pod(ns).items == []
    rs = apps.list_namespaced_replica_set(ns).items[0].metadata.name
    events = core.list_namespaced_event(ns, field_selector=f"involvedObject.name={rs}").items
    assert any(
        e.reason == "FailedCreate" and 'serviceaccount "nobody" not found' in e.message for e in events
    )


def test_hpa_served_as_v1_and_v2_scales_on_cpu(kube_client: Any, sandbox_namespace: str) -> None:
    apps = client.AppsV1Api(kube_client)
    ns = sandbox_namespace
    body = _deploy("busy", "ghcr.io/opsgraph-demo/frontend:1.8.0", 2)
    body["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "10m"}}  # uses ~40m
    apps.create_namespaced_deployment(ns, body)
    v1 = client.AutoscalingV1Api(kube_client)
    v1.create_namespaced_horizontal_pod_autoscaler(
        ns,
        {
            "metadata": {"name": "busy"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "busy"},
                "minReplicas": 1,
                "maxReplicas": 4,
                "targetCPUUtilizationPercentage": 50,
            },
        },
    )
    v2 = client.AutoscalingV2Api(kube_client).read_namespaced_horizontal_pod_autoscaler("busy", ns)
    assert v2.spec.metrics[0].resource.target.average_utilization == 50
    assert apps.read_namespaced_deployment("busy", ns).spec.replicas == 4  # far above target: up to max
    back = v1.read_namespaced_horizontal_pod_autoscaler("busy", ns)
    assert back.spec.target_cpu_utilization_percentage == 50 and back.status.desired_replicas == 4


def test_statefulset_ordinals_claims_and_scale_down(kube_client: Any, sandbox_namespace: str) -> None:
    apps, core = client.AppsV1Api(kube_client), client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    body = _deploy("db", "redis:7", 3)
    body["spec"]["serviceName"] = "db"
    body["spec"]["volumeClaimTemplates"] = [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    ]
    apps.create_namespaced_stateful_set(ns, body)
    assert sorted(p.metadata.name for p in core.list_namespaced_pod(ns).items) == ["db-0", "db-1", "db-2"]
    claims = core.list_namespaced_persistent_volume_claim(ns).items
    assert sorted(c.metadata.name for c in claims) == ["data-db-0", "data-db-1", "data-db-2"]
    assert all(c.status.phase == "Bound" for c in claims)
    apps.patch_namespaced_stateful_set_scale("db", ns, {"spec": {"replicas": 1}})
    assert [p.metadata.name for p in core.list_namespaced_pod(ns).items] == ["db-0"]
    assert len(core.list_namespaced_persistent_volume_claim(ns).items) == 3  # claims outlive their pods
    assert apps.read_namespaced_stateful_set("db", ns).status.ready_replicas == 1


def test_daemonset_runs_one_pod_per_eligible_node(kube_client: Any, sandbox_namespace: str) -> None:
    apps, core = client.AppsV1Api(kube_client), client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    body = _deploy("agent", "busybox:1.36", 1)
    del body["spec"]["replicas"]
    body["spec"]["template"]["spec"]["containers"][0]["command"] = ["sleep", "infinity"]
    apps.create_namespaced_daemon_set(ns, body)
    nodes = sorted(p.spec.node_name for p in core.list_namespaced_pod(ns).items)
    assert nodes == ["worker-1", "worker-2", "worker-3"]  # the control plane's taint is not tolerated
    assert apps.read_namespaced_daemon_set("agent", ns).status.desired_number_scheduled == 3
