"""LimitRanges, ResourceQuotas, host ports and pod (anti-)affinity, as a cluster enforces them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.usefixtures("sandbox_only")


def _pod(name: str, **container: Any) -> dict[str, Any]:
    spec = container.pop("pod_spec", {})
    return {
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {**spec, "containers": [{"name": "c", "image": "nginx:1.27", **container}]},
    }


def test_limit_range_defaults_and_maximum(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    core.create_namespaced_limit_range(
        ns,
        {
            "metadata": {"name": "limits"},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"cpu": "200m", "memory": "128Mi"},
                        "max": {"cpu": "500m"},
                    }
                ]
            },
        },
    )
    created = core.create_namespaced_pod(ns, _pod("defaulted"))
    assert created.spec.containers[0].resources.limits == {"cpu": "200m", "memory": "128Mi"}
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(ns, _pod("greedy", resources={"limits": {"cpu": "1"}}))
    assert err.value.status == 403
    assert "maximum cpu usage per Container is 500m, but limit is 1" in json.loads(err.value.body)["message"]


def test_resource_quota_exceeded(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    core.create_namespaced_resource_quota(
        ns, {"metadata": {"name": "compute"}, "spec": {"hard": {"requests.cpu": "1", "pods": "5"}}}
    )
    core.create_namespaced_pod(ns, _pod("a", resources={"requests": {"cpu": "600m"}}))
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(ns, _pod("b", resources={"requests": {"cpu": "600m"}}))
    message = json.loads(err.value.body)["message"]
    assert err.value.status == 403
    assert (
        "exceeded quota: compute, requested: requests.cpu=600m, used: requests.cpu=600m, limited: requests.cpu=1"
        in message
    )
    with pytest.raises(ApiException) as missing:
        core.create_namespaced_pod(ns, _pod("c"))
    assert (
        "failed quota: compute: must specify requests.cpu for: c" in json.loads(missing.value.body)["message"]
    )


def test_host_port_conflict_and_pod_affinity(kube_client: Any, sandbox_namespace: str) -> None:
    core = client.CoreV1Api(kube_client)
    ns = sandbox_namespace
    on_w1 = {"nodeSelector": {"kubernetes.io/hostname": "worker-1"}}
    port = {"ports": [{"containerPort": 80, "hostPort": 18080}]}
    core.create_namespaced_pod(ns, _pod("first", pod_spec=on_w1, **port))
    core.create_namespaced_pod(ns, _pod("second", pod_spec=on_w1, **port))
    second = core.read_namespaced_pod("second", ns)
    assert second.status.phase == "Pending"
    assert "didn't have free ports for the requested pod ports" in second.status.conditions[0].message
    impossible = {
        "affinity": {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": {"app": "does-not-exist"}},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ]
            }
        }
    }
    core.create_namespaced_pod(ns, _pod("lonely", pod_spec=impossible))
    lonely = core.read_namespaced_pod("lonely", ns)
    assert (
        lonely.spec.node_name is None
        and "didn't match pod affinity rules" in lonely.status.conditions[0].message
    )
    near = {
        "affinity": {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "labelSelector": {"matchLabels": {"app": "first"}},
                        "topologyKey": "kubernetes.io/hostname",
                    }
                ]
            }
        }
    }
    core.create_namespaced_pod(ns, _pod("near", pod_spec=near))
    assert core.read_namespaced_pod("near", ns).spec.node_name == "worker-1"


def test_claims_bind_through_the_default_class_or_stay_pending(
    kube_client: Any, sandbox_namespace: str
) -> None:
    core = client.CoreV1Api(kube_client)
    ns = sandbox_namespace

    def claim(name: str, **spec: Any) -> dict[str, Any]:
        return {
            "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, **spec},
        }

    core.create_namespaced_persistent_volume_claim(ns, claim("data"))
    bound = core.read_namespaced_persistent_volume_claim("data", ns)
    assert (
        bound.status.phase == "Bound"
        and bound.spec.storage_class_name == "standard"
        and bound.spec.volume_name
    )
    # storageClassName "" turns dynamic provisioning off: the claim waits for a PV, as the PV controller
    # says in a Normal FailedBinding event (not a ProvisioningFailed for a class named "")
    core.create_namespaced_persistent_volume_claim(ns, claim("static", storageClassName=""))
    assert core.read_namespaced_persistent_volume_claim("static", ns).status.phase == "Pending"
    (waiting,) = core.list_namespaced_event(ns, field_selector="involvedObject.name=static").items
    assert (waiting.type, waiting.reason) == ("Normal", "FailedBinding")
    assert waiting.message == "no persistent volumes available for this claim and no storage class is set"
    core.create_namespaced_persistent_volume_claim(ns, claim("fast", storageClassName="fast-ssd"))
    assert core.read_namespaced_persistent_volume_claim("fast", ns).status.phase == "Pending"
    events = core.list_namespaced_event(ns, field_selector="involvedObject.name=fast").items
    assert any('storageclass.storage.k8s.io "fast-ssd" not found' in e.message for e in events)
    pod = _pod("db", pod_spec={"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "fast"}}]})
    core.create_namespaced_pod(ns, pod)
    assert (
        "unbound immediate PersistentVolumeClaims"
        in core.read_namespaced_pod("db", ns).status.conditions[0].message
    )
    with pytest.raises(ApiException) as err:
        core.patch_namespaced_persistent_volume_claim(
            "data", ns, {"spec": {"resources": {"requests": {"storage": "5Gi"}}}}
        )
    assert err.value.status == 403 and "must support resize" in json.loads(err.value.body)["message"]
