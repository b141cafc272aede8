"""CustomResourceDefinitions: the definition's validation, custom objects through the official client and kubectl."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from sandbox.testing import SandboxCluster
from tests.sandbox.test_kubectl import KUBECTL, kubectl

pytestmark = pytest.mark.usefixtures("sandbox_only")

GROUP = "example.com"


def _crd(plural: str, kind: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    spec_schema = {
        "type": "object",
        "required": ["size"],
        "properties": {
            "size": {"type": "string", "enum": ["small", "large"], "description": "How big the widget is."},
            "replicas": {"type": "integer", "minimum": 0, "default": 1},
            "color": {"type": "string", "default": "blue"},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.replicas",
                            "statusReplicasPath": ".status.replicas",
                        },
                    },
                    "additionalPrinterColumns": [
                        {"name": "Size", "type": "string", "jsonPath": ".spec.size"}
                    ],
                    "schema": {
                        "openAPIV3Schema": schema
                        or {
                            "type": "object",
                            "properties": {
                                "spec": spec_schema,
                                "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
                            },
                        }
                    },
                }
            ],
        },
    }


@pytest.fixture
def widgets(kube_client: Any) -> Any:
    ext = client.ApiextensionsV1Api(kube_client)
    name = f"w{threading.get_ident() % 100000}x"
    plural, kind = f"{name}s", name.capitalize()
    created = ext.create_custom_resource_definition(_crd(plural, kind))
    yield plural, kind
    ext.delete_custom_resource_definition(created.metadata.name)


def test_a_crd_needs_a_structural_schema(kube_client: Any) -> None:
    """apiextensions refuses a schema whose fields have no type: `must not be empty for specified object fields`."""
    ext = client.ApiextensionsV1Api(kube_client)
    bad = _crd(
        "gadgets",
        "Gadget",
        {"type": "object", "properties": {"spec": {"properties": {"a": {"type": "string"}}}}},
    )
    with pytest.raises(ApiException) as raised:
        ext.create_custom_resource_definition(bad)
    assert raised.value.status == 422
    assert (
        "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value" in raised.value.body
    )


def test_custom_objects_crud_defaults_validation_status_scale_and_watch(
    kube_client: Any, widgets: tuple[str, str], sandbox_namespace: str
) -> None:
    """The CRD is Established; objects get schema defaults, unknown fields pruned, OpenAPI validation
    errors as 422; status and scale subresources; watch delivers ADDED and MODIFIED."""
    plural, kind = widgets
    ext = client.ApiextensionsV1Api(kube_client)
    crd = ext.read_custom_resource_definition(f"{plural}.{GROUP}")
    assert {c.type: c.status for c in crd.status.conditions}["Established"] == "True"
    objects = client.CustomObjectsApi(kube_client)
    ns = sandbox_namespace
    body = {"apiVersion": f"{GROUP}/v1", "kind": kind, "metadata": {"name": "one"}, "spec": {"size": "small"}}
    created = objects.create_namespaced_custom_object(GROUP, "v1", ns, plural, body)
    assert created["spec"] == {"size": "small", "replicas": 1, "color": "blue"}
    with pytest.raises(ApiException) as bad:
        objects.create_namespaced_custom_object(
            GROUP,
            "v1",
            ns,
            plural,
            {**body, "metadata": {"name": "two"}, "spec": {"size": "huge", "replicas": -1}},
        )
    assert bad.value.status == 422
    message = json.loads(bad.value.body)["message"]
    assert 'spec.size: Unsupported value: "huge": supported values: "small", "large"' in message
    assert "spec.replicas in body should be greater than or equal to 0" in message
    stream = watch.Watch().stream(
        objects.list_namespaced_custom_object, GROUP, "v1", ns, plural, timeout_seconds=5
    )
    assert next(stream)["type"] == "ADDED"
    objects.patch_namespaced_custom_object_scale(GROUP, "v1", ns, plural, "one", {"spec": {"replicas": 4}})
    event = next(stream)
    assert (event["type"], event["object"]["spec"]["replicas"]) == ("MODIFIED", 4)
    objects.patch_namespaced_custom_object_status(GROUP, "v1", ns, plural, "one", {"status": {"replicas": 4}})
    scale = objects.get_namespaced_custom_object_scale(GROUP, "v1", ns, plural, "one")
    assert (scale["spec"]["replicas"], scale["status"]["replicas"]) == (4, 4)
    spec_change = objects.patch_namespaced_custom_object(
        GROUP, "v1", ns, plural, "one", {"status": {"replicas": 9}}
    )
    assert (
        spec_change["status"]["replicas"] == 4
    )  # the main resource ignores status with a status subresource


@pytest.mark.skipif(not KUBECTL, reason="kubectl is not installed")
def test_kubectl_on_custom_resources(
    sandbox_cluster: SandboxCluster, widgets: tuple[str, str], sandbox_namespace: str
) -> None:
    """kubectl apply/get (printer columns)/scale/explain on a custom resource; a strategic merge patch is
    415 for custom resources, as upstream."""
    plural, kind = widgets
    ns = ["-n", sandbox_namespace]
    manifest = f"apiVersion: {GROUP}/v1\nkind: {kind}\nmetadata:\n  name: w1\nspec:\n  size: small\n"
    assert kubectl(sandbox_cluster, "apply", "-f", "-", *ns, stdin=manifest).returncode == 0
    listed = kubectl(sandbox_cluster, "get", plural, *ns)
    assert listed.stdout.split() == ["NAME", "SIZE", "w1", "small"], listed.stderr
    assert kubectl(sandbox_cluster, "scale", f"{plural}/w1", "--replicas=2", *ns).returncode == 0
    strategic = kubectl(sandbox_cluster, "patch", f"{plural}/w1", "-p", '{"spec":{"size":"large"}}', *ns)
    assert strategic.returncode != 0 and "unknown format" in strategic.stderr
    merged = kubectl(
        sandbox_cluster, "patch", f"{plural}/w1", "--type=merge", "-p", '{"spec":{"size":"large"}}', *ns
    )
    assert merged.returncode == 0, merged.stderr
    explained = kubectl(sandbox_cluster, "explain", f"{plural}.spec.size")
    assert "How big the widget is." in explained.stdout, explained.stderr
