"""OpenAPI v2/v3 from the Kubernetes schemas, identity endpoints, and request-format details of the apiserver."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]
from kubernetes import client

from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL, kubectl
from tests.sandbox.test_write_semantics import _http

pytestmark = pytest.mark.usefixtures("sandbox_only")


def test_openapi_v3_serves_real_schemas_with_write_parameters(sandbox_cluster: SandboxCluster) -> None:
    """`/openapi/v3` lists each group version; its document holds the kinds' schemas (tagged with their
    group-version-kind) and PATCH operations declaring `fieldValidation`, which kubectl reads to choose
    server-side validation."""
    http = _http(sandbox_cluster)
    index = http.get("/openapi/v3").json()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1"} <= set(index)
    doc = http.get(index["apis/apps/v1"]["serverRelativeURL"]).json()
    deployment = doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    spec = doc["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]
    assert spec["properties"]["replicas"]["type"] == "integer"
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    v2 = http.get("/openapi/v2", headers={"Accept": "application/json"}).json()
    assert v2["definitions"]["io.k8s.api.core.v1.Container"]["properties"]["image"]["type"] == "string"


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_explain(sandbox_cluster: SandboxCluster) -> None:
    """kubectl explain reads the field's type and description from the served OpenAPI."""
    out = kubectl(sandbox_cluster, "explain", "deployment.spec.replicas")
    assert out.returncode == 0, out.stderr
    assert "FIELD: replicas <integer>" in out.stdout and "Number of desired pods" in out.stdout


def test_version_without_a_token_and_other_reads_need_one(sandbox_cluster: SandboxCluster) -> None:
    """Anonymous requests may read /version (system:public-info-viewer); /api needs authentication."""
    anonymous = httpx.Client(base_url=sandbox_cluster.url, timeout=10)
    assert anonymous.get("/version").json()["major"] == "1"
    assert anonymous.get("/api").status_code == 401


def test_yaml_when_asked(sandbox_cluster: SandboxCluster) -> None:
    """`Accept: application/yaml` gets YAML, as the apiserver's content negotiation gives it."""
    answer = _http(sandbox_cluster).get(
        "/api/v1/namespaces/default/serviceaccounts/default", headers={"Accept": "application/yaml"}
    )
    assert answer.headers["Content-Type"] == "application/yaml"
    assert yaml.safe_load(answer.text)["metadata"]["name"] == "default"


def test_unsupported_field_selector_is_a_400(sandbox_cluster: SandboxCluster) -> None:
    """Pods support a fixed set of field labels: another one is 400 `field label not supported`, not an empty list."""
    http = _http(sandbox_cluster)
    bad = http.get("/api/v1/pods", params={"fieldSelector": "spec.foo=bar"})
    assert (bad.status_code, bad.json()["message"]) == (400, "field label not supported: spec.foo")
    good = http.get("/api/v1/namespaces/shop/pods", params={"fieldSelector": "status.phase=Running"})
    assert good.status_code == 200 and good.json()["items"]


def test_token_request_and_whoami(
    kube_client: Any, sandbox_cluster: SandboxCluster, sandbox_namespace: str
) -> None:
    """TokenRequest returns a token that authenticates as the ServiceAccount (with its groups), and
    SelfSubjectReview says who the caller is."""
    core = client.CoreV1Api(kube_client)
    request = core.create_namespaced_service_account_token("default", sandbox_namespace, {"spec": {}})
    token = request.status.token
    review = httpx.post(
        f"{sandbox_cluster.url}/apis/authentication.k8s.io/v1/selfsubjectreviews",
        headers={"Authorization": f"Bearer {token}"},
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
        timeout=10,
    ).json()
    user = review["status"]["userInfo"]
    assert user["username"] == f"system:serviceaccount:{sandbox_namespace}:default"
    assert f"system:serviceaccounts:{sandbox_namespace}" in user["groups"]
    denied = httpx.get(
        f"{sandbox_cluster.url}/api/v1/secrets", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert denied.status_code == 403


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_create_token_priorityclass_and_whoami(sandbox_cluster: SandboxCluster) -> None:
    """kubectl create token / create priorityclass / auth whoami, which were 404 before."""
    token = kubectl(sandbox_cluster, "create", "token", "default", "-n", "default")
    assert token.returncode == 0 and token.stdout.strip(), token.stderr
    created = kubectl(
        sandbox_cluster, "create", "priorityclass", "test-high", "--value=1000", "--description=test"
    )
    assert created.returncode == 0, created.stderr
    got = kubectl(sandbox_cluster, "get", "priorityclass", "test-high", "-o", "json")
    assert json.loads(got.stdout)["value"] == 1000
    kubectl(sandbox_cluster, "delete", "priorityclass", "test-high")
    who = kubectl(sandbox_cluster, "auth", "whoami")
    assert "admin" in who.stdout and "system:masters" in who.stdout, who.stderr


def _fields(data: bytes) -> list[tuple[int, bytes]]:
    """Length-delimited fields of a protobuf message (others skipped), for reading gnostic's encoding."""
    out, pos = [], 0
    while pos < len(data):
        key, shift = 0, 0
        while True:
            byte = data[pos]
            pos += 1
            key |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        number, wire = key >> 3, key & 7
        if wire == 2:
            size, shift = 0, 0
            while True:
                byte = data[pos]
                pos += 1
                size |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            out.append((number, data[pos : pos + size]))
            pos += size
        elif wire == 0:
            while data[pos] >= 0x80:
                pos += 1
            pos += 1
        elif wire == 1:
            pos += 8
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def test_openapi_v2_protobuf_carries_the_definitions(sandbox_cluster: SandboxCluster) -> None:
    """kubectl before 1.27 reads `/openapi/v2` as gnostic protobuf: its `definitions` (field 9) name each
    schema (NamedSchema 1) with its description (Schema 4), as a real apiserver's does."""
    proto = (
        _http(sandbox_cluster)
        .get("/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
        .content
    )
    definitions = next(payload for number, payload in _fields(proto) if number == 9)
    named = {}
    for _, entry in _fields(definitions):
        parts = dict(_fields(entry))
        named[parts[1].decode()] = parts.get(2, b"")
    deployment = dict(_fields(named["io.k8s.api.apps.v1.Deployment"]))
    assert deployment[4].decode().startswith("Deployment enables declarative updates")


def test_a_cbor_body_is_415_and_protobuf_is_decoded(sandbox_cluster: SandboxCluster) -> None:
    """CBOR is behind a feature gate in 1.31: the apiserver's 415 for a media type it cannot decode. A
    protobuf Namespace without a name is decoded, then refused as the apiserver refuses it (422)."""
    http = _http(sandbox_cluster)
    cbor = http.post(
        "/api/v1/namespaces", content=b"\xd9\xd9\xf7\xa0", headers={"Content-Type": "application/cbor"}
    )
    assert (cbor.status_code, cbor.json()["reason"]) == (415, "UnsupportedMediaType")
    nameless = http.post(
        "/api/v1/namespaces",
        content=b"k8s\x00\n\x0f\n\x02v1\x12\tNamespace",
        headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
    )
    assert (nameless.status_code, nameless.json()["reason"]) == (422, "Invalid")
