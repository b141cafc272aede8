"""Apply right-sizing: patch a workload's container requests/limits (mutating: behind the approval gate).

The preview is a server-side dry run of the same patch, the resource diff, and the monthly cost delta at
OpenCost-style unit prices of the cheapest on-demand offering.
"""

from __future__ import annotations

from typing import Any

from tools.base import PreconditionFailedError
from tools.cost.allocation import CPU_TO_RAM_PRICE_RATIO
from tools.cost.catalog import PriceCatalog
from tools.cost.cluster import ClusterWorkload
from tools.cost.engine import HOURS_PER_MONTH, default_offerings
from tools.cost.rightsize import ContainerResources, Recommendation
from tools.quantity import format_cpu, format_memory

__all__ = ["apply_patch", "cost_delta_monthly", "find_workload", "resource_diff", "resource_patch"]

_KINDS = ("Deployment", "StatefulSet")


def find_workload(workloads: list[ClusterWorkload], namespace: str | None, workload: str) -> ClusterWorkload:
    """The workload `workload` names: `ns/Kind/name` (the id `rightsize` prints), `Kind/name` or `name`
    in `namespace`. A namespace both in the id and given must agree; anything else is an error naming it."""
    parts = workload.strip().split("/")
    kind: str | None
    if len(parts) == 3:
        ns, kind, name = parts
        if namespace and namespace != ns:
            raise ValueError(f"workload {workload!r} is in namespace {ns!r}, not {namespace!r}")
    elif len(parts) in (1, 2) and namespace:
        ns, kind, name = namespace, (parts[0] if len(parts) == 2 else None), parts[-1]
    else:
        raise ValueError(
            f"workload {workload!r}: give namespace/Kind/name as rightsize prints it "
            "(e.g. shop/Deployment/cart), or a namespace and the name"
        )
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"workload {workload!r}: kind {kind!r} is not Deployment or StatefulSet")
    found = [w for w in workloads if (w.namespace, w.name) == (ns, name) and kind in (None, w.kind)]
    if len(found) != 1:
        what = (
            "no Deployment or StatefulSet of that name"
            if not found
            else "both a Deployment and a StatefulSet"
        )
        names = sorted(w.key for w in workloads if w.namespace == ns)[:10]
        hint = f" (in {ns}: {', '.join(names)})" if names and not found else " (name the kind: ns/Kind/name)"
        raise ValueError(f"workload {workload!r} in namespace {ns!r}: {what}{hint}")
    return found[0]


def resource_patch(recs: list[Recommendation]) -> dict[str, Any]:
    """A strategic-merge patch setting each container's requests and limits (no CPU limit: krr's advice)."""
    containers = []
    for r in recs:
        if not r.changed():
            continue
        rec = r.recommended
        requests: dict[str, str] = {}
        limits: dict[str, str | None] = {"cpu": None}
        if rec.cpu_request_m is not None:
            requests["cpu"] = format_cpu(rec.cpu_request_m)
        if rec.memory_request_mib is not None:
            requests["memory"] = format_memory(rec.memory_request_mib)
        if rec.memory_limit_mib is not None:
            limits["memory"] = format_memory(rec.memory_limit_mib)
        containers.append({"name": r.container, "resources": {"requests": requests, "limits": limits}})
    return {"spec": {"template": {"spec": {"containers": containers}}}}


def _fmt(res: ContainerResources) -> dict[str, str | None]:
    def f(v: float | None, fn: Any) -> str | None:
        return None if v is None else str(fn(v))

    return {
        "cpu_request": f(res.cpu_request_m, format_cpu),
        "cpu_limit": f(res.cpu_limit_m, format_cpu),
        "memory_request": f(res.memory_request_mib, format_memory),
        "memory_limit": f(res.memory_limit_mib, format_memory),
    }


def resource_diff(recs: list[Recommendation]) -> list[str]:
    lines = []
    for r in recs:
        before, after = _fmt(r.current), _fmt(r.recommended)
        for key in before:
            if before[key] != after[key]:
                lines.append(f"{r.workload}/{r.container} {key}: {before[key]} -> {after[key]}")
    return lines


def cost_delta_monthly(recs: list[Recommendation], replicas: int, catalog: PriceCatalog) -> float:
    """Monthly change in allocated cost (negative saves) at the cheapest default on-demand unit prices."""
    offers = [o for o in default_offerings(catalog) if o.capacity_type == "on-demand"]
    if not offers:
        return 0.0
    o = min(
        offers, key=lambda o: o.usd_per_hour / (CPU_TO_RAM_PRICE_RATIO * o.cpu_m / 1000 + o.memory_mib / 1024)
    )
    ram = o.usd_per_hour / (CPU_TO_RAM_PRICE_RATIO * o.cpu_m / 1000 + o.memory_mib / 1024)
    cpu = ram * CPU_TO_RAM_PRICE_RATIO
    delta = 0.0
    for r in recs:
        if not r.changed():
            continue
        d_cpu = ((r.recommended.cpu_request_m or 0) - (r.current.cpu_request_m or 0)) / 1000
        d_mem = ((r.recommended.memory_request_mib or 0) - (r.current.memory_request_mib or 0)) / 1024
        delta += (d_cpu * cpu + d_mem * ram) * replicas
    return round(delta * HOURS_PER_MONTH, 2)


def apply_patch(
    api_client: Any,
    namespace: str,
    kind: str,
    name: str,
    patch: dict[str, Any],
    dry_run: bool,
    resource_version: str | None = None,
) -> Any:
    """PATCH the workload; with `resource_version` (an approved preview's), only if it is still at it:
    else PreconditionFailedError and nothing is written."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    apps: Any = client.AppsV1Api(api_client)
    fn = apps.patch_namespaced_deployment if kind == "Deployment" else apps.patch_namespaced_stateful_set
    if resource_version is not None:
        patch = {**patch, "metadata": {**patch.get("metadata", {}), "resourceVersion": resource_version}}
    try:
        return fn(name, namespace, patch, dry_run="All" if dry_run else None)
    except ApiException as exc:
        if resource_version is not None and exc.status == 409:
            raise PreconditionFailedError(
                f"{kind} {namespace}/{name} changed since the preview (it was at resourceVersion "
                f"{resource_version}): {exc.reason}"
            ) from exc
        raise
