"""Pytest fixtures for tests that need a cluster: one sandbox per test session, a fresh namespace per test.

Enable with `pytest_plugins = ["sandbox.testing"]` in a conftest. Fixtures:

- `sandbox_cluster` (session): a running sandbox in the demo-shop scenario, with `.url`,
  `.kubeconfig` (Path) and `.api_client(context=...)` for the official client.
- `sandbox_namespace` (function): a new empty namespace, deleted after the test.
- `kube_client` (function): an admin `ApiClient` for the session's sandbox.
- `sandbox_only` (function): skips the test on a real cluster.

Tests must not change the seeded namespaces (shop, payments, ml, analytics); write in
`sandbox_namespace` instead. With `OPSGRAPH_TEST_KUBECONFIG` set, `sandbox_cluster` points at that
real cluster instead of starting a sandbox.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.process import SandboxProcess

__all__ = ["SandboxCluster", "kube_client", "sandbox_cluster", "sandbox_namespace", "sandbox_only"]


@dataclass
class SandboxCluster:
    url: str
    kubeconfig: Path
    real: bool = False

    def api_client(self, context: str | None = None) -> Any:
        from kubernetes import config

        return config.new_client_from_config(str(self.kubeconfig), context=context)  # type: ignore[no-untyped-call]


@pytest.fixture(scope="session")
def sandbox_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxCluster]:
    real = os.environ.get("OPSGRAPH_TEST_KUBECONFIG")
    if real:
        yield SandboxCluster("", Path(real), real=True)
        return
    path = tmp_path_factory.mktemp("sandbox") / "kubeconfig"
    with SandboxProcess(scenario="default", kubeconfig=path) as proc:
        yield SandboxCluster(proc.url, proc.kubeconfig)


@pytest.fixture
def sandbox_only(sandbox_cluster: SandboxCluster) -> None:
    """Skip on a real cluster: the test needs the sandbox's users, scenario or Prometheus."""
    if sandbox_cluster.real:
        pytest.skip("needs the sandbox (its users, demo-shop scenario or metrics)")


@pytest.fixture
def kube_client(sandbox_cluster: SandboxCluster) -> Iterator[Any]:
    client = sandbox_cluster.api_client()
    yield client
    client.close()


@pytest.fixture
def sandbox_namespace(sandbox_cluster: SandboxCluster) -> Iterator[str]:
    from kubernetes import client as k8s

    api = sandbox_cluster.api_client()
    name = f"test-{uuid.uuid4().hex[:8]}"
    core = k8s.CoreV1Api(api)
    core.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
    try:
        yield name
    finally:
        core.delete_namespace(name)
        api.close()
