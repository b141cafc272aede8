"""Why a Service does not reach its pods: empty endpoints, no selector, a wrong targetPort, or an ingress
NetworkPolicy that shuts the pods off (read statically: the tools send no traffic)."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.access import KubeAccess, KubeError
from tools.kubernetes.diagnose import diagnose_pod
from tools.kubernetes.findings import Finding, render_findings
from tools.kubernetes.render import pod_status_text

__all__ = ["diagnose_service", "service_findings"]


def _selected(selector: dict[str, str], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pods a Service's selector picks."""
    return [
        p for p in pods if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
    ]


def _port_findings(svc: dict[str, Any], matching: list[dict[str, Any]]) -> list[Finding]:
    """A Service whose targetPort is not a port its pods (`matching`, those it selects) declare."""
    declared = {
        (port.get("containerPort"), port.get("name"))
        for p in matching
        for c in p["spec"].get("containers") or []
        for port in c.get("ports") or []
    }
    if not declared:
        return []
    numbers = sorted({n for n, _ in declared if n})
    out = []
    for n, port in enumerate(svc["spec"].get("ports") or []):
        target = port.get("targetPort", port.get("port"))
        known = any(target in (number, pname) for number, pname in declared)
        if not known:
            out.append(
                Finding(
                    f"Service {svc['metadata']['name']} sends port {port.get('port')} to targetPort {target}",
                    f"its pods listen on {', '.join(map(str, numbers))}, not {target}: connections are refused",
                    [f"spec.ports[{n}].targetPort = {target}", f"container ports of its pods: {numbers}"],
                    f"set spec.ports[{n}].targetPort to the port the pods serve",
                    "error",
                    f"Service {svc['metadata'].get('namespace')}/{svc['metadata']['name']}",
                    affected=len(matching),
                )
            )
    return out


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    selector = selector or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        return False
    for e in selector.get("matchExpressions") or []:
        value, values = labels.get(e.get("key", "")), e.get("values") or []
        ok = {
            "In": value in values,
            "NotIn": value not in values,
            "Exists": e.get("key") in labels,
            "DoesNotExist": e.get("key") not in labels,
        }.get(e.get("operator", ""), True)
        if not ok:
            return False
    return True


def _policy_findings(
    svc: dict[str, Any], behind: list[dict[str, Any]], policies: list[dict[str, Any]]
) -> list[Finding]:
    """Ingress NetworkPolicies that isolate the pods behind a Service (read statically: no traffic is sent)."""
    if not behind:
        return []
    labels = behind[0]["metadata"].get("labels") or {}
    isolating = [
        np
        for np in policies
        if "Ingress" in ((np.get("spec") or {}).get("policyTypes") or ["Ingress"])
        and _selects((np.get("spec") or {}).get("podSelector"), labels)
    ]
    if not isolating:
        return []
    rules = [r for np in isolating for r in (np.get("spec") or {}).get("ingress") or []]
    if any(not r.get("from") for r in rules):
        return []  # some rule admits every source
    sources = [
        f"pods {','.join(f'{k}={v}' for k, v in (src.get('podSelector') or {}).get('matchLabels', {}).items()) or '(all in namespace)'}"
        if "podSelector" in src
        else ("namespaces " + str(src.get("namespaceSelector")) if "namespaceSelector" in src else str(src))
        for r in rules
        for src in r.get("from") or []
    ]
    name = svc["metadata"]["name"]
    names = ", ".join(np["metadata"]["name"] for np in isolating)
    cause = f"NetworkPolicy {names} admit{'s' if len(isolating) == 1 else ''} " + (
        f"ingress only from {'; '.join(sources)}" if sources else "no ingress at all"
    )
    return [
        Finding(
            f"traffic to Service {name} is blocked by NetworkPolicy",
            cause,
            [
                f"networkpolicy {np['metadata']['name']}: podSelector={(np.get('spec') or {}).get('podSelector')}, "
                f"ingress={(np.get('spec') or {}).get('ingress', [])}"
                for np in isolating
            ],
            "allow the clients that must reach it (an ingress rule for their pods), or remove the deny-all policy",
            "error",
            f"Service {svc['metadata'].get('namespace')}/{name}",
            affected=len(behind),
        )
    ]


def service_findings(access: KubeAccess, namespace: str) -> list[Finding]:
    """Services whose endpoints are empty, and why (a selector that matches no pod, or no ready pod)."""
    out: list[Finding] = []
    services = access.request("GET", f"/api/v1/namespaces/{namespace}/services").get("items", [])
    pods = access.request("GET", f"/api/v1/namespaces/{namespace}/pods").get("items", [])
    try:
        policies = access.request(
            "GET", f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies"
        ).get("items", [])
    except KubeError:
        policies = []
    for svc in services:
        selector = (svc.get("spec") or {}).get("selector") or {}
        name = svc["metadata"]["name"]
        if not selector:
            if name != "kubernetes" and (svc.get("spec") or {}).get("type") != "ExternalName":
                out.append(
                    Finding(
                        f"Service {name} has no selector",
                        "no controller keeps its endpoints in step with the pods behind it",
                        [f"spec.selector of service {name} is empty"],
                        "restore the selector (e.g. the app/version labels of its pods)",
                        "warning",
                        f"Service {namespace}/{name}",
                    )
                )
            continue
        try:
            ep = access.request("GET", f"/api/v1/namespaces/{namespace}/endpoints/{name}")
        except KubeError:
            ep = {}
        ready = sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])
        matching = _selected(selector, pods)
        if ready:
            out += _port_findings(svc, matching) + _policy_findings(svc, matching, policies)
            continue
        shown = ",".join(f"{k}={v}" for k, v in selector.items())
        if not matching:
            keys = set(selector)
            nearby = sorted(
                {
                    f"{k}={v}"
                    for p in pods
                    for k, v in (p["metadata"].get("labels") or {}).items()
                    if k in keys
                }
            )
            out.append(
                Finding(
                    f"Service {name} has no endpoints",
                    f"its selector {shown} matches no pod in {namespace}",
                    [
                        f"spec.selector = {selector}",
                        f"endpoints {name}: no addresses",
                        f"pod labels present for those keys: {', '.join(nearby) or 'none'}",
                    ],
                    "fix the Service's selector (or the pods' labels) so they match",
                    "critical",
                    f"Service {namespace}/{name}",
                )
            )
        else:
            out.append(
                Finding(
                    f"Service {name} has no ready endpoints",
                    f"{len(matching)} pod(s) match {shown} but none is Ready",
                    [
                        f"endpoints {name}: no ready addresses",
                        *(f"pod {p['metadata']['name']}: {pod_status_text(p)}" for p in matching[:3]),
                    ],
                    "fix the pods (diagnose_pod shows why they are not ready)",
                    "error",
                    f"Service {namespace}/{name}",
                    affected=len(matching),
                )
            )
    return out


def diagnose_service(access: KubeAccess, name: str, namespace: str) -> tuple[str, dict[str, Any]]:
    """One Service: its endpoints and what keeps them empty or unreachable, and its pods' own problems."""
    svc = access.request("GET", f"/api/v1/namespaces/{namespace}/services/{name}")
    spec = svc.get("spec") or {}
    findings = [f for f in service_findings(access, namespace) if f.subject == f"Service {namespace}/{name}"]
    selector = spec.get("selector") or {}
    pods = access.request("GET", f"/api/v1/namespaces/{namespace}/pods").get("items", []) if selector else []
    for pod in _selected(selector, pods):
        report = diagnose_pod(access, pod["metadata"]["name"], namespace, pod)
        if report.findings:
            findings += report.findings  # the first unhealthy pod speaks for its siblings
            break
    ports = ", ".join(
        f"{p.get('port')}->{p.get('targetPort', p.get('port'))}" for p in spec.get("ports") or []
    )
    try:
        ep = access.request("GET", f"/api/v1/namespaces/{namespace}/endpoints/{name}")
    except KubeError:
        ep = {}
    ready = sum(len(s.get("addresses") or []) for s in ep.get("subsets") or [])
    state = f"type {spec.get('type', 'ClusterIP')}, selector {selector or 'none'}, ports {ports or 'none'}, {ready} ready endpoint(s)"
    lines = [f"service {namespace}/{name}: {state}"]
    lines.append(render_findings(f"diagnosis of service {namespace}/{name}", findings) or "no problem found")
    artifact = {
        "kind": "kubernetes.diagnosis",
        "subject": f"Service {namespace}/{name}",
        "status": state,
        "findings": [f.as_dict() for f in findings],
        "events": [],
        "logs": {},
    }
    return "\n".join(lines), artifact
