"""One `ApiClient` per cluster and context: built once, shared by every call and thread."""

from __future__ import annotations

import threading
from typing import Any

from sandbox.testing import SandboxCluster
from tools.base import ToolContext
from tools.kubernetes import access as access_module
from tools.kubernetes.access import KubeAccess


def test_concurrent_first_calls_build_one_client_and_later_calls_reuse_it(
    sandbox_cluster: SandboxCluster,
) -> None:
    access = KubeAccess(ToolContext(kubeconfig=sandbox_cluster.kubeconfig))
    seen: list[Any] = []
    barrier = threading.Barrier(8)

    def first_use() -> None:
        barrier.wait()
        seen.append(access.client)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(seen) == 8 and all(client is seen[0] for client in seen)
    namespaces = access.request("GET", "/api/v1/namespaces")["items"]
    assert access.client is seen[0] and namespaces
    access.close()


def test_each_context_gets_its_own_client_with_its_own_identity(sandbox_cluster: SandboxCluster) -> None:
    if sandbox_cluster.real:
        return  # the sandbox's contexts (admin, viewer) are what this compares
    admin = KubeAccess(ToolContext(kubeconfig=sandbox_cluster.kubeconfig))
    viewer = KubeAccess(ToolContext(kubeconfig=sandbox_cluster.kubeconfig, kube_context="sandbox-viewer"))
    assert admin.client is not viewer.client
    headers = (admin.client.configuration.api_key, viewer.client.configuration.api_key)
    assert headers[0] != headers[1]
    review = {"spec": {"resourceAttributes": {"verb": "delete", "resource": "pods", "namespace": "shop"}}}
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    assert admin.request("POST", path, None, review)["status"]["allowed"] is True
    assert viewer.request("POST", path, None, review)["status"]["allowed"] is False
    admin.close()
    viewer.close()


def test_build_tools_makes_one_access_per_tool_context(
    sandbox_cluster: SandboxCluster, monkeypatch: Any
) -> None:
    from tools.kubernetes import build_tools

    made: list[KubeAccess] = []
    original = access_module.KubeAccess.__init__

    def counting(self: KubeAccess, ctx: ToolContext, api_client: Any | None = None) -> None:
        made.append(self)
        original(self, ctx, api_client)

    monkeypatch.setattr(access_module.KubeAccess, "__init__", counting)
    tools = {t.name: t for t in build_tools(ToolContext(kubeconfig=sandbox_cluster.kubeconfig))}
    for _ in range(3):
        assert "NAME" in tools["list_pods"].invoke({"namespace": "shop"})
    assert len(made) == 1
    assert made[0]._client is not None
