"""Access reviews: SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectRulesReview."""

from __future__ import annotations

from typing import Any

from sandbox.errors import bad_request
from sandbox.http import Request, Response, json_response
from sandbox.rbac import Attributes, Authorizer, User, service_account_groups
from sandbox.resources import ResourceType

__all__ = ["attributes_of", "review"]


def attributes_of(spec: dict[str, Any], namespace: str = "") -> Attributes:
    res = spec.get("resourceAttributes")
    if res:
        return Attributes(
            res.get("verb", ""),
            res.get("group", ""),
            res.get("resource", ""),
            res.get("subresource", ""),
            namespace or res.get("namespace", ""),
            res.get("name", ""),
        )
    non = spec.get("nonResourceAttributes")
    if non:
        return Attributes(non.get("verb", ""), path=non.get("path", ""))
    raise bad_request("exactly one of nonResourceAttributes or resourceAttributes must be specified")


def review(authorizer: Authorizer, rt: ResourceType, req: Request, user: User, namespace: str) -> Response:
    body = req.json() or {}
    spec = body.get("spec") or {}
    if rt.kind == "SelfSubjectRulesReview":
        ns = spec.get("namespace", "")
        rules = (
            authorizer.rules_for(user, ns)
            if "system:masters" not in user.groups
            else [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ]
        )
        rules_status = {
            "resourceRules": [
                {k: r.get(k, []) for k in ("verbs", "apiGroups", "resources", "resourceNames")}
                for r in rules
                if r.get("resources")
            ],
            "nonResourceRules": [
                {"verbs": r.get("verbs", []), "nonResourceURLs": r["nonResourceURLs"]}
                for r in rules
                if r.get("nonResourceURLs")
            ],
            "incomplete": False,
        }
        return json_response(
            201, {**body, "apiVersion": rt.api_version, "kind": rt.kind, "status": rules_status}
        )
    if rt.kind == "SelfSubjectAccessReview":
        subject = user
    else:
        if not spec.get("user") and not spec.get("groups"):
            raise bad_request("at least one of user or group must be specified")
        subject = User(spec.get("user", ""), tuple(spec.get("groups") or ()))
        if subject.name.startswith("system:serviceaccount:"):
            subject = User(
                subject.name, (*subject.groups, *service_account_groups(subject.name), "system:authenticated")
            )
    attrs = attributes_of(spec, namespace if rt.kind == "LocalSubjectAccessReview" else "")
    allowed, reason = authorizer.allowed(subject, attrs)
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return json_response(
        201,
        {
            **body,
            "apiVersion": rt.api_version,
            "kind": rt.kind,
            "metadata": body.get("metadata") or {},
            "status": status,
        },
    )
