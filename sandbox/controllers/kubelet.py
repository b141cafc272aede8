"""A simulated kubelet: sets each bound pod's status, container states, events and logs."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.controllers.container import Outcome, World, container_outcome
from sandbox.rbac import Attributes, Authorizer, User, service_account_groups
from sandbox.store import Change, parse_rfc3339, rfc3339

__all__ = ["Kubelet", "sync_pod"]

clock = time.time
"""The kubelet's notion of now (restart counts follow a crash-looping pod's age); tests move it."""

_RBAC_KINDS = {"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}


def _age_seconds(obj: dict[str, Any]) -> float:
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return 0.0
    return max(0.0, clock() - parse_rfc3339(created))


def _pod_ip(pod: dict[str, Any], node_index: int) -> str:
    digest = int(hashlib.sha1(pod["metadata"]["uid"].encode()).hexdigest(), 16)
    return f"10.244.{node_index}.{2 + digest % 250}"


def _world(cluster: Cluster, pod: dict[str, Any]) -> World:
    ns = pod["metadata"]["namespace"]
    configmaps = {
        c["metadata"]["name"]: dict(c.get("data") or {})
        for c in cluster.store.list(resource("configmaps"), ns)
    }
    secrets = {
        s["metadata"]["name"]: {
            k: base64.b64decode(v).decode(errors="replace") for k, v in (s.get("data") or {}).items()
        }
        for s in cluster.store.list(resource("secrets"), ns)
    }
    sa = pod["spec"].get("serviceAccountName", "default")
    name = f"system:serviceaccount:{ns}:{sa}"
    user = User(name, (*service_account_groups(name), "system:authenticated"))
    authorizer = Authorizer(cluster.store)

    def can(verb: str, group: str, res: str) -> bool:
        return authorizer.allowed(user, Attributes(verb, group, res, namespace=ns))[0]

    uid = pod["metadata"]["uid"]
    exited = {c: code for (u, c), code in cluster.extras.get("exited", {}).items() if u == uid}
    return World(configmaps, secrets, can, exited)


def _volume_problem(cluster: Cluster, pod: dict[str, Any], world: World) -> str:
    ns = pod["metadata"]["namespace"]
    for vol in pod["spec"].get("volumes") or []:
        if (
            "configMap" in vol
            and not vol["configMap"].get("optional")
            and vol["configMap"].get("name") not in world.configmaps
        ):
            return f'MountVolume.SetUp failed for volume "{vol["name"]}" : configmap "{vol["configMap"].get("name")}" not found'
        if (
            "secret" in vol
            and not vol["secret"].get("optional")
            and vol["secret"].get("secretName") not in world.secrets
        ):
            return f'MountVolume.SetUp failed for volume "{vol["name"]}" : secret "{vol["secret"].get("secretName")}" not found'
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and cluster.store.find(resource("persistentvolumeclaims"), ns, claim) is None:
            return f'persistentvolumeclaim "{claim}" not found'
    return ""


def _container_status(
    container: dict[str, Any], outcome: Outcome, old: dict[str, Any] | None, started_at: str, age: float
) -> dict[str, Any]:
    name = container["name"]
    restarts = int((old or {}).get("restartCount", 0))
    state: dict[str, Any]
    last: dict[str, Any] = {}
    if outcome.state == "running":
        state = {"running": {"startedAt": started_at}}
    elif outcome.state == "terminated":
        state = {
            "terminated": {
                "exitCode": outcome.exit_code,
                "reason": outcome.reason,
                "startedAt": started_at,
                "finishedAt": started_at,
                "containerID": f"containerd://{hashlib.sha1(name.encode()).hexdigest()}",
            }
        }
    else:
        state = {"waiting": {"reason": outcome.reason, "message": outcome.message}}
    if outcome.last_reason:
        restarts = max(restarts, 1 + int(age // 150))
        last = {
            "terminated": {
                "exitCode": outcome.last_exit_code,
                "reason": outcome.last_reason,
                "startedAt": started_at,
                "finishedAt": started_at,
                "containerID": f"containerd://{hashlib.sha1((name + 'prev').encode()).hexdigest()}",
            }
        }
    image = container.get("image", "")
    pulled = outcome.reason not in ("ImagePullBackOff", "ErrImagePull")
    status = {
        "name": name,
        "image": image,
        "imageID": f"{image}@sha256:{hashlib.sha256(image.encode()).hexdigest()}" if pulled else "",
        "ready": outcome.ready and outcome.state == "running",
        "restartCount": restarts,
        "started": outcome.state == "running",
        "state": state,
        "lastState": last,
    }
    if outcome.state != "waiting" or outcome.last_reason:
        status["containerID"] = f"containerd://{hashlib.sha1((image + name).encode()).hexdigest()}"
    return status


def _phase(outcomes: list[Outcome]) -> str:
    if all(o.state == "terminated" for o in outcomes):
        return "Succeeded" if all(o.exit_code == 0 for o in outcomes) else "Failed"
    if any(o.state == "running" or o.last_reason for o in outcomes):
        return "Running"
    return "Pending"


def _semantic(status: dict[str, Any]) -> Any:
    return {k: v for k, v in status.items() if k not in ("conditions", "startTime")}


def sync_pod(cluster: Cluster, pod: dict[str, Any]) -> None:
    """Bring one bound pod's status up to date with what its containers would do."""
    node = cluster.store.find(resource("nodes"), "", pod["spec"]["nodeName"])
    nodes = [n["metadata"]["name"] for n in cluster.store.list(resource("nodes"))]
    node_index = nodes.index(pod["spec"]["nodeName"]) if node else 0
    old_status = pod.get("status") or {}
    pod_ip = old_status.get("podIP") or _pod_ip(pod, node_index)
    world = _world(cluster, pod)
    age = _age_seconds(pod)
    started_at = pod["metadata"].get("creationTimestamp") or rfc3339(time.time())
    problem = _volume_problem(cluster, pod, world)
    containers = pod["spec"].get("containers") or []
    init_containers = pod["spec"].get("initContainers") or []
    init_outcomes: list[Outcome] = []
    blocked = False
    events: list[tuple[str, str, str]] = []
    if problem:
        outcomes = [Outcome("waiting", "ContainerCreating", ready=False) for _ in containers]
        events = [("Warning", "FailedMount", problem)]
        init_outcomes = [Outcome("waiting", "PodInitializing", ready=False) for _ in init_containers]
    else:
        for ic in init_containers:  # in order; each must finish before the next starts
            if blocked:
                init_outcomes.append(Outcome("waiting", "PodInitializing", ready=False))
                continue
            outcome = container_outcome(pod, ic, world, pod_ip, init=True)
            init_outcomes.append(outcome)
            events += outcome.events
            blocked = not (outcome.state == "terminated" and outcome.exit_code == 0)
        if blocked:
            outcomes = [Outcome("waiting", "PodInitializing", ready=False) for _ in containers]
        else:
            outcomes = [container_outcome(pod, c, world, pod_ip) for c in containers]
            events += [e for o in outcomes for e in o.events]
    old_init = {s["name"]: s for s in old_status.get("initContainerStatuses") or []}
    init_statuses = [
        _container_status(c, o, old_init.get(c["name"]), started_at, age)
        for c, o in zip(init_containers, init_outcomes, strict=True)
    ]
    old_by_name = {s["name"]: s for s in old_status.get("containerStatuses") or []}
    statuses = [
        _container_status(c, o, old_by_name.get(c["name"]), started_at, age)
        for c, o in zip(containers, outcomes, strict=True)
    ]
    ephemeral = [{**c, "restartPolicy": "Never"} for c in pod["spec"].get("ephemeralContainers") or []]
    ephemeral_outcomes = [
        container_outcome({**pod, "spec": {**pod["spec"], "restartPolicy": "Never"}}, c, world, pod_ip)
        for c in ephemeral
    ]
    events += [e for o in ephemeral_outcomes for e in o.events]
    old_ephemeral = {s["name"]: s for s in old_status.get("ephemeralContainerStatuses") or []}
    ephemeral_statuses = [
        _container_status(c, o, old_ephemeral.get(c["name"]), started_at, age)
        for c, o in zip(ephemeral, ephemeral_outcomes, strict=True)
    ]
    ready = all(s["ready"] for s in statuses)
    failed_init = any(o.state == "terminated" and o.exit_code != 0 for o in init_outcomes)
    phase = "Failed" if failed_init else "Pending" if blocked else _phase(outcomes)
    host_ip = ((node or {}).get("status", {}).get("addresses") or [{"address": "10.0.0.1"}])[0]["address"]

    def cond(kind: str, ok: bool, reason: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": kind,
            "status": "True" if ok else "False",
            "lastProbeTime": None,
            "lastTransitionTime": started_at,
        }
        if reason and not ok:
            out["reason"] = reason
        return out

    status = {
        "phase": phase,
        "conditions": [
            cond("Initialized", not blocked, "ContainersNotInitialized"),
            cond("Ready", ready, "ContainersNotReady"),
            cond("ContainersReady", ready, "ContainersNotReady"),
            cond("PodScheduled", True),
        ],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": started_at,
        "containerStatuses": statuses,
        **({"initContainerStatuses": init_statuses} if init_statuses else {}),
        **({"ephemeralContainerStatuses": ephemeral_statuses} if ephemeral_statuses else {}),
        "qosClass": old_status.get("qosClass", "BestEffort"),
    }
    booted = parse_rfc3339(started_at)
    every = init_containers + containers + ephemeral
    for c, o in zip(every, init_outcomes + outcomes + ephemeral_outcomes, strict=True):
        if o.state != "waiting" or o.last_reason:
            cluster.logs.boot(
                (pod["metadata"]["uid"], c["name"]), o.logs, o.logs if o.last_reason else [], booted
            )
    if _semantic(status) == _semantic(old_status):
        return
    fresh = cluster.store.update(resource("pods"), {**pod, "status": status}, subresource="status")
    for event_type, reason, message in events:
        cluster.record_event(fresh, event_type, reason, message, "kubelet")


def _unready(pod: dict[str, Any]) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or [{}]
    return bool(pod["spec"].get("nodeName")) and not all(s.get("ready") for s in statuses)


class Kubelet:
    """Runs `sync_pod` for bound pods; remembers which pods are not ready, since only those can change
    when a ConfigMap, Secret, PVC or RBAC rule appears."""

    def __init__(self) -> None:
        self.unready: set[tuple[str, str]] = set()

    def _resync(self, cluster: Cluster, namespace: str | None) -> None:
        pods = resource("pods")
        for ns, name in sorted(self.unready):
            if namespace is None or ns == namespace:
                pod = cluster.store.find(pods, ns, name)
                if pod is None:
                    self.unready.discard((ns, name))
                else:
                    sync_pod(cluster, pod)

    def tick(self, cluster: Cluster) -> None:
        """Time passes: crash-looping containers restart again (their count follows their age)."""
        self._resync(cluster, None)

    def __call__(self, cluster: Cluster, change: Change) -> None:
        kind = change.resource.kind
        if kind == "Pod":
            key = (change.obj["metadata"]["namespace"], change.obj["metadata"]["name"])
            if change.type == "DELETED":
                self.unready.discard(key)
                spec = change.obj["spec"]
                for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
                    cluster.logs.drop((change.obj["metadata"]["uid"], c.get("name", "")))
                return
            current = cluster.store.find(change.resource, *key)
            if current is not None and current["spec"].get("nodeName") and current is change.obj:
                sync_pod(cluster, current)
            current = cluster.store.find(change.resource, *key)
            if current is not None and _unready(current):
                self.unready.add(key)
            else:
                self.unready.discard(key)
        elif kind in ("ConfigMap", "Secret", "PersistentVolumeClaim") or kind in _RBAC_KINDS:
            self._resync(cluster, change.obj["metadata"].get("namespace") or None)
