"""Ingress: a backend Service or port that does not exist or has no ready pod, an IngressClass that is
missing or not named at all, a TLS Secret that is missing."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.findings import Finding
from tools.kubernetes.view import ClusterView, subject

__all__ = ["ingress_findings"]

_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
_DEFAULT_CLASS = "ingressclass.kubernetes.io/is-default-class"


def _backends(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(field path, service backend) of every rule path and the default backend."""
    out = []
    if ((spec.get("defaultBackend") or {}).get("service")) is not None:
        out.append(("spec.defaultBackend", spec["defaultBackend"]["service"]))
    for r, rule in enumerate(spec.get("rules") or []):
        for p, path in enumerate((rule.get("http") or {}).get("paths") or []):
            service = (path.get("backend") or {}).get("service")
            if service is not None:
                out.append((f"spec.rules[{r}].http.paths[{p}] ({path.get('path', '/')})", service))
    return out


def _class_findings(view: ClusterView, ing: dict[str, Any], who: str) -> list[Finding]:
    spec, meta = ing.get("spec") or {}, ing["metadata"]
    classes = {c["metadata"]["name"]: c for c in view.items("ingressclasses")}
    named = spec.get("ingressClassName") or (meta.get("annotations") or {}).get(_CLASS_ANNOTATION)
    defaults = [
        n
        for n, c in classes.items()
        if (c["metadata"].get("annotations") or {}).get(_DEFAULT_CLASS) == "true"
    ]
    known = ", ".join(sorted(classes)) or "none"
    if not named:
        if defaults:
            return []
        return [
            Finding(
                f"{who} has no IngressClass",
                "it names no class (no spec.ingressClassName, no kubernetes.io/ingress.class annotation) and no "
                "IngressClass is the cluster default, so no ingress controller serves it",
                [
                    "spec.ingressClassName: not set",
                    f"IngressClasses in the cluster: {known} (none is the default)",
                ],
                f"set spec.ingressClassName to one of: {known} (or mark one class as the default)",
                "warning",
                who,
            )
        ]
    if named not in classes:
        return [
            Finding(
                f"{who} uses IngressClass {named}, which does not exist",
                f"no IngressClass {named} exists, so no ingress controller serves this Ingress",
                [f"spec.ingressClassName = {named}", f"IngressClasses in the cluster: {known}"],
                f"set spec.ingressClassName to one of: {known}, or install the controller for {named}",
                "error",
                who,
            )
        ]
    return []


def _backend_finding(
    view: ClusterView, ns: str, who: str, where: str, backend: dict[str, Any]
) -> Finding | None:
    name = backend.get("name", "")
    port = backend.get("port") or {}
    wanted = port.get("number") or port.get("name")
    svc = view.find("services", ns, name)
    if svc is None:
        present = (
            ", ".join(sorted(s["metadata"]["name"] for s in view.in_namespace("services", ns))) or "none"
        )
        return Finding(
            f"{who} routes {where} to Service {name}, which does not exist",
            f"Service {ns}/{name} is missing: requests on that path get 503 from the ingress controller",
            [f"{where}.backend.service.name = {name}", f"Services in {ns}: {present}"],
            f"create Service {name}, or point the path at an existing Service",
            "error",
            who,
        )
    ports = (svc.get("spec") or {}).get("ports") or []
    if wanted and not any(wanted in (p.get("port"), p.get("name")) for p in ports):
        offered = ", ".join(str(p.get("port")) + (f" ({p['name']})" if p.get("name") else "") for p in ports)
        return Finding(
            f"{who} routes {where} to port {wanted} of Service {name}, which has no such port",
            f"Service {ns}/{name} exposes {offered or 'no port'}, not {wanted}",
            [f"{where}.backend.service.port = {wanted}", f"service {name}: spec.ports = {offered or 'none'}"],
            f"set the backend port to one the Service exposes ({offered})",
            "error",
            who,
        )
    if (svc.get("spec") or {}).get("selector") and view.ready_endpoints(ns, name) == 0:
        return Finding(
            f"{who} routes {where} to Service {name}, which has no ready endpoint",
            f"no Ready pod backs Service {ns}/{name}: requests on that path get 503",
            [f"endpoints {name}: no ready addresses", f"{where}.backend.service.name = {name}"],
            f"fix the pods behind Service {name} (diagnose_service shows why they are not ready)",
            "error",
            who,
        )
    return None


def ingress_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    for ing in view.items("ingresses"):
        ns, who = ing["metadata"]["namespace"], subject("Ingress", ing)
        spec = ing.get("spec") or {}
        out += _class_findings(view, ing, who)
        for where, backend in _backends(spec):
            finding = _backend_finding(view, ns, who, where, backend)
            if finding is not None:
                out.append(finding)
        for n, tls in enumerate(spec.get("tls") or []):
            secret = tls.get("secretName")
            if secret and view.find("secrets", ns, secret) is None:
                out.append(
                    Finding(
                        f"{who} uses TLS Secret {secret}, which does not exist",
                        "the controller serves its default certificate for these hosts, which clients reject",
                        [
                            f"spec.tls[{n}].secretName = {secret}",
                            f"hosts: {', '.join(tls.get('hosts') or [])}",
                        ],
                        f"create Secret {secret} (type kubernetes.io/tls) or fix the name",
                        "warning",
                        who,
                    )
                )
    return out
