"""Runs in worker processes (`opsgraph serve`'s default): each worker builds its own runtime over the same
SQLite file and the sandbox cluster; the server's process streams what they send, and answers reads itself.
A worker that dies mid-run ends that run's stream with an error, frees the thread, and is replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kubernetes import client as k8s

from agents.runtime import Runtime
from opsgraph.settings import Settings
from sandbox.testing import SandboxCluster
from server.app import create_app
from server.workers import RunProcesses, WorkerStartError
from tests.server.conftest import ALICE, TOKENS, decide, new_thread, send, sse

POSTGRES_URL = os.environ.get("OPSGRAPH_TEST_POSTGRES_URL")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def worker_settings(
    request: pytest.FixtureRequest, sandbox_cluster: SandboxCluster, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    folder = tmp_path_factory.mktemp("workers")
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("Postgres: set OPSGRAPH_TEST_POSTGRES_URL to run (.ci/run does)")
    url = POSTGRES_URL if request.param == "postgres" else f"sqlite:///{folder / 'checkpoints.sqlite'}"
    return Settings(
        checkpoint_url=url or "",
        api_tokens=TOKENS,
        kubeconfig=sandbox_cluster.kubeconfig,
        data_dir=folder,
        model="offline",
    )


@pytest.fixture(scope="module")
def served(worker_settings: Settings) -> Iterator[tuple[TestClient, RunProcesses]]:
    processes = RunProcesses(worker_settings, processes=1, threads=4)
    with (
        Runtime(worker_settings) as runtime,
        TestClient(create_app(runtime, processes=processes)) as client,
    ):
        yield client, processes


@pytest.fixture
def deployment(kube_client: Any, sandbox_namespace: str) -> str:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
    }
    spec = {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template}
    k8s.AppsV1Api(kube_client).create_namespaced_deployment(
        sandbox_namespace, {"metadata": {"name": "web"}, "spec": spec}
    )
    return sandbox_namespace


def test_a_chat_runs_in_a_worker_and_its_thread_reads_back_in_the_server(
    served: tuple[TestClient, RunProcesses],
) -> None:
    client, processes = served
    thread_id = new_thread(client, ALICE)
    events = sse(send(client, thread_id, "list pods in payments", ALICE))
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[1] == "route" and kinds[-1] == "final", kinds
    call = next(e for e in events if e["type"] == "tool_call")
    assert call["tool"] == "list_pods" and call["args"]["namespace"] == "payments"
    result = next(e for e in events if e["type"] == "tool_result")
    assert "payments" in result["content"] or "NAME" in result["content"]
    # the worker wrote the checkpoint; the server's own runtime reads it
    detail = client.get(f"/v1/threads/{thread_id}", headers=ALICE).json()
    assert detail["status"] == "idle"
    assert detail["messages"][0]["role"] == "user"
    assert detail["messages"][-1]["content"] == events[-1]["answer"]
    assert processes.size == 1


def test_an_approval_round_trip_across_worker_runs(
    served: tuple[TestClient, RunProcesses], deployment: str, kube_client: Any
) -> None:
    client, _ = served
    thread_id = new_thread(client, ALICE)
    events = sse(send(client, thread_id, f"scale deploy web to 3 in {deployment}", ALICE))
    assert events[-1]["type"] == "interrupt", [e["type"] for e in events]
    assert (
        client.get(f"/v1/threads/{thread_id}", headers=ALICE).json()["pending"]["tool"] == "scale_deployment"
    )
    replicas = k8s.AppsV1Api(kube_client).read_namespaced_deployment("web", deployment).spec.replicas
    assert replicas == 1  # nothing applied before the approval
    resumed = sse(decide(client, thread_id, ALICE, decision="approve"))
    assert resumed[-1]["type"] == "final", [e["type"] for e in resumed]
    assert k8s.AppsV1Api(kube_client).read_namespaced_deployment("web", deployment).spec.replicas == 3
    audit = client.get(f"/v1/threads/{thread_id}/audit", headers=ALICE).json()
    assert [(a["tool"], a["decision"]) for a in audit if a["tool"] == "scale_deployment"] == [
        ("scale_deployment", "approved")
    ]


def _worker_pids(processes: RunProcesses) -> list[int]:
    return [w.process.pid for w in processes._workers if w.process.pid is not None]


def test_a_worker_that_dies_ends_its_runs_with_an_error_and_is_replaced(
    served: tuple[TestClient, RunProcesses],
) -> None:
    client, processes = served
    [victim] = _worker_pids(processes)
    thread_id = new_thread(client, ALICE)
    # the worker is stopped, so the run waits in its pipe; the worker dies while the run is its own
    os.kill(victim, signal.SIGSTOP)
    threading.Timer(0.5, os.kill, (victim, signal.SIGKILL)).start()
    events = sse(send(client, thread_id, "list pods in payments", ALICE))
    assert events[0]["type"] == "start"
    assert events[-1]["type"] == "error" and "worker process" in events[-1]["message"], events
    assert client.get(f"/v1/threads/{thread_id}", headers=ALICE).json()["status"] == "error"
    # until a new worker is up, a run is refused at once rather than queued on a dead one
    other = new_thread(client, ALICE)
    refused = sse(send(client, other, "list pods in payments", ALICE))
    assert refused[-1]["type"] == "error" and "no worker process" in refused[-1]["message"], refused
    assert client.get(f"/v1/threads/{other}", headers=ALICE).json()["status"] == "idle"
    deadline = time.monotonic() + 90
    while _worker_pids(processes) in ([victim], []) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _worker_pids(processes) not in ([victim], [])
    # the thread was released: the next message runs on the new worker
    again = sse(send(client, thread_id, "list pods in payments", ALICE))
    assert again[-1]["type"] == "final", [e["type"] for e in again]


def test_workers_need_a_database_they_can_share(tmp_path: Path) -> None:
    with pytest.raises(WorkerStartError, match="memory"):
        RunProcesses(Settings(checkpoint_url="memory", data_dir=tmp_path), processes=1)
