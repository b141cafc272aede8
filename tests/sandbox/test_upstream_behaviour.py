"""Upstream behaviours the sandbox copies (issue 17, second round): each test names the apiserver,
controller or image behaviour it checks."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kubernetes import client

from sandbox.app import build_cluster
from sandbox.cluster import resource
from sandbox.controllers import cronjobs
from sandbox.store import rfc3339
from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL, kubectl

pytestmark = pytest.mark.usefixtures("sandbox_only")


def _service(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": {"app": name}, "ports": [{"port": 80}]}}


def test_delete_answers_the_object_or_a_status_per_kind(kube_client: Any, sandbox_namespace: str) -> None:
    """Registries built with ReturnDeletedObject (pods, services, serviceaccounts, PVCs, ...) answer a
    DELETE with the deleted object, which the official client reads as its model (V1Service); the others
    answer Status{status: Success, details: {name, group, kind: <resource>, uid}}."""
    core, apps = client.CoreV1Api(kube_client), client.AppsV1Api(kube_client)
    ns = sandbox_namespace
    created = core.create_namespaced_service(ns, _service("web"))
    deleted = core.delete_namespaced_service("web", ns)
    assert isinstance(deleted, client.V1Service)
    assert deleted.metadata.name == "web" and deleted.metadata.uid == created.metadata.uid
    core.create_namespaced_service_account(ns, {"metadata": {"name": "robot"}})
    assert core.delete_namespaced_service_account("robot", ns).metadata.name == "robot"
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim(ns, claim)
    assert isinstance(
        core.delete_namespaced_persistent_volume_claim("data", ns), client.V1PersistentVolumeClaim
    )
    core.create_namespaced_config_map(ns, {"metadata": {"name": "settings"}})
    status = kube_client.sanitize_for_serialization(core.delete_namespaced_config_map("settings", ns))
    assert status["kind"] == "Status" and status["status"] == "Success"
    assert status["details"]["name"] == "settings" and status["details"]["kind"] == "configmaps"
    deployment = {
        "metadata": {"name": "api"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    uid = apps.create_namespaced_deployment(ns, deployment).metadata.uid
    status = kube_client.sanitize_for_serialization(apps.delete_namespaced_deployment("api", ns))
    assert status["details"] == {"name": "api", "group": "apps", "kind": "deployments", "uid": uid}


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_deletes_a_service(
    sandbox_cluster: SandboxCluster, kube_client: Any, sandbox_namespace: str
) -> None:
    client.CoreV1Api(kube_client).create_namespaced_service(sandbox_namespace, _service("web"))
    out = kubectl(sandbox_cluster, "delete", "service", "web", "-n", sandbox_namespace)
    assert out.returncode == 0 and 'service "web" deleted' in out.stdout, out.stderr


# --- CronJobs: kube-controller-manager's cronjob controller, on the sandbox's clock ------------------


def _cronjob(name: str, schedule: str, command: str = "echo done", **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox:1.36", "command": ["sh", "-c", command]}
    template = {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [container]}}}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": "batch"},
        "spec": {"schedule": schedule, "jobTemplate": template, **spec},
    }


@pytest.fixture
def batch() -> Any:
    cluster = build_cluster("empty")
    cluster.create(resource("namespaces"), {"metadata": {"name": "batch"}})
    return cluster


def _next_hour() -> float:
    now = time.time()
    return now - now % 3600 + 3600


def _jobs(cluster: Any) -> list[str]:
    return [j["metadata"]["name"] for j in cluster.store.list(resource("jobs", "batch"), namespace="batch")]


def _events(cluster: Any, kind: str = "CronJob") -> list[tuple[str, str]]:
    events = cluster.store.list(resource("events"), namespace="batch")
    return [(e["reason"], e["message"]) for e in events if e["involvedObject"]["kind"] == kind]


def _status(cluster: Any, name: str) -> dict[str, Any]:
    return dict(cluster.store.get(resource("cronjobs", "batch"), "batch", name).get("status") or {})


def test_a_cronjob_starts_a_job_at_its_schedule(batch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """At a schedule time the controller creates Job <cronjob>-<minutes since the epoch> (owned by the
    CronJob, annotated with the scheduled time), lists it in status.active and sets lastScheduleTime;
    a finished Job leaves active (SawCompletedJob) and sets lastSuccessfulTime; finished Jobs beyond
    successfulJobsHistoryLimit are deleted."""
    hour = _next_hour()
    monkeypatch.setattr(cronjobs, "clock", lambda: hour - 30)
    batch.create(resource("cronjobs", "batch"), _cronjob("hourly", "0 * * * *", successfulJobsHistoryLimit=1))
    batch.tick()
    assert _jobs(batch) == []  # not yet due
    monkeypatch.setattr(cronjobs, "clock", lambda: hour + 10)
    batch.tick()
    name = f"hourly-{int(hour) // 60}"
    assert _jobs(batch) == [name]
    job = batch.store.get(resource("jobs", "batch"), "batch", name)
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == rfc3339(hour)
    assert _status(batch, "hourly")["lastScheduleTime"] == rfc3339(hour)
    assert ("SuccessfulCreate", f"Created job {name}") in _events(batch)
    batch.tick()  # the Job's pod ran `echo done`: the Job is complete
    status = _status(batch, "hourly")
    assert "active" not in status and status["lastSuccessfulTime"]
    assert ("SawCompletedJob", f"Saw completed job: {name}, status: Complete") in _events(batch)
    monkeypatch.setattr(cronjobs, "clock", lambda: hour + 3600 + 10)
    batch.tick()
    batch.tick()
    assert _jobs(batch) == [f"hourly-{int(hour + 3600) // 60}"]  # history limit 1: the older one went
    assert ("SuccessfulDelete", f"Deleted job {name}") in _events(batch)


def test_missed_schedules_as_upstream(batch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """More than 100 missed times (no startingDeadlineSeconds): Warning TooManyMissedTimes, and only the
    latest time runs. With startingDeadlineSeconds the controller looks back only that far (cronjob
    controller v2): a time inside the window starts late, an older one is skipped without a Job."""
    hour = _next_hour()
    batch.create(resource("cronjobs", "batch"), _cronjob("strict", "0 * * * *", startingDeadlineSeconds=600))
    batch.create(resource("cronjobs", "batch"), _cronjob("every-minute", "* * * * *"))
    late = hour + 3 * 3600 - 900  # 45 minutes after the last hour, over 2 hours after the creation
    monkeypatch.setattr(cronjobs, "clock", lambda: late)
    batch.tick()
    assert not any(j.startswith("strict-") for j in _jobs(batch))
    message = "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
    assert ("TooManyMissedTimes", message) in _events(batch)
    assert [j for j in _jobs(batch) if j.startswith("every-minute-")] == [f"every-minute-{int(late) // 60}"]
    monkeypatch.setattr(cronjobs, "clock", lambda: hour + 3 * 3600 + 300)  # 5 minutes late, inside 600 s
    batch.tick()
    assert f"strict-{int(hour + 3 * 3600) // 60}" in _jobs(batch)


def test_concurrency_policies_and_suspend(batch: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forbid: no new Job while one runs (JobAlreadyActive); Replace: the running Job is deleted and
    the new one started; suspend: nothing starts."""
    hour = _next_hour()
    monkeypatch.setattr(cronjobs, "clock", lambda: hour - 60)
    long = "sleep 86400"
    batch.create(
        resource("cronjobs", "batch"), _cronjob("forbid", "0 * * * *", long, concurrencyPolicy="Forbid")
    )
    batch.create(
        resource("cronjobs", "batch"), _cronjob("replace", "0 * * * *", long, concurrencyPolicy="Replace")
    )
    batch.create(resource("cronjobs", "batch"), _cronjob("paused", "0 * * * *", suspend=True))
    for offset in (10, 3610):
        monkeypatch.setattr(cronjobs, "clock", lambda offset=offset: hour + offset)
        batch.tick()
    first, second = int(hour) // 60, int(hour + 3600) // 60
    assert sorted(_jobs(batch)) == [f"forbid-{first}", f"replace-{second}"]
    message = "Not starting job because prior execution is running and concurrency policy is Forbid"
    assert ("JobAlreadyActive", message) in _events(batch)
    assert ("SuccessfulDelete", f"Deleted job replace-{first}") in _events(batch)
    assert [r["name"] for r in _status(batch, "replace")["active"]] == [f"replace-{second}"]
    assert "lastScheduleTime" not in _status(batch, "paused")


def test_a_bad_schedule_is_refused(kube_client: Any, sandbox_namespace: str) -> None:
    """The apiserver validates the schedule as the controller parses it: 422 on spec.schedule."""
    batch_api = client.BatchV1Api(kube_client)
    body = {**_cronjob("bad", "61 * * * *"), "metadata": {"name": "bad"}}
    with pytest.raises(client.ApiException) as refused:
        batch_api.create_namespaced_cron_job(sandbox_namespace, body)
    assert refused.value.status == 422 and "spec.schedule" in refused.value.body
    created = batch_api.create_namespaced_cron_job(
        sandbox_namespace, {**body, "spec": {**body["spec"], "schedule": "@hourly"}}
    )
    assert created.spec.successful_jobs_history_limit == 3 and created.spec.failed_jobs_history_limit == 1


# --- PodDisruptionBudgets: the disruption controller and the eviction API -----------------------------


def _web(kube_client: Any, namespace: str, replicas: int) -> None:
    deployment = {
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]},
            },
        },
    }
    client.AppsV1Api(kube_client).create_namespaced_deployment(namespace, deployment)


def _pdb(name: str, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


def test_pdb_status_is_computed(kube_client: Any, sandbox_namespace: str) -> None:
    """expectedPods, desiredHealthy, currentHealthy and disruptionsAllowed as the disruption controller
    computes them: an integer minAvailable counts pods; a percentage (rounded up) or maxUnavailable
    scales the pods' controller (the Deployment's replicas); no pods: nothing allowed."""
    policy = client.PolicyV1Api(kube_client)
    _web(kube_client, sandbox_namespace, 3)
    policy.create_namespaced_pod_disruption_budget(sandbox_namespace, _pdb("min2", minAvailable=2))
    policy.create_namespaced_pod_disruption_budget(sandbox_namespace, _pdb("max34", maxUnavailable="34%"))
    ghost = {
        "metadata": {"name": "ghost"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "ghost"}}},
    }
    policy.create_namespaced_pod_disruption_budget(sandbox_namespace, ghost)

    def status(name: str) -> Any:
        return policy.read_namespaced_pod_disruption_budget(name, sandbox_namespace).status

    min2, max34, none = status("min2"), status("max34"), status("ghost")
    assert (min2.expected_pods, min2.desired_healthy, min2.current_healthy, min2.disruptions_allowed) == (
        3,
        2,
        3,
        1,
    )
    assert (max34.expected_pods, max34.desired_healthy, max34.disruptions_allowed) == (3, 1, 2)
    assert (none.expected_pods, none.disruptions_allowed, none.conditions[0].reason) == (
        0,
        0,
        "InsufficientPods",
    )
    assert min2.conditions[0].type == "DisruptionAllowed" and min2.conditions[0].status == "True"
    client.AppsV1Api(kube_client).patch_namespaced_deployment_scale(
        "web", sandbox_namespace, {"spec": {"replicas": 2}}
    )
    assert status("min2").disruptions_allowed == 0


def test_eviction_honours_the_budget(kube_client: Any, sandbox_namespace: str) -> None:
    """An eviction the budget allows is 201 and spends a disruption (disruptedPods); one it does not
    allow is 429 TooManyRequests with the DisruptionBudget cause, and the pod stays."""
    core, policy = client.CoreV1Api(kube_client), client.PolicyV1Api(kube_client)
    _web(kube_client, sandbox_namespace, 2)
    policy.create_namespaced_pod_disruption_budget(sandbox_namespace, _pdb("web", minAvailable=1))
    pods = [p.metadata.name for p in core.list_namespaced_pod(sandbox_namespace).items]

    def evict(pod: str) -> Any:
        body = client.V1Eviction(metadata=client.V1ObjectMeta(name=pod, namespace=sandbox_namespace))
        return core.create_namespaced_pod_eviction(pod, sandbox_namespace, body)

    evict(pods[0])
    budget = policy.read_namespaced_pod_disruption_budget("web", sandbox_namespace)
    assert budget.status.current_healthy >= 1
    policy.patch_namespaced_pod_disruption_budget("web", sandbox_namespace, {"spec": {"minAvailable": 2}})
    with pytest.raises(client.ApiException) as refused:
        evict(pods[1])
    assert refused.value.status == 429
    status = json.loads(refused.value.body)
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget web needs 2 healthy pods and has 2 currently",
        }
    ]
    assert core.read_namespaced_pod(pods[1], sandbox_namespace).metadata.name == pods[1]


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_drain_waits_for_the_budget(
    sandbox_cluster: SandboxCluster, kube_client: Any, sandbox_namespace: str
) -> None:
    """kubectl drain retries an eviction the budget refuses until its timeout, then fails naming the
    budget, as against a real cluster."""
    _web(kube_client, sandbox_namespace, 1)
    client.PolicyV1Api(kube_client).create_namespaced_pod_disruption_budget(
        sandbox_namespace, _pdb("web", minAvailable=1)
    )
    pod = client.CoreV1Api(kube_client).list_namespaced_pod(sandbox_namespace).items[0]
    node = pod.spec.node_name
    try:
        out = kubectl(
            sandbox_cluster, "drain", node, "--pod-selector=app=web", "--ignore-daemonsets", "--timeout=3s"
        )
    finally:
        kubectl(sandbox_cluster, "uncordon", node)
    assert out.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget" in out.stdout + out.stderr


# --- Probes: what the image's HTTP server answers -------------------------------------------------------


def test_probes_on_paths_the_image_does_not_serve_fail(kube_client: Any, sandbox_namespace: str) -> None:
    """nginx's default server has /, /index.html and /50x.html and answers 404 for the rest; httpd has
    / and /index.html. The kubelet passes only 200-399: a readiness probe on /healthz of nginx keeps the
    pod unready (Unhealthy: HTTP probe failed with statuscode: 404), a liveness one restarts it; probes
    on served paths pass."""
    core = client.CoreV1Api(kube_client)

    def pod(name: str, image: str, **probes: Any) -> None:
        container = {
            "name": "web",
            "image": image,
            "ports": [{"containerPort": 80, "name": "http"}],
            **probes,
        }
        core.create_namespaced_pod(
            sandbox_namespace, {"metadata": {"name": name}, "spec": {"containers": [container]}}
        )

    def probe(path: str) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": 5}

    pod("nginx-wrong", "nginx:1.27", readinessProbe=probe("/healthz"))
    pod("nginx-right", "nginx:1.27", readinessProbe=probe("/index.html"), livenessProbe=probe("/"))
    pod("httpd-wrong", "httpd:2.4", livenessProbe=probe("/healthz"))
    pod("httpd-right", "httpd:2.4", readinessProbe=probe("/"))

    def ready(name: str) -> bool:
        status = core.read_namespaced_pod(name, sandbox_namespace).status
        return bool(status.container_statuses and status.container_statuses[0].ready)

    assert (
        not ready("nginx-wrong")
        and ready("nginx-right")
        and ready("httpd-right")
        and not ready("httpd-wrong")
    )
    events = core.list_namespaced_event(sandbox_namespace).items
    unhealthy = {(e.involved_object.name, e.message) for e in events if e.reason == "Unhealthy"}
    assert ("nginx-wrong", "Readiness probe failed: HTTP probe failed with statuscode: 404") in unhealthy
    assert ("httpd-wrong", "Liveness probe failed: HTTP probe failed with statuscode: 404") in unhealthy
    assert not {name for name, _ in unhealthy} & {"nginx-right", "httpd-right"}
    httpd = core.read_namespaced_pod("httpd-wrong", sandbox_namespace).status.container_statuses[0]
    assert httpd.state.waiting is not None and httpd.state.waiting.reason == "CrashLoopBackOff"
