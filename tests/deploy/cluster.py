"""Helpers for the deploy tests: render deploy/ with `kubectl kustomize`, apply it to a sandbox, act as the
deployed ServiceAccount."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICE_ACCOUNT = "system:serviceaccount:opsgraph:opsgraph"
SA_GROUPS = ["system:serviceaccounts", "system:serviceaccounts:opsgraph", "system:authenticated"]

__all__ = [
    "ROOT",
    "SA_GROUPS",
    "SERVICE_ACCOUNT",
    "documents",
    "kubectl",
    "render",
    "service_account_kubeconfig",
]


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("kubectl")
    assert binary is not None
    return subprocess.run(
        [binary, f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def render(kustomization: str) -> str:
    """`kubectl kustomize deploy/...`: the manifests a user applies (kustomize is built into kubectl)."""
    binary = shutil.which("kubectl")
    assert binary is not None
    done = subprocess.run(
        [binary, "kustomize", str(ROOT / kustomization)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def documents(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def service_account_kubeconfig(admin_kubeconfig: Path, token: str, path: Path) -> Path:
    """A kubeconfig for the sandbox's server that authenticates with the ServiceAccount's token."""
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    context = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])
    cluster = next(c for c in admin["clusters"] if c["name"] == context["context"]["cluster"])
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "cluster", "cluster": cluster["cluster"]}],
        "users": [{"name": "opsgraph", "user": {"token": token}}],
        "contexts": [{"name": "opsgraph", "context": {"cluster": "cluster", "user": "opsgraph"}}],
        "current-context": "opsgraph",
    }
    path.write_text(yaml.safe_dump(config))
    return path
