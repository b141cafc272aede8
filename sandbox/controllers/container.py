"""One container's fate on a node: pulled or not, created or not, running, crashing or done."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.images import Image, lookup_image, pull_error
from sandbox.quantity import parse_quantity

__all__ = ["Outcome", "World", "container_outcome"]

_MIB = 1024 * 1024


@dataclass
class World:
    """What a container can see of the cluster: ConfigMaps, Secrets, and whether its ServiceAccount may call the API."""

    configmaps: dict[str, dict[str, str]]
    secrets: dict[str, dict[str, str]]
    can: Any  # Callable[[verb, group, resource], bool] for the pod's ServiceAccount
    exited: dict[str, int] = field(default_factory=dict)
    """Container name → exit code of a main process that ended in an attached session (`exit` in `kubectl run -it`)."""


@dataclass
class Outcome:
    state: str  # running | waiting | terminated
    reason: str = ""
    message: str = ""
    exit_code: int = 0
    last_reason: str = ""
    last_exit_code: int = 0
    ready: bool = True
    logs: list[str] = field(default_factory=list)
    events: list[tuple[str, str, str]] = field(default_factory=list)


def _env_problem(container: dict[str, Any], world: World, namespace: str) -> tuple[str, set[str]]:
    names: set[str] = set()
    for env in container.get("env") or []:
        source = env.get("valueFrom") or {}
        for ref_key, store, label in (
            ("configMapKeyRef", world.configmaps, "ConfigMap"),
            ("secretKeyRef", world.secrets, "Secret"),
        ):
            ref = source.get(ref_key)
            if not ref or ref.get("optional"):
                continue
            data = store.get(ref.get("name", ""))
            if data is None:
                return f'{label.lower()} "{ref.get("name")}" not found', names
            if ref.get("key") not in data:
                return f"couldn't find key {ref.get('key')} in {label} {namespace}/{ref.get('name')}", names
        names.add(env.get("name", ""))
    for env_from in container.get("envFrom") or []:
        for ref_key, store, _label in (
            ("configMapRef", world.configmaps, "ConfigMap"),
            ("secretRef", world.secrets, "Secret"),
        ):
            ref = env_from.get(ref_key)
            if not ref:
                continue
            data = store.get(ref.get("name", ""))
            if data is None:
                if not ref.get("optional"):
                    return f'{ref_key[:-3].lower()} "{ref.get("name")}" not found', names
                continue
            names.update(f"{env_from.get('prefix', '')}{k}" for k in data)
    return "", names


def _shell_exit(container: dict[str, Any]) -> int | None:
    """Exit code of a shell image's command; None when it keeps running."""
    script = " ".join(str(p) for p in (container.get("command") or []) + (container.get("args") or []))
    if container.get("stdin") and script.strip().rsplit("/", 1)[-1] in ("", "sh", "bash", "ash", "cat"):
        return None  # a shell (or cat) reading an open stdin waits for input, as `kubectl run -it` starts it
    if not script.strip():
        return 0
    match = re.search(r"\bexit\s+(\d+)", script)
    if match and int(match.group(1)) != 0:
        return int(match.group(1))
    if re.search(r"\b(sleep|tail\s+-f|while\s+true|httpd|nc\s+-l)\b", script) and "sleep 0" not in script:
        return None
    if re.search(r"(^|\s)false(\s|;|$)", script):
        return 1
    return 0


def _echoed(container: dict[str, Any]) -> list[str]:
    """What a shell command prints with `echo`: the lines its logs hold."""
    script = " ".join(str(p) for p in (container.get("command") or []) + (container.get("args") or []))
    pattern = r"""echo\s+(?:-e\s+)?(?:"([^"]*)"|'([^']*)'|([^;&|]+))"""
    return [m.group(1) or m.group(2) or (m.group(3) or "").strip() for m in re.finditer(pattern, script)]


_KUBECTL = re.compile(r"\bkubectl\s+(get|list|describe|delete|create|apply)\s+([a-z][a-z0-9.]*)")


def _kubectl_denied(container: dict[str, Any], world: World, fmt: dict[str, str]) -> str:
    """The Forbidden error a `kubectl get pods` in the container gets from RBAC, or ""."""
    script = " ".join(str(p) for p in (container.get("command") or []) + (container.get("args") or []))
    match = _KUBECTL.search(script)
    if not match:
        return ""
    verb = {"get": "list", "describe": "get"}.get(match.group(1), match.group(1))
    res = {"po": "pods", "pod": "pods", "svc": "services", "deploy": "deployments", "cm": "configmaps"}.get(
        match.group(2), match.group(2)
    )
    group = "apps" if res in ("deployments", "replicasets", "statefulsets", "daemonsets") else ""
    if world.can(verb, group, res):
        return ""
    return (
        f'Error from server (Forbidden): {res} is forbidden: User "system:serviceaccount:{fmt["namespace"]}:'
        f'{fmt["serviceaccount"]}" cannot {verb} resource "{res}" in API group "{group}" in the namespace '
        f'"{fmt["namespace"]}"'
    )


def _probe_failure(
    probe: dict[str, Any] | None,
    container: dict[str, Any],
    served_ports: tuple[int, ...],
    image: Image,
    pod_ip: str,
) -> str:
    if not probe:
        return ""
    named = {p.get("name"): p.get("containerPort") for p in container.get("ports") or []}
    if "httpGet" in probe:
        get = probe["httpGet"]
        port = named.get(get.get("port"), get.get("port"))
        path = get.get("path", "/")
        if port not in served_ports:
            return (
                f'Get "http://{pod_ip}:{port}{path}": dial tcp {pod_ip}:{port}: connect: connection refused'
            )
        if not image.serves(path):  # the kubelet passes 200-399 only; the image's server says 404
            return "HTTP probe failed with statuscode: 404"
    elif "tcpSocket" in probe:
        port = named.get(probe["tcpSocket"].get("port"), probe["tcpSocket"].get("port"))
        if port not in served_ports:
            return f"dial tcp {pod_ip}:{port}: connect: connection refused"
    elif "exec" in probe:
        command = " ".join(probe["exec"].get("command") or [])
        if re.search(r"\b(false|exit\s+[1-9])", command):
            return f"command {command!r} exited with 1"
    return ""


def container_outcome(
    pod: dict[str, Any], container: dict[str, Any], world: World, pod_ip: str, init: bool = False
) -> Outcome:
    """Decide what this container does, with the events and logs a node would produce."""
    meta, spec = pod["metadata"], pod["spec"]
    name, image_ref = container.get("name", ""), str(container.get("image", ""))
    image = lookup_image(image_ref)
    error = pull_error(image_ref)
    if error:
        return Outcome(
            "waiting",
            "ImagePullBackOff",
            f'Back-off pulling image "{image_ref}"',
            ready=False,
            events=[
                ("Normal", "Pulling", f'Pulling image "{image_ref}"'),
                ("Warning", "Failed", f'Failed to pull image "{image_ref}": {error}'),
                ("Warning", "Failed", "Error: ErrImagePull"),
                ("Normal", "BackOff", f'Back-off pulling image "{image_ref}"'),
                ("Warning", "Failed", "Error: ImagePullBackOff"),
            ],
        )
    pulled = [("Normal", "Pulled", f'Container image "{image_ref}" already present on machine')]
    problem, env_names = _env_problem(container, world, meta["namespace"])
    if problem:
        return Outcome(
            "waiting",
            "CreateContainerConfigError",
            problem,
            ready=False,
            events=[*pulled, ("Warning", "Failed", f"Error: {problem}")],
        )
    started = [
        *pulled,
        ("Normal", "Created", f"Created container {name}"),
        ("Normal", "Started", f"Started container {name}"),
    ]
    fmt = {
        "namespace": meta["namespace"],
        "serviceaccount": spec.get("serviceAccountName", "default"),
        "pod": meta["name"],
    }
    exit_code: int | None = None
    reason, logs = "", list(image.start_log)
    missing = [v for v in image.required_env if v not in env_names]
    limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    if image.shell:
        exit_code = world.exited.get(name, _shell_exit(container))
        reason = "Completed" if exit_code == 0 else "Error"
        logs = _echoed(container)
        denied = _kubectl_denied(container, world, fmt)
        if denied:
            exit_code, reason, logs = 1, "Error", [denied]
    elif missing:
        exit_code, reason = 1, "Error"
        logs = [line.format(var=missing[0], **fmt) for line in image.crash_log]
    elif limit is not None and image.memory_mib * _MIB > parse_quantity(limit):
        exit_code, reason = 137, "OOMKilled"
        logs = logs[:-1] if len(logs) > 1 else logs
    elif image.needs_api and not all(world.can(*call) for call in image.needs_api):
        exit_code, reason = 255, "Error"
        logs = [line.format(**fmt) for line in image.crash_log]
    if exit_code is not None:
        policy = spec.get("restartPolicy", "Always")
        if policy == "Never" or (policy == "OnFailure" and exit_code == 0) or (init and exit_code == 0):
            return Outcome("terminated", reason, "", exit_code, ready=False, logs=logs, events=started)
        message = f"back-off 5m0s restarting failed container={name} pod={meta['name']}_{meta['namespace']}({meta.get('uid')})"
        return Outcome(
            "waiting",
            "CrashLoopBackOff",
            message,
            last_reason=reason,
            last_exit_code=exit_code,
            ready=False,
            logs=logs,
            events=[
                *started,
                (
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {name} in pod {meta['name']}_{meta['namespace']}({meta.get('uid')})",
                ),
            ],
        )
    outcome = Outcome("running", logs=logs, events=started)
    served = image.ports or tuple(p.get("containerPort") for p in container.get("ports") or [])
    liveness = _probe_failure(container.get("livenessProbe"), container, served, image, pod_ip)
    if liveness:
        outcome = Outcome(
            "waiting",
            "CrashLoopBackOff",
            f"back-off 5m0s restarting failed container={name}",
            last_reason="Error",
            last_exit_code=137,
            ready=False,
            logs=logs,
            events=[
                *started,
                ("Warning", "Unhealthy", f"Liveness probe failed: {liveness}"),
                ("Normal", "Killing", f"Container {name} failed liveness probe, will be restarted"),
            ],
        )
        return outcome
    readiness = _probe_failure(container.get("readinessProbe"), container, served, image, pod_ip)
    if readiness:
        outcome.ready = False
        outcome.events.append(("Warning", "Unhealthy", f"Readiness probe failed: {readiness}"))
    return outcome
