"""The arguments of the Kubernetes tools: small schemas, since small local models read them."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "CanIArgs",
    "ClusterArgs",
    "EnvArgs",
    "EventArgs",
    "ExecArgs",
    "ImageArgs",
    "ListArgs",
    "LogArgs",
    "ManifestArgs",
    "NamespaceArgs",
    "NodeArgs",
    "ObjectArgs",
    "PatchArgs",
    "PodArgs",
    "QueryArgs",
    "ResourcesArgs",
    "RoleArgs",
    "RollbackArgs",
    "ScaleArgs",
    "ServiceArgs",
    "WorkloadArgs",
]

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


class ServiceArgs(BaseModel):
    name: str = Field(description="Service name.")
    namespace: str = _NS


class ClusterArgs(BaseModel):
    namespace: str = Field(default="", description="Only this namespace; empty for the whole cluster.")


class QueryArgs(BaseModel):
    query: str = Field(
        description='PromQL, e.g. sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop"}[5m]))'
    )
    minutes: int = Field(
        default=0, ge=0, le=10080, description="0 for the value now; N for the last N minutes."
    )
    step_seconds: int = Field(default=0, ge=0, le=86400, description="Range resolution; 0 = automatic.")


class ExecArgs(BaseModel):
    pod: str = Field(description="Pod name.")
    command: list[str] = Field(
        description='The command and its arguments, e.g. ["cat", "/etc/config/app.yaml"].'
    )
    namespace: str = _NS
    container: str = Field(default="", description="Container name (needed when the pod has several).")
