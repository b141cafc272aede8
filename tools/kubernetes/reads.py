"""Read operations: lists, objects, logs, events, node capacity and usage, access reviews, Role synthesis."""

from __future__ import annotations

import json
from typing import Any

from tools.kubernetes.access import KubeAccess, KubeError
from tools.kubernetes.render import as_data, human_age, pod_line, pod_row, to_yaml, trim
from tools.quantity import parse_cpu, parse_memory
from verifiers.kubernetes import check_role, least_privilege_rules, parse_call

__all__ = [
    "can_i",
    "describe",
    "get_object",
    "list_objects",
    "list_pods",
    "logs",
    "node_usage",
    "recent_events",
    "synthesize_role",
]

_ALL = ("", "all", "*", "-a", "--all-namespaces")


def _ns_path(namespace: str) -> str:
    return "" if namespace in _ALL else f"/namespaces/{namespace}"


def list_pods(access: KubeAccess, namespace: str) -> tuple[str, dict[str, Any]]:
    everywhere = namespace in _ALL
    pods = access.request("GET", f"/api/v1{_ns_path(namespace)}/pods").get("items", [])
    artifact = {
        "kind": "kubernetes.pods",
        "namespace": "all namespaces" if everywhere else namespace,
        "pods": [pod_row(p) for p in pods],
    }
    if not pods:
        return (f"no pods in namespace {namespace}" if not everywhere else "no pods"), artifact
    header = ("NAMESPACE  " if everywhere else "") + "NAME  READY  STATUS  RESTARTS  AGE  NODE"
    return "\n".join([header, *(pod_line(p, everywhere) for p in pods)]), artifact


def list_objects(access: KubeAccess, kind: str, namespace: str, label_selector: str = "") -> str:
    resolved = access.resolve(kind)
    ns = "" if namespace in _ALL or not resolved.namespaced else namespace
    items = access.request("GET", resolved.path(ns), {"labelSelector": label_selector}).get("items", [])
    if not items:
        return f"no {resolved.plural} found" + (f" in namespace {ns}" if ns else "")
    lines = []
    for obj in items:
        meta = obj["metadata"]
        name = f"{meta.get('namespace')}/{meta['name']}" if resolved.namespaced and not ns else meta["name"]
        lines.append(f"{name}  age={human_age(meta.get('creationTimestamp'))}{_brief(obj)}")
    return f"{len(items)} {resolved.plural}:\n" + "\n".join(lines)


def _brief(obj: dict[str, Any]) -> str:
    kind, spec, status = obj.get("kind"), obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        return f"  ready={status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
    if kind == "Service":
        return f"  type={spec.get('type')} selector={spec.get('selector')}"
    if kind == "Node":
        ready = next(
            (c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), "?"
        )
        return f"  ready={ready}{' cordoned' if spec.get('unschedulable') else ''}"
    if kind == "Secret":
        return f"  type={obj.get('type')} keys={sorted(obj.get('data') or {})}"
    if kind == "Event":
        return f"  {obj.get('type')} {obj.get('reason')} {obj.get('involvedObject', {}).get('name')}"
    return ""


def get_object(access: KubeAccess, kind: str, name: str, namespace: str) -> str:
    resolved = access.resolve(kind)
    obj = access.request("GET", resolved.path(namespace if resolved.namespaced else "", name))
    return to_yaml(trim(obj))


def recent_events(
    access: KubeAccess, namespace: str, involved_name: str = "", warnings_only: bool = False
) -> str:
    query: dict[str, Any] = {}
    selectors = []
    if involved_name:
        selectors.append(f"involvedObject.name={involved_name}")
    if warnings_only:
        selectors.append("type=Warning")
    if selectors:
        query["fieldSelector"] = ",".join(selectors)
    items = access.request("GET", f"/api/v1{_ns_path(namespace)}/events", query).get("items", [])
    items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    lines = [
        f"{human_age(e.get('lastTimestamp'))} {e.get('type')} {e.get('reason')} "
        f"{str(e.get('involvedObject', {}).get('kind', '')).lower()}/{e.get('involvedObject', {}).get('name')}: "
        f"{e.get('message', '')}" + (f" (x{e['count']})" if e.get("count", 1) > 1 else "")
        for e in items[-40:]
    ]
    return as_data(f"events in {namespace or 'all namespaces'}", "\n".join(lines) or "no events")


def describe(access: KubeAccess, kind: str, name: str, namespace: str) -> str:
    resolved = access.resolve(kind)
    ns = namespace if resolved.namespaced else ""
    obj = access.request("GET", resolved.path(ns, name))
    events = recent_events(access, ns or "default", name) if resolved.namespaced else ""
    return f"{to_yaml(trim(obj))}\n{events}".strip()


def logs(
    access: KubeAccess, name: str, namespace: str, container: str = "", tail: int = 50, previous: bool = False
) -> str:
    text = access.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/pods/{name}/log",
        {"container": container, "tailLines": tail, "previous": previous or None},
    )
    label = (
        f"logs of {namespace}/{name}"
        + (f" container {container}" if container else "")
        + (" (previous)" if previous else "")
    )
    return as_data(label, text if isinstance(text, str) else json.dumps(text))


def _cpu(value: str | int | float) -> float:
    """Cores."""
    return parse_cpu(value) / 1000


def _bytes(value: str | int | float) -> float:
    return parse_memory(value) * 2**20


def node_usage(access: KubeAccess) -> str:
    nodes = access.request("GET", "/api/v1/nodes").get("items", [])
    pods = access.request("GET", "/api/v1/pods").get("items", [])
    try:
        usage = {
            m["metadata"]["name"]: m["usage"]
            for m in access.request("GET", "/apis/metrics.k8s.io/v1beta1/nodes").get("items", [])
        }
    except KubeError:
        usage = {}
    lines = [
        "NODE  CPU(alloc)  CPU(requested)  CPU(used)  MEM(alloc)  MEM(requested)  MEM(used)  PODS  SCHEDULABLE"
    ]
    for node in nodes:
        name = node["metadata"]["name"]
        alloc = node.get("status", {}).get("allocatable") or {}
        mine = [
            p
            for p in pods
            if p["spec"].get("nodeName") == name
            and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")
        ]
        req_cpu = sum(
            _cpu(((c.get("resources") or {}).get("requests") or {}).get("cpu", 0))
            for p in mine
            for c in p["spec"].get("containers") or []
        )
        req_mem = sum(
            _bytes(((c.get("resources") or {}).get("requests") or {}).get("memory", 0))
            for p in mine
            for c in p["spec"].get("containers") or []
        )
        used = usage.get(name) or {}
        used_cpu = f"{_cpu(used['cpu']):.2f}" if "cpu" in used else "n/a"
        used_mem = f"{_bytes(used['memory']) / 2**30:.1f}Gi" if "memory" in used else "n/a"
        lines.append(
            f"{name}  {_cpu(alloc.get('cpu', 0)):.2f}  {req_cpu:.2f}  {used_cpu}  {_bytes(alloc.get('memory', 0)) / 2**30:.1f}Gi  "
            f"{req_mem / 2**30:.1f}Gi  {used_mem}  {len(mine)}/{alloc.get('pods', '?')}  "
            f"{'no (cordoned)' if node.get('spec', {}).get('unschedulable') else 'yes'}"
        )
    return "\n".join(lines)


def _review(
    access: KubeAccess,
    verb: str,
    resource: str,
    namespace: str,
    group: str,
    user: str,
    subresource: str = "",
    name: str = "",
) -> dict[str, Any]:
    attrs = {
        "verb": verb,
        "resource": resource,
        "group": group,
        "namespace": namespace,
        "subresource": subresource,
        "name": name,
    }
    attrs = {k: v for k, v in attrs.items() if v}
    if user:
        body: dict[str, Any] = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {"user": user, "resourceAttributes": attrs},
        }
        if user.startswith("system:serviceaccount:"):
            ns = user.split(":")[2]
            body["spec"]["groups"] = [
                "system:serviceaccounts",
                f"system:serviceaccounts:{ns}",
                "system:authenticated",
            ]
        path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"
    else:
        body = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    result: dict[str, Any] = access.request("POST", path, None, body).get("status") or {}
    return result


def can_i(access: KubeAccess, verb: str, resource: str, namespace: str, group: str, user: str) -> str:
    call = parse_call(f"{verb} {resource}")
    status = _review(
        access, call.verb, call.resource, namespace, group or call.group, user, call.subresource, call.name
    )
    who = user or "the current user"
    where = f" in namespace {namespace}" if namespace else " cluster-wide"
    answer = "yes" if status.get("allowed") else "no"
    reason = f" ({status['reason']})" if status.get("reason") else ""
    return f"{answer}: {who} {'can' if answer == 'yes' else 'cannot'} {verb} {resource}{where}{reason} [SubjectAccessReview]"


def synthesize_role(access: KubeAccess, service_account: str, namespace: str, calls: list[str]) -> str:
    parsed = [parse_call(c) for c in calls]
    if not parsed:
        raise ValueError("calls: give at least one API call, e.g. `list configmaps`")
    rules = least_privilege_rules(parsed)
    check = check_role(rules, parsed)
    name = f"{service_account}-least-privilege"
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": name, "namespace": namespace},
        "rules": rules,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}],
    }
    user = f"system:serviceaccount:{namespace}:{service_account}"
    baseline = []
    for call in parsed:
        status = _review(
            access, call.verb, call.resource, namespace, call.group, user, call.subresource, call.name
        )
        baseline.append(f"{call}: {'already allowed' if status.get('allowed') else 'denied today'}")
    server_check = []
    for obj, plural in ((role, "roles"), (binding, "rolebindings")):
        try:
            access.request(
                "POST",
                f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/{plural}",
                {"dryRun": "All"},
                obj,
            )
            server_check.append(f"{obj['kind']}: accepted by the server (dryRun=All)")
        except KubeError as exc:
            server_check.append(f"{obj['kind']}: server dry run says {exc.code} {exc.reason}: {exc.message}")
    verdict = "verified" if check.ok else "NOT verified"
    lines = [
        f"least-privilege Role for {user} ({verdict} by the local RBAC checker: each call allowed, no other verb, no wildcard)",
        *(f"  allowed: {c}" for c in check.allowed),
        *(f"  MISSING: {c}" for c in check.missing),
        *(f"  EXCESS: {c}" for c in check.excess),
        "access reviews (SubjectAccessReview, before the change):",
        *(f"  {b}" for b in baseline),
        "server validation:",
        *(f"  {s}" for s in server_check),
        "to grant it, apply this manifest (apply_manifest; it needs approval), then confirm with can_i:",
        to_yaml(role) + "---\n" + to_yaml(binding),
    ]
    return "\n".join(lines)
