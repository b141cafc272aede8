"""deploy/ renders with `kubectl kustomize` and the sandbox's API server accepts every object with a
server-side dry run and strict field validation (and refuses one with a misspelt field, so the check bites);
the rendered Deployment has what a cluster operator expects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sandbox.process import SandboxProcess
from tests.deploy.cluster import ROOT, documents, kubectl, render

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed")
PROFILES = {"read": "deploy/base", "write": "deploy/overlays/write"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("deploy-sandbox") / "kubeconfig"
    with SandboxProcess(scenario="empty", kubeconfig=path) as sandbox:
        yield sandbox.kubeconfig


def _by_kind(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    kinds: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        kinds.setdefault(doc["kind"], []).append(doc)
    return kinds


def test_the_rbac_files_are_what_opsgraph_s_synthesis_writes() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "rbac.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_the_render_passes_a_strict_server_side_dry_run(profile: str, cluster: Path) -> None:
    text = render(PROFILES[profile])
    # The namespace must exist for a dry run of the objects in it (a dry run creates nothing).
    kubectl(cluster, "create", "namespace", "opsgraph")
    done = kubectl(cluster, "apply", "--dry-run=server", "--validate=strict", "-f", "-", stdin=text)
    assert done.returncode == 0, done.stderr
    applied = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(applied) == len(documents(text)), done.stdout
    assert all(line.endswith("(server dry run)") for line in applied), done.stdout
    # nothing was created by the dry run
    assert kubectl(cluster, "get", "deployment", "opsgraph", "-n", "opsgraph").returncode != 0

    misspelt = text.replace("  replicas: 2\n", "  replicass: 2\n", 1)
    refused = kubectl(cluster, "apply", "--dry-run=server", "--validate=strict", "-f", "-", stdin=misspelt)
    assert refused.returncode != 0
    assert 'unknown field "spec.replicass"' in refused.stderr


def test_the_deployment_has_probes_requests_secrets_and_a_network_policy() -> None:
    kinds = _by_kind(documents(render("deploy/base")))
    (deployment,) = kinds["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["serviceAccountName"] == "opsgraph"
    assert container["args"][:1] == ["serve"] and "0.0.0.0" in container["args"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/healthz", probe
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    secret_refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
    (secret,) = kinds["Secret"]
    for name, ref in secret_refs.items():  # a required key is in the Secret; the others are optional
        assert ref["name"] == secret["metadata"]["name"]
        assert ref.get("optional") or ref["key"] in secret["stringData"], name
    assert {"OPSGRAPH_API_TOKENS", "OPSGRAPH_CHECKPOINT_URL", "OPSGRAPH_API_KEY"} <= set(secret_refs)
    assert {"OPSGRAPH_SLACK_BOT_TOKEN", "OPSGRAPH_SLACK_SIGNING_SECRET"} <= set(secret_refs)
    assert secret["stringData"]["OPSGRAPH_CHECKPOINT_URL"].startswith("postgresql://")
    (service,) = kinds["Service"]
    assert service["spec"]["selector"].items() <= pod_labels(deployment).items()
    (policy,) = kinds["NetworkPolicy"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels(deployment).items()
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    (settings,) = [c for c in kinds["ConfigMap"] if c["metadata"]["name"] == "opsgraph-settings"]
    assert (
        settings["data"]["OPSGRAPH_READ_ONLY"] == "true" and settings["data"]["OPSGRAPH_SANDBOX"] == "false"
    )
    kubeconfig = next(c for c in kinds["ConfigMap"] if c["metadata"]["name"] == "opsgraph-kubeconfig")
    user = yaml.safe_load(kubeconfig["data"]["kubeconfig"])["users"][0]["user"]
    assert user == {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}


def test_the_write_overlay_turns_read_only_off_and_adds_the_write_role() -> None:
    kinds = _by_kind(documents(render("deploy/overlays/write")))
    settings = next(c for c in kinds["ConfigMap"] if c["metadata"]["name"] == "opsgraph-settings")
    assert settings["data"]["OPSGRAPH_READ_ONLY"] == "false"
    assert {r["metadata"]["name"] for r in kinds["ClusterRole"]} == {"opsgraph-read", "opsgraph-write"}


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = deployment["spec"]["template"]["metadata"]["labels"]
    return labels
