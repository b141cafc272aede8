"""The Kubernetes agent's LangChain tools. Reads are free; every write is declared mutating, previews
itself with a server-side `dryRun=All` and a diff, and repeats that dry run before the real write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from tools.base import ToolContext, mark_mutating
from tools.kubernetes import reads
from tools.kubernetes.access import KubeAccess, KubeError
from tools.kubernetes.diagnose import diagnose_namespace as _diagnose_namespace
from tools.kubernetes.diagnose import diagnose_pod as _diagnose_pod
from tools.kubernetes.diagnose import diagnose_workload, pod_of_workload
from tools.kubernetes.render import diff_objects
from tools.kubernetes.writes import Guard, WriteError, run_write

__all__ = ["build_tools", "guard_for"]

_NS = Field(default="default", description="Namespace; `all` for every namespace where a list allows it.")


class NamespaceArgs(BaseModel):
    namespace: str = _NS


class PodArgs(BaseModel):
    name: str = Field(description="Pod name.")
    namespace: str = _NS


class ObjectArgs(BaseModel):
    kind: str = Field(
        description="Resource kind or plural: pod, deployment, service, configmap, node, role, ..."
    )
    name: str = Field(description="Object name.")
    namespace: str = _NS


class ListArgs(BaseModel):
    kind: str = Field(description="Resource kind or plural, e.g. deployments, services, nodes, events.")
    namespace: str = _NS
    label_selector: str = Field(default="", description="e.g. app=web,tier!=db")


class LogArgs(BaseModel):
    name: str = Field(description="Pod name.")
    namespace: str = _NS
    container: str = Field(default="", description="Container name (needed when the pod has several).")
    tail: int = Field(default=50, ge=1, le=2000, description="Number of last lines.")
    previous: bool = Field(default=False, description="Logs of the previous (crashed) container.")


class EventArgs(BaseModel):
    namespace: str = _NS
    involved_name: str = Field(default="", description="Only events about this object.")
    warnings_only: bool = False


class WorkloadArgs(BaseModel):
    name: str = Field(description="Deployment name.")
    namespace: str = _NS


class CanIArgs(BaseModel):
    verb: str = Field(description="get, list, watch, create, update, patch, delete, ...")
    resource: str = Field(description="e.g. pods, deployments.apps, pods/log")
    namespace: str = Field(default="", description="Namespace; empty for cluster-wide.")
    group: str = Field(default="", description="API group when not implied by the resource.")
    user: str = Field(
        default="", description="Ask for this user or system:serviceaccount:NS:NAME; empty = me."
    )


class RoleArgs(BaseModel):
    service_account: str = Field(description="ServiceAccount name.")
    namespace: str = _NS
    calls: list[str] = Field(
        description="API calls it must make, e.g. ['list configmaps', 'watch configmaps']."
    )


class ScaleArgs(BaseModel):
    name: str = Field(description="Deployment name.")
    replicas: int = Field(ge=0, description="Desired number of replicas.")
    namespace: str = _NS


class ImageArgs(WorkloadArgs):
    image: str = Field(description="New image reference, e.g. nginx:1.27")
    container: str = Field(default="", description="Container name (needed when the pod has several).")


class EnvArgs(WorkloadArgs):
    env_name: str = Field(description="Environment variable name.")
    value: str = Field(description="Its value.")
    container: str = Field(default="", description="Container name (needed when the pod has several).")


class ResourcesArgs(WorkloadArgs):
    container: str = Field(default="", description="Container name (needed when the pod has several).")
    cpu_request: str = Field(default="", description="e.g. 250m")
    memory_request: str = Field(default="", description="e.g. 256Mi")
    cpu_limit: str = Field(default="", description="e.g. 1")
    memory_limit: str = Field(default="", description="e.g. 512Mi")


class RollbackArgs(WorkloadArgs):
    revision: int = Field(default=0, ge=0, description="Revision to return to; 0 = the previous one.")


class PatchArgs(ObjectArgs):
    patch: str = Field(description="The patch as JSON or YAML text.")
    patch_type: str = Field(default="strategic", description="strategic, merge or json (RFC 6902).")


class ManifestArgs(BaseModel):
    manifest: str = Field(description="One or more YAML documents.")
    namespace: str = Field(default="default", description="Namespace for documents that name none.")


class NodeArgs(BaseModel):
    name: str = Field(description="Node name.")


def guard_for(ctx: ToolContext) -> Guard:
    """Read-only mode and the never-touched namespaces and kinds, from the tool context."""
    protected = ctx.extras.get("kubernetes_protected_namespaces", ("kube-system",))
    kinds = ctx.extras.get("kubernetes_protected_kinds", ())
    return Guard(ctx.read_only, tuple(protected), tuple(kinds))


def _safe(fn: Callable[..., str]) -> Callable[..., str]:
    def run(**kwargs: Any) -> str:
        try:
            return fn(**kwargs)
        except KubeError as exc:
            return f"error: {exc.code} {exc.reason}: {exc.message}"
        except (WriteError, ValueError, KeyError) as exc:
            return f"error: {exc}"

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
        return {"summary": f"{name}: {summary}", "diff": diff, "dry_run": "server-side dryRun=All: accepted"}

    def call(**kwargs: Any) -> str:
        try:
            run_write(name, access, dict(kwargs), guard, dry_run=True)  # the server validates once more first
            changes = run_write(name, access, dict(kwargs), guard, dry_run=False)
        except KubeError as exc:
            return f"error: {exc.code} {exc.reason}: {exc.message} (nothing was changed)"
        except (WriteError, ValueError, KeyError) as exc:
            return f"error: {exc} (nothing was changed)"
        summary, diff = _describe_changes(changes)
        return f"done: {summary}\n{diff}"

    tool = StructuredTool.from_function(func=call, name=name, description=description, args_schema=schema)
    return mark_mutating(tool, preview)


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    """The Kubernetes tools for the cluster of `ctx.kubeconfig` / `ctx.kube_context`."""
    access = KubeAccess(ctx)
    guard = guard_for(ctx)

    @_safe
    def list_pods(namespace: str = "default") -> str:
        """List pods with READY, STATUS (e.g. CrashLoopBackOff, ImagePullBackOff, Pending), RESTARTS, AGE and NODE."""
        return reads.list_pods(access, namespace)

    @_safe
    def diagnose_pod(name: str, namespace: str = "default") -> str:
        """Diagnose one pod: status, events, last logs, and the cause in words with its evidence
        (CrashLoopBackOff, ImagePullBackOff, OOMKilled, Pending/unschedulable, failing probes).
        A workload name (e.g. a Deployment's) diagnoses its least healthy pod."""
        try:
            return _diagnose_pod(access, name, namespace).text()
        except KubeError as exc:
            if exc.code != 404:
                raise
            pod = pod_of_workload(access, name, namespace)
            if pod is None:
                raise
            return (
                f"no pod is named {name}; diagnosing {pod}, a pod of workload {name}:\n"
                + _diagnose_pod(access, pod, namespace).text()
            )

    @_safe
    def diagnose_deployment(name: str, namespace: str = "default") -> str:
        """Diagnose a Deployment: rollout state and the cause of each distinct pod problem."""
        return diagnose_workload(access, "deployments", name, namespace)

    @_safe
    def diagnose_namespace(namespace: str = "default") -> str:
        """Diagnose a whole namespace: every unhealthy workload and every Service without endpoints."""
        return _diagnose_namespace(access, namespace)

    @_safe
    def list_resources(kind: str, namespace: str = "default", label_selector: str = "") -> str:
        """List objects of any kind (deployments, services, configmaps, secrets, nodes, roles, jobs, hpa, ...)."""
        return reads.list_objects(access, kind, namespace, label_selector)

    @_safe
    def get_resource(kind: str, name: str, namespace: str = "default") -> str:
        """One object as YAML (managedFields dropped; Secret values are never shown, only their sizes)."""
        return reads.get_object(access, kind, name, namespace)

    @_safe
    def describe_resource(kind: str, name: str, namespace: str = "default") -> str:
        """One object as YAML plus the events about it (like kubectl describe)."""
        return reads.describe(access, kind, name, namespace)

    @_safe
    def pod_logs(
        name: str, namespace: str = "default", container: str = "", tail: int = 50, previous: bool = False
    ) -> str:
        """The last lines of a pod's logs; previous=true for the container that crashed."""
        return reads.logs(access, name, namespace, container, tail, previous)

    @_safe
    def list_events(namespace: str = "default", involved_name: str = "", warnings_only: bool = False) -> str:
        """Recent events of a namespace (or about one object), oldest first."""
        return reads.recent_events(access, namespace, involved_name, warnings_only)

    @_safe
    def node_usage() -> str:
        """Nodes: allocatable, requested and used CPU/memory, pod count, and whether they are cordoned."""
        return reads.node_usage(access)

    @_safe
    def can_i(verb: str, resource: str, namespace: str = "", group: str = "", user: str = "") -> str:
        """Can a user or ServiceAccount do something? Answered by the API server's access review."""
        return reads.can_i(access, verb, resource, namespace, group, user)

    @_safe
    def synthesize_role(service_account: str, calls: list[str], namespace: str = "default") -> str:
        """Propose a least-privilege Role + RoleBinding for a ServiceAccount from the API calls it must make,
        checked to allow exactly those calls; shows the manifest to apply (nothing is changed)."""
        return reads.synthesize_role(access, service_account, namespace, calls)

    @_safe
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

    read_tools: list[tuple[Callable[..., str], type[BaseModel] | None]] = [
        (list_pods, NamespaceArgs),
        (diagnose_pod, PodArgs),
        (diagnose_deployment, WorkloadArgs),
        (diagnose_namespace, NamespaceArgs),
        (list_resources, ListArgs),
        (get_resource, ObjectArgs),
        (describe_resource, ObjectArgs),
        (pod_logs, LogArgs),
        (list_events, EventArgs),
        (node_usage, None),
        (can_i, CanIArgs),
        (synthesize_role, RoleArgs),
        (list_contexts, None),
    ]
    tools: list[BaseTool] = [
        StructuredTool.from_function(
            func=fn, name=fn.__name__, description=(fn.__doc__ or "").strip(), args_schema=schema
        )
        for fn, schema in read_tools
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
    return tools
