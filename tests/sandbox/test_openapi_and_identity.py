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
