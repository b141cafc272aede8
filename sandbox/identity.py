"""Who a request is: SelfSubjectReview (`kubectl auth whoami`) and TokenRequest (`kubectl create token`)."""

from __future__ import annotations

import time
from typing import Any

from sandbox.auth import TokenAuthenticator
from sandbox.cluster import Cluster, resource
from sandbox.errors import invalid
from sandbox.http import Request, Response, json_response
from sandbox.rbac import User
from sandbox.store import now_rfc3339, rfc3339

__all__ = ["self_subject_review", "token_request"]

_DEFAULT_SECONDS = 3600
_MIN_SECONDS = 600


def self_subject_review(user: User) -> Response:
    """The requester's user info, as the authenticator saw it (after impersonation)."""
    return json_response(
        201,
        {
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": now_rfc3339()},
            "status": {"userInfo": {"username": user.name, "groups": list(user.groups)}},
        },
    )


def token_request(
    cluster: Cluster, authenticator: TokenAuthenticator, req: Request, namespace: str, name: str
) -> Response:
    """A bound ServiceAccount token the sandbox accepts as that ServiceAccount until it expires."""
    account = cluster.store.get(resource("serviceaccounts"), namespace, name)
    body: dict[str, Any] = req.json() or {}
    spec = dict(body.get("spec") or {})
    seconds = int(spec.get("expirationSeconds") or _DEFAULT_SECONDS)
    if seconds < _MIN_SECONDS:
        raise invalid(
            "TokenRequest",
            "tokenrequests.authentication.k8s.io",
            name,
            [
                (
                    "spec.expirationSeconds",
                    "FieldValueInvalid",
                    f"Invalid value: {seconds}: may not specify a duration less than 10 minutes",
                )
            ],
        )
    expires = time.time() + seconds
    user = f"system:serviceaccount:{namespace}:{name}"
    token = authenticator.issue(user, expires) if not req.dry_run else ""
    spec.setdefault("audiences", ["https://kubernetes.default.svc.cluster.local"])
    spec["expirationSeconds"] = seconds
    return json_response(
        201,
        {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "creationTimestamp": now_rfc3339(),
                "uid": account["metadata"]["uid"],
            },
            "spec": spec,
            "status": {"token": token, "expirationTimestamp": rfc3339(expires)},
        },
    )
