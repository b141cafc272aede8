"""A kubeconfig for the sandbox: one context per user, each with its own bearer token."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

__all__ = ["CLUSTER_NAME", "kubeconfig_document", "write_kubeconfig"]

CLUSTER_NAME = "opsgraph-sandbox"


def _context_name(user: str) -> str:
    return "sandbox" if user == "admin" else f"sandbox-{user}"


def kubeconfig_document(
    url: str, tokens: dict[str, str], namespace: str = "default", ca_pem: bytes | None = None
) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": url}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_NAME, "cluster": cluster}],
        "users": [
            {"name": f"{CLUSTER_NAME}-{user}", "user": {"token": token}} for user, token in tokens.items()
        ],
        "contexts": [
            {
                "name": _context_name(user),
                "context": {
                    "cluster": CLUSTER_NAME,
                    "user": f"{CLUSTER_NAME}-{user}",
                    "namespace": namespace,
                },
            }
            for user in tokens
        ],
        "current-context": "sandbox",
        "preferences": {},
    }


def write_kubeconfig(
    path: Path, url: str, tokens: dict[str, str], namespace: str = "default", ca_pem: bytes | None = None
) -> Path:
    """Write (atomically, mode 0600) a kubeconfig whose contexts are `sandbox` (admin) and `sandbox-<user>`."""
    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(kubeconfig_document(url, tokens, namespace, ca_pem), sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
