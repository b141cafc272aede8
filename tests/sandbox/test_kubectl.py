"""kubectl (Debian's `kubernetes-client`, or any on PATH / OPSGRAPH_TEST_KUBECTL) against the sandbox, unmodified."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.testing import SandboxCluster

KUBECTL = os.environ.get("OPSGRAPH_TEST_KUBECTL") or shutil.which("kubectl")
pytestmark = pytest.mark.skipif(
    not KUBECTL, reason="kubectl is not installed (Debian package kubernetes-client)"
)


def kubectl(
    cluster: SandboxCluster, *args: str, stdin: str | None = None, context: str = "sandbox"
) -> subprocess.CompletedProcess[str]:
    cmd = [str(KUBECTL), "--kubeconfig", str(cluster.kubeconfig), "--context", context, *args]
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.usefixtures("sandbox_only")
def test_get_shows_seeded_faults(sandbox_cluster: SandboxCluster) -> None:
    out = kubectl(sandbox_cluster, "get", "pods", "-n", "shop")
    assert out.returncode == 0, out.stderr
    assert "CrashLoopBackOff" in out.stdout and "ImagePullBackOff" in out.stdout


def test_create_apply_scale_delete_and_server_dry_run(
    sandbox_cluster: SandboxCluster, sandbox_namespace: str, tmp_path: Path
) -> None:
    ns = ["-n", sandbox_namespace]
    assert kubectl(sandbox_cluster, "create", "deployment", "web", "--image=nginx:1.27", *ns).returncode == 0
    scaled = kubectl(sandbox_cluster, "scale", "deployment/web", "--replicas=3", *ns)
    assert scaled.returncode == 0, scaled.stderr
    ready = kubectl(
        sandbox_cluster, "get", "deployment", "web", "-o", "jsonpath={.status.readyReplicas}", *ns
    )
    assert ready.stdout == "3"
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: dark\n")
    dry = kubectl(sandbox_cluster, "apply", "-f", str(manifest), "--dry-run=server", *ns)
    assert dry.returncode == 0 and "server dry run" in dry.stdout, dry.stderr
    assert kubectl(sandbox_cluster, "get", "configmap", "settings", *ns).returncode != 0
    assert kubectl(sandbox_cluster, "apply", "-f", str(manifest), *ns).returncode == 0
    manifest.write_text(manifest.read_text().replace("dark", "light"))
    assert kubectl(sandbox_cluster, "apply", "-f", str(manifest), *ns).returncode == 0
    got = kubectl(sandbox_cluster, "get", "configmap", "settings", "-o", "jsonpath={.data.mode}", *ns)
    assert got.stdout == "light"
    deleted = kubectl(sandbox_cluster, "delete", "deployment", "web", *ns)
    assert deleted.returncode == 0, deleted.stderr
    assert kubectl(sandbox_cluster, "get", "pods", "-o", "name", *ns).stdout.strip() == ""


@pytest.mark.usefixtures("sandbox_only")
def test_forbidden_user_and_auth_can_i(sandbox_cluster: SandboxCluster) -> None:
    denied = kubectl(sandbox_cluster, "get", "pods", "-n", "shop", context="sandbox-intern")
    assert denied.returncode != 0 and "Forbidden" in denied.stderr and 'User "intern"' in denied.stderr
    yes = kubectl(
        sandbox_cluster, "auth", "can-i", "patch", "deployments", "-n", "shop", context="sandbox-developer"
    )
    no = kubectl(sandbox_cluster, "auth", "can-i", "delete", "nodes", context="sandbox-developer")
    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    assert (no.returncode, no.stdout.strip()) == (1, "no")


@pytest.mark.usefixtures("sandbox_only")
def test_logs_of_the_crashing_container(sandbox_cluster: SandboxCluster) -> None:
    out = kubectl(sandbox_cluster, "logs", "-n", "shop", "deployment/checkout", "--previous", "--tail=1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "KeyError: 'PAYMENT_SERVICE_URL'"
