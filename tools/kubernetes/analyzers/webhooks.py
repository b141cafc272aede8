"""Admission webhooks whose Service is missing or has no ready pod: with failurePolicy Fail every request
they match is rejected; with Ignore it goes through unchecked (or unmutated)."""

from __future__ import annotations

from typing import Any

from tools.kubernetes.findings import Finding
from tools.kubernetes.render import pod_status_text
from tools.kubernetes.view import ClusterView

__all__ = ["webhook_findings"]


def _rules(hook: dict[str, Any]) -> str:
    parts = [
        f"{'/'.join(r.get('operations') or ['*'])} {','.join(r.get('resources') or ['*'])}"
        for r in hook.get("rules") or []
    ]
    return "; ".join(parts) or "every request"


def _one(
    view: ClusterView, kind: str, config: dict[str, Any], n: int, hook: dict[str, Any]
) -> Finding | None:
    service = (hook.get("clientConfig") or {}).get("service")
    if not service:
        return None  # a URL webhook: outside the cluster, nothing to check here
    ns, name = service.get("namespace", ""), service.get("name", "")
    policy = hook.get("failurePolicy", "Fail")
    svc = view.find("services", ns, name)
    field = f"webhooks[{n}].clientConfig.service"
    if svc is None:
        why, evidence = (
            f"its Service {ns}/{name} does not exist",
            [f"{field} = {ns}/{name}", f"service {ns}/{name}: not found"],
        )
    elif view.ready_endpoints(ns, name) == 0:
        pods = view.pods_selected(ns, {"matchLabels": (svc.get("spec") or {}).get("selector") or {}})
        why = f"its Service {ns}/{name} has no ready endpoint"
        evidence = [
            f"{field} = {ns}/{name}",
            f"endpoints {name}: no ready addresses",
            *(f"pod {p['metadata']['name']}: {pod_status_text(p)}" for p in pods[:3]),
        ]
        if not pods:
            evidence.append(
                f"no pod matches the Service's selector {(svc.get('spec') or {}).get('selector')}"
            )
    else:
        return None
    evidence.append(f"webhooks[{n}].failurePolicy = {policy}; rules: {_rules(hook)}")
    who = f"{kind} {config['metadata']['name']}"
    blocking = policy == "Fail"
    effect = (
        f"every request it matches ({_rules(hook)}) is rejected with 'failed calling webhook'"
        if blocking
        else f"requests it matches ({_rules(hook)}) pass {'unmutated' if kind.startswith('Mutating') else 'unchecked'}"
    )
    return Finding(
        f"admission webhook {hook.get('name')} cannot be reached"
        + (" and blocks requests" if blocking else ""),
        f"{why}; failurePolicy {policy}: {effect}",
        evidence,
        f"bring the webhook's pods back (or fix {field}); to unblock now, set failurePolicy Ignore or delete {who}",
        "critical" if blocking else "warning",
        who,
    )


def webhook_findings(view: ClusterView) -> list[Finding]:
    out: list[Finding] = []
    for plural, kind in (
        ("validatingwebhookconfigurations", "ValidatingWebhookConfiguration"),
        ("mutatingwebhookconfigurations", "MutatingWebhookConfiguration"),
    ):
        for config in view.items(plural):
            for n, hook in enumerate(config.get("webhooks") or []):
                finding = _one(view, kind, config, n, hook)
                if finding is not None:
                    out.append(finding)
    return out
