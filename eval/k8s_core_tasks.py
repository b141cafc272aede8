"""Setup and grading of k8s-ai-bench's core tasks on the sandbox, written here from each task's prompt and
verifier summary (upstream's setup.sh and verify.sh scripts are not shipped).

A setup builds the smallest cluster state the prompt presupposes (the task's own manifests where it has
them); a grader checks the resulting objects with the official client, and where upstream's verify.sh
looks inside a container (an env var, a file, an HTTP fetch) it does the same through `exec`, which the
sandbox emulates. Each grader returns the checks that fail (empty: the task is solved).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["CORE_TASKS", "NOT_GRADED", "apply_manifests", "grade_core", "setup_core"]

NOT_GRADED: dict[str, str] = {
    "setup-dev-cluster": "its multi-tenant setup and checks (quotas, policies, per-user access) are not written yet",
    "debug-app-logs": "its ConfigMap holds a Python script upstream, which was not copied (no code is shipped)",
    "fix-oomkilled": "disabled upstream",
}


def apply_manifests(
    api: Any, texts: list[str], namespace: str = "", extra_namespaces: tuple[str, ...] = ()
) -> None:
    """`kubectl apply [-n namespace]` of the manifests: namespaces first, then each object created or replaced."""
    import yaml  # type: ignore[import-untyped]
    from kubernetes import client
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ConflictError

    docs = [d for text in texts for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    for d in docs:
        if namespace and d.get("kind") != "Namespace":
            d.setdefault("metadata", {}).setdefault("namespace", namespace)
    namespaces = {d.get("metadata", {}).get("namespace") for d in docs} | set(extra_namespaces) | {namespace}
    core: Any = _api(client.CoreV1Api, api)
    existing = {n.metadata.name for n in core.list_namespace().items}
    for ns in sorted(n for n in namespaces if n and n not in existing):
        core.create_namespace({"metadata": {"name": ns}})
    dynamic: Any = DynamicClient(api)  # type: ignore[no-untyped-call]
    for doc in docs:
        if doc.get("kind") == "Namespace":
            continue
        resource = dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        ns = doc["metadata"].get("namespace")
        try:
            resource.create(body=doc, namespace=ns)
        except ConflictError:  # the same object twice in the manifests: the later one wins, as with apply
            current = resource.get(name=doc["metadata"]["name"], namespace=ns)
            doc["metadata"]["resourceVersion"] = current.metadata.resourceVersion
            resource.replace(body=doc, namespace=ns)


def _deployment(
    name: str, ns: str, image: str, replicas: int = 1, labels: dict[str, str] | None = None, **container: Any
) -> str:
    import yaml  # type: ignore[import-untyped]

    labels = labels or {"app": name}
    spec = {"name": name, "image": image, "ports": [{"containerPort": 80}], **container}
    return str(
        yaml.safe_dump(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": ns, "labels": labels},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": {"containers": [spec]}},
                },
            }
        )
    )


def _service(name: str, ns: str, selector: dict[str, str]) -> str:
    return (
        f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\n"
        f"spec: {{selector: {selector}, ports: [{{port: 80, targetPort: 80}}]}}\n"
    )


# task id -> (namespace for manifests without one, manifests written here)
_SETUPS: dict[str, tuple[str, list[str]]] = {
    "create-canary-deployment": ("canary-deployment-ns", []),
    "create-pod": ("web-server", []),
    "deployment-traffic-switch": ("e-commerce", []),
    "fix-crashloop": (
        "crashloop-test",
        [
            _deployment(
                "app",
                "crashloop-test",
                "busybox:1.36",
                labels={"app": "nginx"},
                command=["sh", "-c", "echo starting; exit 1"],
            )
        ],
    ),
    "fix-image-pull": ("debug", [_deployment("app", "debug", "nginx:nonexistent-tag")]),
    "fix-probes": (
        "orders",
        [
            _deployment(  # the demo backend serves / and /healthz on 8080; nginx here answers every path
                "webapp",
                "orders",
                "ghcr.io/opsgraph-demo/backend:1.2.0",
                livenessProbe={"httpGet": {"path": "/get_status", "port": 8080}, "periodSeconds": 5},
                readinessProbe={"httpGet": {"path": "/is_ready", "port": 8080}, "periodSeconds": 5},
            )
        ],
    ),
    "fix-service-routing": (
        "web",
        [_deployment("nginx", "web", "nginx:1.27"), _service("nginx", "web", {"app": "nginx-web"})],
    ),
    "horizontal-pod-autoscaler": (
        "hpa-test",
        [_deployment("web-app", "hpa-test", "nginx:1.27", resources={"requests": {"cpu": "100m"}})],
    ),
    "rolling-update-deployment": (
        "rollout-test",
        [_deployment("web-app", "rollout-test", "nginx:1.21", replicas=3)],
    ),
    "scale-deployment": ("scale-test", [_deployment("web-app", "scale-test", "nginx:1.27")]),
    "scale-down-deployment": (
        "scale-down-test",
        [_deployment("web-service", "scale-down-test", "nginx:1.27", replicas=2)],
    ),
    "multi-container-pod-communication": ("multi-container-logging", []),
    "statefulset-lifecycle": ("statefulset-test", []),
}


def setup_core(api: Any, task: dict[str, Any]) -> None:
    namespace, written = _SETUPS.get(task["id"], ("", []))
    artifacts = [text for name, text in sorted(task["files"].items()) if name.startswith("artifacts/")]
    apply_manifests(api, artifacts + written, namespace)


# graders ------------------------------------------------------------------------------------------


def _exec(api: Any, ns: str, pod: str, command: list[str], container: str = "") -> str:
    from kubernetes import client
    from kubernetes.stream import stream

    kwargs = {"container": container} if container else {}
    return str(
        stream(
            _api(client.CoreV1Api, api).connect_get_namespaced_pod_exec,
            pod,
            ns,
            command=command,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            **kwargs,
        )
    )


def _api(cls: Any, api: Any) -> Any:
    """A typed API of the official client, as Any: the graders read optional fields freely and fail on None."""
    return cls(api)


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _pod(api: Any, ns: str, name: str) -> tuple[Any, list[str]]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        pod = _api(client.CoreV1Api, api).read_namespaced_pod(name, ns)
    except ApiException as exc:
        return None, [f"pod {ns}/{name} not found ({exc.status})"]
    return pod, [] if _ready(pod) else [f"pod {ns}/{name} is not Ready"]


def _available(api: Any, ns: str, name: str, replicas: int | None = None, image: str = "") -> list[str]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        dep = _api(client.AppsV1Api, api).read_namespaced_deployment(name, ns)
    except ApiException as exc:
        return [f"deployment {ns}/{name} not found ({exc.status})"]
    got = dep.status.available_replicas or 0
    failed = []
    if (replicas is None and got < 1) or (replicas is not None and got != replicas):
        failed.append(f"deployment {name}: {got} available replicas, wanted {replicas or '>= 1'}")
    if image and not all(c.image.endswith(image) for c in dep.spec.template.spec.containers):
        failed.append(
            f"deployment {name} runs {[c.image for c in dep.spec.template.spec.containers]}, not {image}"
        )
    return failed


def _endpoints(api: Any, ns: str, name: str, at_least: int = 1) -> list[str]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        ep = _api(client.CoreV1Api, api).read_namespaced_endpoints(name, ns)
    except ApiException:
        return [f"service {ns}/{name} has no Endpoints object"]
    ready = sum(len(s.addresses or []) for s in ep.subsets or [])
    return (
        []
        if ready >= at_least
        else [f"service {ns}/{name} has {ready} ready endpoints, wanted >= {at_least}"]
    )


def _fetch(api: Any, ns: str, url: str) -> list[str]:
    """An in-cluster HTTP fetch from a throwaway busybox pod, as upstream's `kubectl run ... wget`."""
    from kubernetes import client

    core: Any = _api(client.CoreV1Api, api)
    name = "grader-probe"
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": name},
            "spec": {
                "containers": [
                    {"name": "probe", "image": "busybox:1.36", "command": ["sh", "-c", "sleep 3600"]}
                ]
            },
        },
    )
    try:
        out = _exec(api, ns, name, ["sh", "-c", f"wget -qO- -T 5 {url} || echo FETCH-FAILED"])
    finally:
        core.delete_namespaced_pod(name, ns)
    return (
        []
        if "FETCH-FAILED" not in out and out.strip()
        else [f"wget {url} from a pod failed: {out.strip()[:200]}"]
    )


def _canary(api: Any) -> list[str]:
    from kubernetes import client

    ns = "canary-deployment-ns"
    failed = _available(api, ns, "engine-v2-1", image=":1.29") + _available(api, ns, "engine-v2-0", 2)
    svc = _api(client.CoreV1Api, api).read_namespaced_service("recommendation-engine", ns)
    if (svc.spec.selector or {}).get("version"):
        failed.append(f"service recommendation-engine still selects one version: {svc.spec.selector}")
    return failed + _endpoints(api, ns, "recommendation-engine", 3)


def _configmaps(api: Any) -> list[str]:
    ns = "color-size-settings"
    pod, failed = _pod(api, ns, "pod1")
    if pod is None:
        return failed
    if not pod.spec.containers[0].image.startswith("nginx:alpine"):
        failed.append(f"pod1 runs {pod.spec.containers[0].image}")
    if failed:
        return failed
    color = _exec(api, ns, "pod1", ["printenv", "COLOR"]).strip()
    size = _exec(api, ns, "pod1", ["cat", "/etc/sizes/size"]).strip()
    return [
        f"{what} is {got!r}, wanted {want!r}"
        for what, got, want in (("$COLOR", color, "blue"), ("/etc/sizes/size", size, "medium"))
        if got != want
    ]


def _limits(api: Any) -> list[str]:
    pod, failed = _pod(api, "limits-test", "resource-limits-pod")
    if pod is None:
        return failed
    c = next((c for c in pod.spec.containers if c.name == "my-container"), None)
    if c is None:
        return [*failed, "no container my-container"]
    want = {"requests": {"cpu": "60m", "memory": "62Mi"}, "limits": {"cpu": "600m", "memory": "62Mi"}}
    got = {"requests": c.resources.requests or {}, "limits": c.resources.limits or {}}
    if got != want:
        failed.append(f"resources are {got}, wanted {want}")
    if not c.image.startswith("httpd:alpine"):
        failed.append(f"image is {c.image}")
    return failed


def _pods_ready(api: Any, ns: str, selector: str) -> list[str]:
    from kubernetes import client

    pods = _api(client.CoreV1Api, api).list_namespaced_pod(ns, label_selector=selector).items
    live = [p for p in pods if not p.metadata.deletion_timestamp]
    bad = [p.metadata.name for p in live if not _ready(p)]
    return [f"pods {selector} in {ns}: {bad or 'none'} not Ready"] if bad or not live else []


def _probes(api: Any) -> list[str]:
    from kubernetes import client

    failed = _pods_ready(api, "orders", "app=webapp")
    dep = _api(client.AppsV1Api, api).read_namespaced_deployment("webapp", "orders")
    c = dep.spec.template.spec.containers[0]
    for kind, probe in (("liveness", c.liveness_probe), ("readiness", c.readiness_probe)):
        if probe is None:
            failed.append(f"the {kind} probe was removed")
        elif probe.http_get and probe.http_get.path in ("/get_status", "/is_ready"):
            failed.append(f"the {kind} probe still checks {probe.http_get.path}")
    return failed


def _hpa(api: Any) -> list[str]:
    from kubernetes import client

    hpas = _api(client.AutoscalingV2Api, api).list_namespaced_horizontal_pod_autoscaler("hpa-test").items
    mine = [h for h in hpas if h.spec.scale_target_ref.name == "web-app"]
    if not mine:
        return ["no HPA in hpa-test targets web-app"]
    h = mine[0]
    cpu = [
        m.resource.target.average_utilization
        for m in h.spec.metrics or []
        if m.resource and m.resource.name == "cpu"
    ]
    failed = (
        []
        if (h.spec.min_replicas, h.spec.max_replicas, cpu) == (1, 3, [50])
        else [f"HPA min/max/cpu = {h.spec.min_replicas}/{h.spec.max_replicas}/{cpu}, wanted 1/3/[50]"]
    )
    if not any(c.type == "AbleToScale" and c.status == "True" for c in h.status.conditions or []):
        failed.append("condition AbleToScale is not True")
    return failed


def _multi(api: Any) -> list[str]:
    ns = "multi-container-logging"
    pod, failed = _pod(api, ns, "communication-pod")
    if pod is None:
        return failed
    names = {c.name for c in pod.spec.containers + (pod.spec.init_containers or [])}
    if not {"web-server", "logger"} <= names:
        failed.append(f"containers are {sorted(names)}")
    if "logs-volume" not in {v.name for v in pod.spec.volumes or []}:
        failed.append("no volume logs-volume")
    if (
        not failed
        and "nginx"
        not in _exec(
            api, ns, "communication-pod", ["wget", "-qO-", "http://localhost/"], "web-server"
        ).lower()
    ):
        failed.append("web-server does not answer on localhost:80")
    return failed


def _resize(api: Any) -> list[str]:
    from kubernetes import client

    pvc = _api(client.CoreV1Api, api).read_namespaced_persistent_volume_claim("storage-pvc", "resize-pv")
    got = (pvc.status.capacity or {}).get("storage")
    return [] if got == "15Gi" else [f"storage-pvc capacity is {got}, wanted 15Gi"]


def _rollout(api: Any) -> list[str]:
    from kubernetes import client

    failed = _available(api, "rollout-test", "web-app", 3, ":1.22")
    pods = _api(client.CoreV1Api, api).list_namespaced_pod("rollout-test", label_selector="app=web-app").items
    old = [p.metadata.name for p in pods if not p.spec.containers[0].image.endswith(":1.22")]
    return failed + ([f"pods still on the old image: {old}"] if old else [])


def _statefulset(api: Any) -> list[str]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    ns = "statefulset-test"
    try:
        sts = _api(client.AppsV1Api, api).read_namespaced_stateful_set("db", ns)
    except ApiException as exc:
        return [f"statefulset db not found ({exc.status})"]
    failed = [] if sts.spec.replicas == 1 else [f"statefulset db has {sts.spec.replicas} replicas, wanted 1"]
    names = {p.metadata.name for p in _api(client.CoreV1Api, api).list_namespaced_pod(ns).items}
    failed += [f"pod {p} still exists" for p in ("db-1", "db-2") if p in names]
    pod, problems = _pod(api, ns, "db-0")
    failed += problems
    if pod is not None and not problems:
        content = _exec(api, ns, "db-0", ["cat", "/data/test"]).strip()
        if content != "initial_data":
            failed.append(f"/data/test in db-0 holds {content[:80]!r}")
    return failed


def _pvc_bound(api: Any) -> list[str]:
    from kubernetes import client

    pvc = _api(client.CoreV1Api, api).read_namespaced_persistent_volume_claim("homepage-pvc", "homepage-ns")
    failed = [] if pvc.status.phase == "Bound" else [f"homepage-pvc is {pvc.status.phase}"]
    return failed + _pod(api, "homepage-ns", "homepage-pod")[1]


def _create_pod(api: Any) -> list[str]:
    pod, failed = _pod(api, "web-server", "web-server")
    if pod is not None and "nginx" not in pod.spec.containers[0].image:
        failed.append(f"pod web-server runs {pod.spec.containers[0].image}, not nginx")
    return failed


def _switch(api: Any) -> list[str]:
    from kubernetes import client

    svc = _api(client.CoreV1Api, api).read_namespaced_service("checkout-service", "e-commerce")
    failed = (
        [] if (svc.spec.selector or {}).get("version") == "green" else [f"selector is {svc.spec.selector}"]
    )
    return failed + _endpoints(api, "e-commerce", "checkout-service")


CORE_TASKS: dict[str, Callable[[Any], list[str]]] = {
    "create-canary-deployment": _canary,
    "create-pod": _create_pod,
    "create-pod-mount-configmaps": _configmaps,
    "create-pod-resources-limits": _limits,
    "deployment-traffic-switch": _switch,
    "fix-crashloop": lambda api: _pods_ready(api, "crashloop-test", "app=nginx"),
    "fix-image-pull": lambda api: _available(api, "debug", "app"),
    "fix-pending-pod": _pvc_bound,
    "fix-probes": _probes,
    "fix-service-routing": lambda api: (
        _endpoints(api, "web", "nginx") or _fetch(api, "web", "http://nginx.web.svc/")
    ),
    "fix-service-with-no-endpoints": lambda api: (
        _pods_ready(api, "webshop-frontend", "app=web-app")
        + _endpoints(api, "webshop-frontend", "web-app-service")
    ),
    "horizontal-pod-autoscaler": _hpa,
    "multi-container-pod-communication": _multi,
    "resize-pvc": _resize,
    "rolling-update-deployment": _rollout,
    "scale-deployment": lambda api: _available(api, "scale-test", "web-app", 2),
    "scale-down-deployment": lambda api: _available(api, "scale-down-test", "web-service", 1),
    "statefulset-lifecycle": _statefulset,
}


def grade_core(api: Any, task_id: str) -> list[str]:
    """The failing checks of a core task (empty when it is solved); a check that raises fails with its error."""
    try:
        return CORE_TASKS[task_id](api)
    except Exception as exc:  # a missing object the grader reads, a refused exec: the task is not solved
        return [f"{type(exc).__name__}: {str(exc)[:200]}"]
