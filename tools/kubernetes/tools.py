"""The Kubernetes agent's LangChain tools. Reads are free; every write is declared mutating, previews
itself with a server-side `dryRun=All` and a diff, and repeats that dry run before the real write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel

from tools.base import ToolContext, expected_state, mark_mutating
from tools.kubernetes import reads
from tools.kubernetes.access import KubeAccess, KubeError
from tools.kubernetes.diagnose import diagnose_pod as _diagnose_pod
from tools.kubernetes.diagnose import diagnose_workload, pod_of_workload
from tools.kubernetes.exec import build_exec_tool
from tools.kubernetes.metrics import MetricsError, Prometheus, format_result
from tools.kubernetes.preconditions import precondition_of
from tools.kubernetes.render import diff_objects
from tools.kubernetes.schemas import (
    CanIArgs,
    ClusterArgs,
    EnvArgs,
    EventArgs,
    ImageArgs,
    ListArgs,
    LogArgs,
    ManifestArgs,
    NamespaceArgs,
    NodeArgs,
    ObjectArgs,
    PatchArgs,
    PodArgs,
    QueryArgs,
    ResourcesArgs,
    RoleArgs,
    RollbackArgs,
    ScaleArgs,
    ServiceArgs,
    WorkloadArgs,
)
from tools.kubernetes.services import diagnose_service as _diagnose_service
from tools.kubernetes.triage import triage
from tools.kubernetes.writes import Guard, WriteError, run_write

__all__ = ["build_tools", "guard_for"]

_KEYWORDS: dict[str, tuple[str, ...]] = {
    "diagnose_cluster": ("wrong", "broken", "problem", "issue", "triage", "health", "unhealthy", "failing"),
    "diagnose_namespace": ("wrong", "broken", "problem", "issue", "triage", "unhealthy"),
    "diagnose_service": ("endpoint", "unreachable", "connection", "refused", "traffic", "ingress"),
    "query_metrics": ("promql", "prometheus", "metric", "usage", "cpu", "memory", "rate", "latency", "graph"),
    "node_usage": ("capacity", "cpu", "memory", "top", "utilization"),
}


def guard_for(ctx: ToolContext) -> Guard:
    """Read-only mode and the never-touched namespaces and kinds, from the tool context."""
    protected = ctx.extras.get("kubernetes_protected_namespaces", ("kube-system",))
    kinds = ctx.extras.get("kubernetes_protected_kinds", ())
    return Guard(ctx.read_only, tuple(protected), tuple(kinds))


def _safe(fn: Callable[..., Any], artifact: bool = False) -> Callable[..., Any]:
    """Errors become an answer the model can act on; an artifact tool answers (text, None) then."""

    def run(**kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except KubeError as exc:
            text = f"error: {exc.code} {exc.reason}: {exc.message}"
        except (WriteError, MetricsError, ValueError, KeyError) as exc:
            text = f"error: {exc}"
        return (text, None) if artifact else text

    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return run


def _describe_changes(changes: list[Any]) -> tuple[str, str]:
    summary = "; ".join(
        f"{c.kind} {c.namespace + '/' if c.namespace else ''}{c.name}"
        + (" deleted" if c.after is None else " created" if c.before is None else " changed")
        for c in changes
    )
    diff = "\n".join(diff_objects(c.before, c.after, f"{c.kind.lower()}/{c.name}") for c in changes)
    return summary, diff


def _write_tool(
    access: KubeAccess, guard: Guard, name: str, description: str, schema: type[BaseModel]
) -> BaseTool:
    def preview(args: dict[str, Any]) -> dict[str, Any]:
        try:
            changes = run_write(name, access, dict(args), guard, dry_run=True)
        except (KubeError, WriteError, ValueError, KeyError) as exc:
            return {"summary": f"{name}({args}) would fail", "error": str(exc)}
        summary, diff = _describe_changes(changes)
        return {
            "summary": f"{name}: {summary}",
            "diff": diff,
            "dry_run": "server-side dryRun=All: accepted",
            "precondition": precondition_of(changes),  # the write is made only against this state
        }

    def call(**kwargs: Any) -> str:
        expect = expected_state()  # the approved preview's objects (PreconditionFailedError: changed)
        try:
            run_write(name, access, dict(kwargs), guard, dry_run=True, expect=expect)  # validated once more
            changes = run_write(name, access, dict(kwargs), guard, dry_run=False, expect=expect)
        except KubeError as exc:
            return f"error: {exc.code} {exc.reason}: {exc.message} (nothing was changed)"
        except (WriteError, ValueError, KeyError) as exc:
            return f"error: {exc} (nothing was changed)"
        summary, diff = _describe_changes(changes)
        return f"done: {summary}\n{diff}"

    tool = StructuredTool.from_function(
        func=call, name=name, description=description, args_schema=schema, metadata={"group": "write"}
    )
    return mark_mutating(tool, preview)


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """The Kubernetes tools for the cluster of `ctx.kubeconfig` / `ctx.kube_context`.

    Each tool's metadata names its group (read, diagnose, metrics, rbac, write, exec), so a wrapper can
    bind only the groups a request needs.
    """
    access = KubeAccess(ctx)
    guard = guard_for(ctx)
    prometheus = Prometheus(access, ctx.extras.get("prometheus_url"))

    def list_pods(namespace: str = "default") -> tuple[str, dict[str, Any]]:
        """List pods with READY, STATUS (e.g. CrashLoopBackOff, ImagePullBackOff, Pending), RESTARTS, AGE and NODE."""
        return reads.list_pods(access, namespace)

    def diagnose_pod(name: str, namespace: str = "default") -> tuple[str, dict[str, Any]]:
        """Diagnose one pod: the cause of its failure with cited evidence (events, logs, spec fields).
        A workload name (e.g. a Deployment's) diagnoses its least healthy pod."""
        try:
            report = _diagnose_pod(access, name, namespace)
            return report.text(), report.artifact()
        except KubeError as exc:
            if exc.code != 404:
                raise
            pod = pod_of_workload(access, name, namespace)
            if pod is None:
                raise
            report = _diagnose_pod(access, pod, namespace)
            return (
                f"no pod is named {name}; diagnosing {pod}, a pod of workload {name}:\n{report.text()}",
                report.artifact(),
            )

    def diagnose_deployment(name: str, namespace: str = "default") -> tuple[str, dict[str, Any]]:
        """Diagnose a Deployment: rollout state and the cause of each distinct pod problem."""
        return diagnose_workload(access, "deployments", name, namespace)

    def diagnose_service(name: str, namespace: str = "default") -> tuple[str, dict[str, Any]]:
        """Diagnose a Service that does not answer: endpoints, selector, ports, NetworkPolicies and its pods."""
        return _diagnose_service(access, name, namespace)

    def diagnose_namespace(namespace: str = "default") -> tuple[str, dict[str, Any]]:
        """Everything wrong in one namespace, ranked by severity: pods, Services, Ingresses, HPAs, PDBs,
        volume claims, StatefulSets, Jobs and CronJobs."""
        result = triage(access, namespace)
        return result.text(), result.artifact()

    def diagnose_cluster(namespace: str = "") -> tuple[str, dict[str, Any]]:
        """What is wrong with the cluster: every finding (nodes, webhooks and all namespaces' objects) ranked
        by severity, with the objects named and the evidence cited."""
        result = triage(access, namespace)
        return result.text(), result.artifact()

    def query_metrics(query: str, minutes: int = 0, step_seconds: int = 0) -> tuple[str, dict[str, Any]]:
        """Run a PromQL query on the cluster's Prometheus: the value now, or over the last `minutes`."""
        data = prometheus.range(query, minutes, step_seconds) if minutes else prometheus.instant(query)
        return format_result(query, data)

    def list_resources(kind: str, namespace: str = "default", label_selector: str = "") -> str:
        """List objects of any kind (deployments, services, configmaps, secrets, nodes, roles, jobs, hpa, ...)."""
        return reads.list_objects(access, kind, namespace, label_selector)

    def get_resource(kind: str, name: str, namespace: str = "default") -> str:
        """One object as YAML (managedFields dropped; Secret values are never shown, only their sizes)."""
        return reads.get_object(access, kind, name, namespace)

    def describe_resource(kind: str, name: str, namespace: str = "default") -> str:
        """One object as YAML plus the events about it (like kubectl describe)."""
        return reads.describe(access, kind, name, namespace)

    def pod_logs(
        name: str, namespace: str = "default", container: str = "", tail: int = 50, previous: bool = False
    ) -> str:
        """The last lines of a pod's logs; previous=true for the container that crashed."""
        return reads.logs(access, name, namespace, container, tail, previous)

    def list_events(namespace: str = "default", involved_name: str = "", warnings_only: bool = False) -> str:
        """Recent events of a namespace (or about one object), oldest first."""
        return reads.recent_events(access, namespace, involved_name, warnings_only)

    def node_usage() -> str:
        """Nodes: allocatable, requested and used CPU/memory, pod count, and whether they are cordoned."""
        return reads.node_usage(access)

    def can_i(verb: str, resource: str, namespace: str = "", group: str = "", user: str = "") -> str:
        """Can a user or ServiceAccount do something? Answered by the API server's access review."""
        return reads.can_i(access, verb, resource, namespace, group, user)

    def synthesize_role(service_account: str, calls: list[str], namespace: str = "default") -> str:
        """Propose a least-privilege Role + RoleBinding for a ServiceAccount from the API calls it must make,
        checked to allow exactly those calls; shows the manifest to apply (nothing is changed)."""
        return reads.synthesize_role(access, service_account, namespace, calls)

    def list_contexts() -> str:
        """The kubeconfig's contexts (cluster, user, namespace) and which one these tools use."""
        from kubernetes import config

        contexts, current = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=str(ctx.kubeconfig) if ctx.kubeconfig else None
        )
        active = ctx.kube_context or (current or {}).get("name")
        return "\n".join(
            f"{'*' if c['name'] == active else ' '} {c['name']}: cluster={c['context'].get('cluster')} "
            f"user={c['context'].get('user')} namespace={c['context'].get('namespace', 'default')}"
            for c in contexts
        )

    # (function, argument schema, group, returns an artifact)
    read_tools: list[tuple[Callable[..., Any], type[BaseModel] | None, str, bool]] = [
        (list_pods, NamespaceArgs, "read", True),
        (diagnose_pod, PodArgs, "diagnose", True),
        (diagnose_deployment, WorkloadArgs, "diagnose", True),
        (diagnose_service, ServiceArgs, "diagnose", True),
        (diagnose_namespace, NamespaceArgs, "diagnose", True),
        (diagnose_cluster, ClusterArgs, "diagnose", True),
        (query_metrics, QueryArgs, "metrics", True),
        (list_resources, ListArgs, "read", False),
        (get_resource, ObjectArgs, "read", False),
        (describe_resource, ObjectArgs, "read", False),
        (pod_logs, LogArgs, "read", False),
        (list_events, EventArgs, "read", False),
        (node_usage, None, "metrics", False),
        (can_i, CanIArgs, "rbac", False),
        (synthesize_role, RoleArgs, "rbac", False),
        (list_contexts, None, "read", False),
    ]
    tools: list[BaseTool] = [
        StructuredTool.from_function(
            func=_safe(fn, artifact),
            name=fn.__name__,
            description=" ".join((fn.__doc__ or "").split()),
            args_schema=schema,
            metadata={"group": group, "keywords": _KEYWORDS.get(fn.__name__, ())},
            response_format="content_and_artifact" if artifact else "content",
        )
        for fn, schema, group, artifact in read_tools
    ]
    writes: list[tuple[str, str, type[BaseModel]]] = [
        (
            "scale_deployment",
            "Scale a Deployment to `replicas` (server dry run and diff first; needs approval).",
            ScaleArgs,
        ),
        (
            "rollout_restart",
            "Restart a Deployment's pods with a rolling update (needs approval).",
            WorkloadArgs,
        ),
        ("set_image", "Set a container's image in a Deployment (rolling update; needs approval).", ImageArgs),
        ("set_env", "Set an environment variable on a Deployment's container (needs approval).", EnvArgs),
        (
            "set_resources",
            "Set a Deployment container's CPU/memory requests and limits (needs approval).",
            ResourcesArgs,
        ),
        (
            "rollback_deployment",
            "Roll a Deployment back to its previous (or a given) revision (needs approval).",
            RollbackArgs,
        ),
        (
            "patch_resource",
            "Patch any object with a strategic, merge or JSON patch (needs approval).",
            PatchArgs,
        ),
        ("apply_manifest", "Create or update the objects of a YAML manifest (needs approval).", ManifestArgs),
        (
            "delete_resource",
            "Delete an object; dependents are garbage-collected (needs approval).",
            ObjectArgs,
        ),
        ("cordon_node", "Mark a node unschedulable (needs approval).", NodeArgs),
        ("uncordon_node", "Mark a node schedulable again (needs approval).", NodeArgs),
        ("drain_node", "Cordon a node and evict its pods, DaemonSets excepted (needs approval).", NodeArgs),
    ]
    tools += [_write_tool(access, guard, name, description, schema) for name, description, schema in writes]
    tools.append(build_exec_tool(ctx, access, guard))
    return tools
