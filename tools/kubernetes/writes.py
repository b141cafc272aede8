"""Write operations. Each runs twice through the same code: once with `dryRun=All` for the preview diff,
then for real after approval (and the real run repeats the dry run first, so a stale preview fails early).

After approval a write runs under its preview's precondition (`tools.kubernetes.preconditions`): every
object it touches must still be as previewed, and the request carries the resourceVersion it was checked
at, so the API server refuses (409) a change made in between; then nothing is written and
`PreconditionFailedError` says what changed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import yaml  # type: ignore[import-untyped]

from tools.base import PreconditionFailedError, observe
from tools.kubernetes.access import KubeAccess, KubeError, ResourceKind
from tools.kubernetes.preconditions import Expectation, resource_version

__all__ = ["Change", "Guard", "WriteError", "run_write"]

_STRATEGIC = "application/strategic-merge-patch+json"
_MERGE = "application/merge-patch+json"
_JSON_PATCH = "application/json-patch+json"
_REVISION = "deployment.kubernetes.io/revision"


class WriteError(Exception):
    """A write that is refused or invalid, with a message naming the field or the rule."""


@dataclass
class Change:
    """One object's state before and after a write (after = the server's dry-run answer, or the result)."""

    kind: str
    namespace: str
    name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass
class Guard:
    """What no write may touch: read-only mode, protected namespaces and kinds."""

    read_only: bool = False
    protected_namespaces: tuple[str, ...] = ("kube-system",)
    protected_kinds: tuple[str, ...] = ()

    def check(self, kind: str, namespace: str) -> None:
        if self.read_only:
            raise WriteError("read-only mode: this assistant may not change the cluster")
        if namespace in self.protected_namespaces:
            raise WriteError(f"namespace {namespace!r} is protected: writes there are never made")
        if kind.lower() in {k.lower() for k in self.protected_kinds}:
            raise WriteError(f"kind {kind!r} is protected: writes to it are never made")


def _dry(dry_run: bool) -> dict[str, Any]:
    return {"dryRun": "All", "fieldManager": "opsgraph"} if dry_run else {"fieldManager": "opsgraph"}


def _container_name(obj: dict[str, Any], container: str) -> str:
    containers = obj["spec"]["template"]["spec"].get("containers") or []
    names: list[str] = [c["name"] for c in containers]
    if not container:
        if len(names) == 1:
            return names[0]
        raise WriteError(
            f"the pod template has several containers ({', '.join(names)}): name one in `container`"
        )
    if container not in names:
        raise WriteError(
            f"container {container!r} not in spec.template.spec.containers (it has: {', '.join(names)})"
        )
    return container


def _get(access: KubeAccess, resolved: ResourceKind, ns: str, name: str, expect: Expectation) -> Any:
    """The object as it is now; gone since the preview is a failed precondition, not a plain 404."""
    try:
        return access.request("GET", resolved.path(ns, name))
    except KubeError as exc:
        if exc.code == 404 and expect.active:
            expect.check(resolved.kind, ns, name, None)
        raise


def _with_rv(body: Any, content_type: str, rv: str | None) -> Any:
    """The patch, made conditional on the object's resourceVersion (a JSON patch tests it first)."""
    if rv is None:
        return body
    if content_type == _JSON_PATCH:
        return [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}, *body]
    if isinstance(body, dict):
        return {**body, "metadata": {**(body.get("metadata") or {}), "resourceVersion": rv}}
    return body


def _patch_workload(
    access: KubeAccess,
    kind: str,
    name: str,
    namespace: str,
    body: Any,
    content_type: str,
    dry_run: bool,
    expect: Expectation,
    before: dict[str, Any] | None = None,
) -> Change:
    """PATCH one object; `before` is the object as the caller already read it (read here when None)."""
    resolved = access.resolve(kind)
    if before is None:
        before = _get(access, resolved, namespace, name, expect)
    rv = expect.check(resolved.kind, namespace, name, before)
    after = access.request(
        "PATCH", resolved.path(namespace, name), _dry(dry_run), _with_rv(body, content_type, rv), content_type
    )
    return Change(resolved.kind, namespace, name, before, after)


def scale(access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation) -> list[Change]:
    replicas = args["replicas"]
    if not isinstance(replicas, int) or replicas < 0:
        raise WriteError(f"replicas: must be a whole number >= 0, got {replicas!r}")
    ns, name = args.get("namespace") or "default", args["name"]
    kind = args.get("kind") or "deployments"
    resolved = access.resolve(kind)
    before = _get(access, resolved, ns, name, expect)
    rv = expect.check(resolved.kind, ns, name, before)
    if rv is None:
        access.request(
            "PATCH", resolved.path(ns, name, "scale"), _dry(dry_run), {"spec": {"replicas": replicas}}, _MERGE
        )
    else:  # an update of the Scale at the Deployment's resourceVersion: 409 if it moved
        scale_body = {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
            "spec": {"replicas": replicas},
        }
        access.request("PUT", resolved.path(ns, name, "scale"), _dry(dry_run), scale_body)
    after = json.loads(json.dumps(before))
    after["spec"]["replicas"] = replicas
    if not dry_run:
        after = access.request("GET", resolved.path(ns, name))
    return [Change(resolved.kind, ns, name, before, after)]


def rollout_restart(
    access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation
) -> list[Change]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    return [
        _patch_workload(
            access,
            args.get("kind") or "deployments",
            args["name"],
            args.get("namespace") or "default",
            body,
            _STRATEGIC,
            dry_run,
            expect,
        )
    ]


def _deployment_and_container(
    access: KubeAccess, args: dict[str, Any], expect: Expectation
) -> tuple[dict[str, Any], str]:
    """The Deployment `args` names, as it is now, and the container `args` names (or its only one)."""
    ns, name = args.get("namespace") or "default", args["name"]
    current = _get(access, access.resolve("deployments"), ns, name, expect)
    return current, _container_name(current, args.get("container", ""))


def _patch_container(
    access: KubeAccess,
    args: dict[str, Any],
    current: dict[str, Any],
    container: dict[str, Any],
    dry_run: bool,
    expect: Expectation,
) -> list[Change]:
    """A strategic-merge patch of one container of the pod template; `current` is the Deployment as read."""
    ns, name = args.get("namespace") or "default", args["name"]
    body = {"spec": {"template": {"spec": {"containers": [container]}}}}
    return [
        _patch_workload(access, "deployments", name, ns, body, _STRATEGIC, dry_run, expect, before=current)
    ]


def set_image(access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation) -> list[Change]:
    current, container = _deployment_and_container(access, args, expect)
    if not str(args.get("image", "")).strip():
        raise WriteError("image: must not be empty")
    change = {"name": container, "image": args["image"]}
    return _patch_container(access, args, current, change, dry_run, expect)


def set_env(access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation) -> list[Change]:
    current, container = _deployment_and_container(access, args, expect)
    env = [{"name": args["env_name"], "value": str(args["value"])}]
    return _patch_container(access, args, current, {"name": container, "env": env}, dry_run, expect)


def set_resources(
    access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation
) -> list[Change]:
    current, container = _deployment_and_container(access, args, expect)
    resources: dict[str, dict[str, str]] = {}
    for section, key, arg in (
        ("requests", "cpu", "cpu_request"),
        ("requests", "memory", "memory_request"),
        ("limits", "cpu", "cpu_limit"),
        ("limits", "memory", "memory_limit"),
    ):
        if args.get(arg):
            resources.setdefault(section, {})[key] = str(args[arg])
    if not resources:
        raise WriteError("give at least one of cpu_request, memory_request, cpu_limit, memory_limit")
    change = {"name": container, "resources": resources}
    return _patch_container(access, args, current, change, dry_run, expect)


def rollback(access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation) -> list[Change]:
    ns, name = args.get("namespace") or "default", args["name"]
    dep = _get(access, access.resolve("deployments"), ns, name, expect)
    current = int((dep["metadata"].get("annotations") or {}).get(_REVISION, 0))
    sets = access.request("GET", f"/apis/apps/v1/namespaces/{ns}/replicasets").get("items", [])
    owned = {
        int((rs["metadata"].get("annotations") or {}).get(_REVISION, 0)): rs
        for rs in sets
        if any(r.get("uid") == dep["metadata"]["uid"] for r in rs["metadata"].get("ownerReferences") or [])
    }
    wanted = int(args.get("revision") or 0) or max((r for r in owned if r < current), default=0)
    if wanted not in owned or wanted == current:
        raise WriteError(
            f"revision: no earlier revision to roll back to (revisions: {sorted(owned) or 'none'}, current {current})"
        )
    template = json.loads(json.dumps(owned[wanted]["spec"]["template"]))
    (template.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    body = [{"op": "replace", "path": "/spec/template", "value": template}]
    return [_patch_workload(access, "deployments", name, ns, body, _JSON_PATCH, dry_run, expect, before=dep)]


def patch_resource(
    access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation
) -> list[Change]:
    try:
        body = yaml.safe_load(args["patch"]) if isinstance(args["patch"], str) else args["patch"]
    except yaml.YAMLError as exc:
        raise WriteError(f"patch: not valid JSON/YAML: {exc}") from exc
    types = {"strategic": _STRATEGIC, "merge": _MERGE, "json": _JSON_PATCH}
    kind_of_patch = args.get("patch_type") or "strategic"
    if kind_of_patch not in types:
        raise WriteError(f"patch_type: must be one of {', '.join(types)}, got {kind_of_patch!r}")
    if kind_of_patch == "json" and not isinstance(body, list):
        raise WriteError("patch: a JSON patch (RFC 6902) is a list of operations")
    return [
        _patch_workload(
            access,
            args["kind"],
            args["name"],
            args.get("namespace") or "default",
            body,
            types[kind_of_patch],
            dry_run,
            expect,
        )
    ]


def apply_manifest(
    access: KubeAccess, args: dict[str, Any], dry_run: bool, guard: Guard, expect: Expectation
) -> list[Change]:
    try:
        docs = [d for d in yaml.safe_load_all(args["manifest"]) if d]
    except yaml.YAMLError as exc:
        raise WriteError(f"manifest: not valid YAML: {exc}") from exc
    changes = []
    for n, doc in enumerate(docs):
        if not isinstance(doc, dict) or not doc.get("kind") or not (doc.get("metadata") or {}).get("name"):
            raise WriteError(f"manifest document {n}: needs kind and metadata.name")
        resolved = access.resolve(
            f"{doc['kind']}.{doc['apiVersion'].split('/')[0]}"
            if "/" in doc.get("apiVersion", "")
            else doc["kind"]
        )
        ns = (
            (doc["metadata"].get("namespace") or args.get("namespace") or "default")
            if resolved.namespaced
            else ""
        )
        guard.check(resolved.kind, ns)
        if resolved.namespaced:
            doc["metadata"]["namespace"] = ns
        name = doc["metadata"]["name"]
        try:
            before = access.request("GET", resolved.path(ns, name))
        except KubeError as exc:
            if exc.code != 404:
                raise
            before = None
        rv = expect.check(resolved.kind, ns, name, before)
        if before is None:  # a create: 409 AlreadyExists if someone created it in between
            after = access.request("POST", resolved.path(ns), _dry(dry_run), doc)
        else:
            patch_type = (
                _STRATEGIC
                if resolved.group in ("", "apps", "batch", "autoscaling", "networking.k8s.io", "policy")
                else _MERGE
            )
            body = _with_rv(doc, patch_type, rv)
            after = access.request("PATCH", resolved.path(ns, name), _dry(dry_run), body, patch_type)
        changes.append(Change(resolved.kind, ns, name, before, after))
    return changes


def delete_resource(
    access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation
) -> list[Change]:
    resolved = access.resolve(args["kind"])
    ns = (args.get("namespace") or "default") if resolved.namespaced else ""
    before = _get(access, resolved, ns, args["name"], expect)
    rv = expect.check(resolved.kind, ns, args["name"], before)
    options = {"preconditions": {"resourceVersion": rv}} if rv is not None else None
    access.request(
        "DELETE",
        resolved.path(ns, args["name"]),
        _dry(dry_run) | {"propagationPolicy": "Background"},
        options,
    )
    return [Change(resolved.kind, ns, args["name"], before, None)]


def cordon(
    access: KubeAccess, args: dict[str, Any], dry_run: bool, expect: Expectation, unschedulable: bool = True
) -> list[Change]:
    before = _get(access, access.resolve("nodes"), "", args["name"], expect)
    rv = expect.check("Node", "", args["name"], before)
    body = _with_rv({"spec": {"unschedulable": unschedulable or None}}, _MERGE, rv)
    after = access.request("PATCH", f"/api/v1/nodes/{args['name']}", _dry(dry_run), body, _MERGE)
    return [Change("Node", "", args["name"], before, after)]


def drain(
    access: KubeAccess, args: dict[str, Any], dry_run: bool, guard: Guard, expect: Expectation
) -> list[Change]:
    changes = cordon(access, args, dry_run, expect)
    pods = access.request("GET", "/api/v1/pods", {"fieldSelector": f"spec.nodeName={args['name']}"}).get(
        "items", []
    )
    for pod in pods:
        meta = pod["metadata"]
        owners = {r.get("kind") for r in meta.get("ownerReferences") or []}
        if "DaemonSet" in owners or meta["namespace"] in guard.protected_namespaces:
            continue
        expect.check("Pod", meta["namespace"], meta["name"], pod)  # a pod the preview did not show: stop
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
        }
        if dry_run:
            body["deleteOptions"] = {"dryRun": ["All"]}
        access.request(
            "POST",
            f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/eviction",
            _dry(dry_run),
            body,
        )
        changes.append(Change("Pod", meta["namespace"], meta["name"], pod, None))
    return changes


_OPS = {
    "scale_deployment": scale,
    "rollout_restart": rollout_restart,
    "set_image": set_image,
    "set_env": set_env,
    "set_resources": set_resources,
    "rollback_deployment": rollback,
    "patch_resource": patch_resource,
    "delete_resource": delete_resource,
    "cordon_node": cordon,
}


def _dispatch(
    op: str, access: KubeAccess, args: dict[str, Any], guard: Guard, dry_run: bool, expect: Expectation
) -> list[Change]:
    kind = {"cordon_node": "Node", "uncordon_node": "Node", "drain_node": "Node"}.get(
        op, str(args.get("kind") or "Deployment")
    )
    namespace = "" if kind == "Node" else str(args.get("namespace") or "default")
    if op != "apply_manifest":
        guard.check(kind, namespace)
    elif guard.read_only:
        raise WriteError("read-only mode: this assistant may not change the cluster")
    if op == "apply_manifest":
        return apply_manifest(access, args, dry_run, guard, expect)
    if op == "drain_node":
        return drain(access, args, dry_run, guard, expect)
    if op == "uncordon_node":
        return cordon(access, args, dry_run, expect, unschedulable=False)
    return _OPS[op](access, args, dry_run, expect)


def run_write(
    op: str,
    access: KubeAccess,
    args: dict[str, Any],
    guard: Guard,
    dry_run: bool,
    expect: dict[str, Any] | None = None,
) -> list[Change]:
    """Run a write by tool name, after the guard's checks; with `expect` (an approved preview's
    `precondition`), only against the objects as previewed, else `PreconditionFailedError`."""
    expectation = Expectation(expect)
    try:
        changes = _dispatch(op, access, args, guard, dry_run, expectation)
    except KubeError as exc:
        # 409: the object moved between the check and the write (or appeared, for a create); 422: a
        # JSON patch's resourceVersion test failed
        moved = exc.code == 409 or (exc.code == 422 and "resourceVersion" in exc.message)
        if expectation.active and moved:
            raise PreconditionFailedError(
                f"the API server refused the write: {exc.code} {exc.reason}: {exc.message}"
            ) from exc
        raise
    if expectation.active and not dry_run:
        after = {(c.kind, c.namespace, c.name): resource_version(c.after) for c in changes}
        observe(**expectation.observed(after))
    return changes
