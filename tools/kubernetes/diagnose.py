"""Diagnosis: from a pod's status, events, logs and spec to a cause in words, citing the evidence.

Each finding names the problem, the cause, the evidence (an event, a log line, a spec field) and a fix.
Log and event text is evidence only: it is quoted, never acted on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.kubernetes.access import KubeAccess, KubeError
from tools.kubernetes.findings import Finding, render_findings
from tools.kubernetes.render import as_data, pod_status_text

__all__ = [
    "Finding",
    "PodReport",
    "diagnose_pod",
    "diagnose_workload",
]

_ERROR_LINE = re.compile(
    r"(Traceback|Error|Exception|FATAL|panic|forbidden|Forbidden|refused|denied|fail)", re.I
)


@dataclass
class PodReport:
    name: str
    namespace: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        out = [f"pod {self.namespace}/{self.name}: {self.status}"]
        if self.findings:
            out.append("diagnosis:")
            out.append(render_findings(f"diagnosis of pod {self.namespace}/{self.name}", self.findings))
        else:
            out.append("diagnosis: no problem found (the pod is running and ready)")
        if self.events:
            out.append(as_data("events", "\n".join(self.events[-12:])))
        for container, text in self.logs.items():
            out.append(as_data(f"logs of container {container} (last lines)", text))
        return "\n".join(out)

    def artifact(self) -> dict[str, Any]:
        return {
            "kind": "kubernetes.diagnosis",
            "subject": f"Pod {self.namespace}/{self.name}",
            "status": self.status,
            "findings": [f.as_dict() for f in self.findings],
            "events": self.events[-12:],
            "logs": self.logs,
        }


def _events(access: KubeAccess, namespace: str, name: str) -> list[dict[str, Any]]:
    try:
        items = access.request(
            "GET", f"/api/v1/namespaces/{namespace}/events", {"fieldSelector": f"involvedObject.name={name}"}
        ).get("items", [])
    except KubeError:
        return []
    return sorted(items, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def _log(access: KubeAccess, namespace: str, pod: str, container: str, previous: bool, tail: int = 20) -> str:
    try:
        text = access.request(
            "GET",
            f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
            {"container": container, "previous": previous or None, "tailLines": tail},
        )
    except KubeError as exc:
        return f"(no logs: {exc.message})"
    return text if isinstance(text, str) else str(text)


def _event_text(e: dict[str, Any]) -> str:
    count = f" (x{e['count']})" if e.get("count", 1) > 1 else ""
    return f"{e.get('type', '')} {e.get('reason', '')}: {e.get('message', '')}{count}"


def _find_event(events: list[dict[str, Any]], reason: str, contains: str = "") -> str | None:
    for e in reversed(events):
        if e.get("reason") == reason and contains in e.get("message", ""):
            return f'event {reason}: "{e.get("message", "")}"'
    return None


def _crash_finding(
    pod: dict[str, Any],
    index: int,
    container: dict[str, Any],
    cs: dict[str, Any],
    log: str,
    events: list[dict[str, Any]],
    group: str = "containers",
) -> Finding:
    name = container["name"]
    last = (cs.get("lastState") or {}).get("terminated") or (cs.get("state") or {}).get("terminated") or {}
    exit_code, reason = last.get("exitCode"), last.get("reason", "")
    field_base = f"spec.{group}[{index}]"
    status_base = (
        f"status.{'initContainerStatuses' if group == 'initContainers' else 'containerStatuses'}[{index}]"
    )
    if reason == "OOMKilled":
        limit = ((container.get("resources") or {}).get("limits") or {}).get("memory", "none")
        return Finding(
            f"container {name} is OOMKilled (CrashLoopBackOff, {cs.get('restartCount', 0)} restarts)",
            f"the process needs more memory than its limit of {limit}; the kernel kills it (exit code {exit_code})",
            [
                f"{status_base}.lastState.terminated.reason = OOMKilled, exitCode = {exit_code}",
                f"{field_base}.resources.limits.memory = {limit}",
            ],
            f"raise {field_base}.resources.limits.memory (and the request) above the working set, "
            "e.g. with set_resources, or reduce the app's memory use",
        )
    lines = [ln for ln in log.splitlines() if ln.strip()]
    key_error = next(
        (re.search(r"KeyError: '([A-Z0-9_]+)'", ln) for ln in reversed(lines) if "KeyError" in ln), None
    )
    env_names = {e.get("name") for e in container.get("env") or []}
    if key_error and key_error.group(1) not in env_names:
        var = key_error.group(1)
        return Finding(
            f"container {name} crashes at start-up (CrashLoopBackOff, exit code {exit_code})",
            f"the app reads environment variable {var}, which the pod spec does not set",
            [
                f'log line: "{key_error.group(0)}"',
                f"{field_base}.env has no {var} (it sets: {', '.join(sorted(n for n in env_names if n)) or 'nothing'})",
            ],
            f"set {var} on container {name} (patch the Deployment's pod template; a rollout follows)",
        )
    forbidden = next((ln for ln in reversed(lines) if "forbidden" in ln.lower()), None)
    if forbidden:
        sa = pod["spec"].get("serviceAccountName", "default")
        match = re.search(r'cannot (\w+) resource "([\w/.-]+)" in API group "([^"]*)"', forbidden)
        need = f" ({match.group(1)} {match.group(2)})" if match else ""
        return Finding(
            f"container {name} fails: its API calls are forbidden",
            f"ServiceAccount {sa} lacks the RBAC permission the app needs{need}",
            [f'log line: "{forbidden.strip()[:300]}"', f"spec.serviceAccountName = {sa}"],
            f"grant ServiceAccount {sa} a Role with exactly those verbs (synthesize_role proposes one, "
            "verified with access reviews)",
        )
    probe = _find_event(events, "Killing", "liveness")
    if probe:
        failed = _find_event(events, "Unhealthy", "Liveness") or probe
        return Finding(
            f"container {name} is restarted by its liveness probe",
            "the liveness probe checks a port or path the app does not serve",
            [failed, f"{field_base}.livenessProbe = {container.get('livenessProbe')}"],
            f"point {field_base}.livenessProbe at the app's health endpoint and port",
        )
    error_line = next((ln for ln in reversed(lines) if _ERROR_LINE.search(ln)), lines[-1] if lines else "")
    if reason == "Completed" or exit_code == 0:
        cause = "the main process exits successfully, but restartPolicy Always restarts it"
        fix = "run it as a Job, or give the container a long-running command"
    else:
        cause = f"the process exits with code {exit_code}" + (
            f"; last error in the logs: {error_line.strip()[:200]}" if error_line else ""
        )
        fix = "fix the error the logs show (configuration, command or dependency)"
    command = container.get("command") or container.get("args")
    evidence = [f"{status_base}.lastState.terminated: reason={reason}, exitCode={exit_code}"]
    if error_line:
        evidence.append(f'log line: "{error_line.strip()[:300]}"')
    if command:
        evidence.append(f"{field_base}.command/args = {command}")
    return Finding(
        f"container {name} is in CrashLoopBackOff ({cs.get('restartCount', 0)} restarts)",
        cause,
        evidence,
        fix,
    )


def _waiting_finding(
    index: int, container: dict[str, Any], waiting: dict[str, Any], events: list[dict[str, Any]]
) -> Finding | None:
    reason, message = waiting.get("reason", ""), waiting.get("message", "")
    field_base = f"spec.containers[{index}]"
    if reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
        pull = _find_event(events, "Failed", "Failed to pull image") or f'waiting message: "{message}"'
        not_found = "not found" in pull
        return Finding(
            f"container {container['name']} cannot start: {reason}",
            f"the image {container.get('image')} cannot be pulled"
            + (" (the tag or repository does not exist)" if not_found else ""),
            [pull, f"{field_base}.image = {container.get('image')}"],
            "set the image to a tag that exists (for a Deployment, roll back or set_image to the last good tag)",
        )
    if reason == "CreateContainerConfigError":
        return Finding(
            f"container {container['name']} cannot be created: {reason}",
            f"its configuration references something missing: {message}",
            [
                f'waiting message: "{message}"',
                f"{field_base}.env / envFrom = {container.get('env') or container.get('envFrom')}",
            ],
            "create the missing ConfigMap/Secret key, or fix the reference (or mark it optional)",
        )
    if reason == "ContainerCreating":
        mount = _find_event(events, "FailedMount")
        if mount:
            return Finding(
                f"container {container['name']} is stuck in ContainerCreating",
                "a volume cannot be mounted",
                [mount, "spec.volumes"],
                "create the missing ConfigMap/Secret/PVC or fix the volume's reference",
            )
    return None


def _claim_finding(
    access: KubeAccess, pod: dict[str, Any], events: list[dict[str, Any]], message: str
) -> Finding:
    namespace = pod["metadata"]["namespace"]
    evidence = [_find_event(events, "FailedScheduling") or f'condition PodScheduled: "{message}"']
    for vol in pod["spec"].get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if not claim:
            continue
        try:
            pvc = access.request("GET", f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{claim}")
        except KubeError:
            evidence.append(f"persistentvolumeclaim {claim}: does not exist")
            continue
        evidence.append(
            f"persistentvolumeclaim {claim}: phase {(pvc.get('status') or {}).get('phase')}, "
            f"storageClassName {(pvc.get('spec') or {}).get('storageClassName')}"
        )
        failed = _find_event(_events(access, namespace, claim), "ProvisioningFailed")
        if failed:
            evidence.append(failed)
    return Finding(
        "pod is Pending: its volume claim is not bound",
        "the PersistentVolumeClaim it mounts is missing or cannot be provisioned",
        evidence,
        "create the claim, or give it a StorageClass that exists and an access mode it supports",
    )


def diagnose_pod(
    access: KubeAccess, name: str, namespace: str, pod: dict[str, Any] | None = None
) -> PodReport:
    """`pod` is the pod as the caller already listed it; read here when None."""
    if pod is None:
        pod = access.request("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")
    events = _events(access, namespace, name)
    status = pod.get("status") or {}
    report = PodReport(
        name,
        namespace,
        f"{pod_status_text(pod)} (phase {status.get('phase', '?')})",
        events=[_event_text(e) for e in events],
    )
    scheduled = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
    if scheduled and scheduled.get("status") == "False":
        message = scheduled.get("message", "")
        requests = [
            f"spec.containers[{i}].resources.requests = {(c.get('resources') or {}).get('requests', {})}"
            for i, c in enumerate(pod["spec"].get("containers") or [])
        ]
        cause = "no node can take it"
        if "Insufficient cpu" in message or "Insufficient memory" in message:
            cause = "it requests more CPU/memory than any schedulable node has free"
        elif "were unschedulable" in message:
            cause = "the node(s) it could use are cordoned; every other node is ruled out by its selector, taints or size"
        elif "taint" in message:
            cause = "every node that could fit it has a taint the pod does not tolerate"
        elif "affinity" in message or "selector" in message:
            cause = "its nodeSelector/affinity matches no node"
        elif "free ports" in message:
            cause = "the hostPort it asks for is already taken on every node it may use"
        if "PersistentVolumeClaim" in message or "persistentvolumeclaim" in message:
            report.findings.append(_claim_finding(access, pod, events, message))
            return report
        report.findings.append(
            Finding(
                "pod is Pending: unschedulable",
                cause,
                [
                    _find_event(events, "FailedScheduling") or f'condition PodScheduled: "{message}"',
                    *requests,
                ],
                "lower the requests to fit a node, add capacity, or fix the selector/tolerations",
            )
        )
        return report
    init_by_name = {cs.get("name"): cs for cs in status.get("initContainerStatuses") or []}
    for index, container in enumerate(pod["spec"].get("initContainers") or []):
        cs = init_by_name.get(container["name"]) or {}
        state = cs.get("state") or {}
        if (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff" or (
            state.get("terminated") or {}
        ).get("exitCode", 0):
            previous = bool((cs.get("lastState") or {}).get("terminated"))
            log = _log(access, namespace, name, container["name"], previous)
            report.logs[f"{container['name']} (init)"] = log
            finding = _crash_finding(pod, index, container, cs, log, events, group="initContainers")
            finding.problem = f"init {finding.problem}; the app containers never start"
            report.findings.append(finding)
            return report
    containers = pod["spec"].get("containers") or []
    by_name = {cs.get("name"): cs for cs in status.get("containerStatuses") or []}
    for index, container in enumerate(containers):
        cs = by_name.get(container["name"]) or {}
        state = cs.get("state") or {}
        waiting = state.get("waiting") or {}
        crashed = (
            waiting.get("reason") == "CrashLoopBackOff"
            or (state.get("terminated") or {}).get("exitCode", 0) != 0
        )
        if crashed:
            previous = bool((cs.get("lastState") or {}).get("terminated"))
            log = _log(access, namespace, name, container["name"], previous)
            report.logs[container["name"]] = log
            report.findings.append(_crash_finding(pod, index, container, cs, log, events))
        elif waiting:
            waiting_finding = _waiting_finding(index, container, waiting, events)
            if waiting_finding:
                report.findings.append(waiting_finding)
        elif state.get("running") and not cs.get("ready"):
            unhealthy = _find_event(events, "Unhealthy", "Readiness")
            probe = container.get("readinessProbe")
            report.findings.append(
                Finding(
                    f"container {container['name']} is running but not Ready",
                    "its readiness probe fails, so Services send it no traffic",
                    [
                        unhealthy or "condition Ready=False",
                        f"spec.containers[{index}].readinessProbe = {probe}",
                        f"spec.containers[{index}].ports = {container.get('ports')}",
                    ],
                    "point the readiness probe at a port and path the app serves",
                )
            )
        if state.get("running") and container["name"] not in report.logs:
            report.logs[container["name"]] = _log(access, namespace, name, container["name"], False, tail=5)
    return report


def pod_of_workload(access: KubeAccess, workload: str, namespace: str) -> str | None:
    """The least healthy pod whose name shows it belongs to `workload` (`<workload>-<hash>-<id>`)."""
    pods = access.request("GET", f"/api/v1/namespaces/{namespace}/pods").get("items", [])
    mine = [p for p in pods if p["metadata"]["name"].startswith(f"{workload}-")]
    if not mine:
        return None

    def health(pod: dict[str, Any]) -> tuple[int, str]:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        ready = bool(statuses) and all(s.get("ready") for s in statuses)
        return (1 if ready else 0, pod["metadata"]["name"])

    return str(min(mine, key=health)["metadata"]["name"])


def diagnose_workload(access: KubeAccess, kind: str, name: str, namespace: str) -> tuple[str, dict[str, Any]]:
    """A Deployment (or StatefulSet, DaemonSet, Job): its rollout state and each distinct pod problem,
    as text for the model and a `kubernetes.diagnosis` artifact."""
    resolved = access.resolve(kind)
    obj = access.request("GET", resolved.path(namespace, name))
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    selector = ",".join(
        f"{k}={v}" for k, v in ((spec.get("selector") or {}).get("matchLabels") or {}).items()
    )
    pods = (
        access.request("GET", f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": selector}).get(
            "items", []
        )
        if selector
        else []
    )
    state = (
        f"desired {spec.get('replicas', '?')}, ready {status.get('readyReplicas', 0)}, "
        f"up-to-date {status.get('updatedReplicas', 0)}, available {status.get('availableReplicas', 0)}"
    )
    lines = [f"{resolved.kind} {namespace}/{name}: {state}"]
    conditions = [
        f"condition {c.get('type')}={c.get('status')} ({c.get('reason', '')}): {c.get('message', '')}"
        for c in status.get("conditions") or []
    ]
    if conditions:
        lines.append(as_data(f"conditions of {resolved.kind.lower()} {name}", "\n".join(conditions)))
    seen: set[str] = set()
    healthy = 0
    findings: list[Finding] = []
    logs: dict[str, str] = {}
    for pod in pods:
        report = diagnose_pod(access, pod["metadata"]["name"], namespace, pod)
        if not report.findings:
            healthy += 1
            continue
        key = report.findings[0].cause
        if key in seen:
            continue
        seen.add(key)
        findings += report.findings
        logs.update({f"{report.name}/{c}": text for c, text in report.logs.items()})
        lines.append(report.text())
    if pods and healthy:
        lines.append(
            f"{healthy} of {len(pods)} pods are healthy"
            + (
                " (the previous ReplicaSet keeps serving while the rollout is stuck)"
                if healthy < len(pods) and status.get("updatedReplicas", 0) < spec.get("replicas", 0)
                else ""
            )
        )
    if not pods:
        lines.append("no pods match the selector")
    artifact = {
        "kind": "kubernetes.diagnosis",
        "subject": f"{resolved.kind} {namespace}/{name}",
        "status": state,
        "findings": [f.as_dict() for f in findings],
        "events": [],
        "logs": logs,
    }
    return "\n".join(lines), artifact
