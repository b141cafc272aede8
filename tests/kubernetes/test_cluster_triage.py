"""`diagnose_cluster` on the triage scenario: every seeded fault found with its evidence, ranked by severity,
healthy neighbours left out, and a fixed fault gone from the next triage."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from agents.events import FinalEvent, ToolResultEvent
from agents.runtime import Runtime
from opsgraph.settings import Settings
from sandbox.process import SandboxProcess
from tools.base import FENCE_END, ToolContext
from tools.kubernetes import build_tools
from tools.present import present


@pytest.fixture(scope="module")
def triage_sandbox() -> Iterator[SandboxProcess]:
    if os.environ.get("OPSGRAPH_TEST_KUBECONFIG"):
        pytest.skip("needs the sandbox's triage scenario")
    with SandboxProcess(scenario="triage") as proc:
        yield proc


@pytest.fixture(scope="module")
def triage_cluster(triage_sandbox: SandboxProcess) -> Iterator[tuple[Any, dict[str, BaseTool]]]:
    api = config.new_client_from_config(str(triage_sandbox.kubeconfig))
    yield api, {t.name: t for t in build_tools(ToolContext(kubeconfig=triage_sandbox.kubeconfig))}
    api.close()


def _call(tool: BaseTool, **args: Any) -> tuple[str, dict[str, Any]]:
    message = tool.invoke({"type": "tool_call", "id": "t1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return str(message.content), message.artifact


def _subjects(artifact: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["severity"], f["subject"]) for f in artifact["findings"]]


def test_every_seeded_fault_is_found_and_ranked(triage_cluster: tuple[Any, dict[str, BaseTool]]) -> None:
    _, tools = triage_cluster
    text, artifact = _call(tools["diagnose_cluster"])
    found = _subjects(artifact)
    severities = [s for s, _ in found]
    order = ["critical", "error", "warning", "info"]
    assert severities == sorted(severities, key=order.index)  # ranked
    assert found[0][0] == "critical" and {"Node worker-4", "ValidatingWebhookConfiguration policy-guard"} <= {
        s for sev, s in found if sev == "critical"
    }
    expected = {
        ("error", "Node worker-5"),
        ("error", "Node worker-6"),
        ("error", "Ingress web/storefront"),
        ("error", "Ingress web/admin"),
        ("error", "Ingress web/legacy"),
        ("warning", "Ingress web/legacy"),
        ("warning", "HorizontalPodAutoscaler autoscale/api"),
        ("error", "HorizontalPodAutoscaler autoscale/worker"),
        ("error", "HorizontalPodAutoscaler autoscale/reports"),
        ("warning", "PodDisruptionBudget ops/ledger"),
        ("info", "PodDisruptionBudget ops/ghost"),
        ("error", "PersistentVolumeClaim data/uploads"),
        ("error", "PersistentVolumeClaim data/archive"),
        ("error", "PersistentVolumeClaim data/scratch"),
        ("error", "StatefulSet data/db"),
        ("error", "Job batch/migrate"),
        ("error", "CronJob batch/nightly-report"),
        ("info", "CronJob batch/cleanup"),
        ("warning", "MutatingWebhookConfiguration sidecar-injector"),
    }
    assert expected <= set(found), expected - set(found)
    healthy = ("autoscale/search", "ops/gateway", "data/media", "batch/nightly-report-")
    assert not [s for _, s in found if s.endswith(healthy)]
    assert artifact["counts"]["critical"] == 2
    # the model's text: one fenced block of ranked findings, the rest summarised in one line
    assert text.startswith("cluster: ") and text.count(FENCE_END) == 1
    assert re.search(r"^1\. \[critical\] problem: ", text, re.M)
    assert "more, less severe: " in text


def test_findings_cite_evidence(triage_cluster: tuple[Any, dict[str, BaseTool]]) -> None:
    _, tools = triage_cluster
    _, artifact = _call(tools["diagnose_cluster"])
    by = {(f["subject"], f["problem"].split(" ")[2]): f for f in artifact["findings"]}

    def about(subject: str, word: str = "") -> dict[str, Any]:
        for f in artifact["findings"]:
            if f["subject"] == subject and word in f["problem"]:
                return f
        raise AssertionError(f"no finding about {subject} {word!r}: {sorted(by)}")

    api = about("Ingress web/storefront", "storefront-api")
    assert "spec.rules[0].http.paths[1] (/api).backend.service.name = storefront-api" in api["evidence"]
    assert "no IngressClass" in about("Ingress web/legacy", "IngressClass")["problem"]
    assert "8080" in about("Ingress web/legacy", "port")["problem"]
    assert "Utilization" not in about("HorizontalPodAutoscaler autoscale/reports")["cause"]
    assert any(
        "has no resources.requests.cpu" in e
        for e in about("HorizontalPodAutoscaler autoscale/reports")["evidence"]
    )
    at_max = about("HorizontalPodAutoscaler autoscale/api")
    assert "maximum of 3 replicas" in at_max["problem"] and any("target 60%" in e for e in at_max["evidence"])
    pdb = about("PodDisruptionBudget ops/ledger")
    assert "blocks every eviction (minAvailable = 2, 2 of 2 pods healthy)" in pdb["problem"]
    cordoned = about("Node worker-6")
    assert any("ops/indexer-" in e and "were unschedulable" in e for e in cordoned["evidence"])
    assert "no StorageClass" in about("PersistentVolumeClaim data/scratch")["cause"]
    assert "fast-ssd does not exist" in about("PersistentVolumeClaim data/uploads")["cause"]
    assert "Only support ReadWriteOnce" in about("PersistentVolumeClaim data/archive")["cause"]
    assert "db-0" in about("StatefulSet data/db", "replicas")["cause"]
    job = about("Job batch/migrate")
    assert 'last log line: "ERROR: relation users already exists"' in job["evidence"]
    cron = about("CronJob batch/nightly-report")
    assert "concurrencyPolicy Forbid" in cron["cause"] and re.search(r"missed (9\d|1\d\d)", cron["problem"])
    hook = about("ValidatingWebhookConfiguration policy-guard")
    assert "failurePolicy Fail" in hook["cause"] and any("ImagePullBackOff" in e for e in hook["evidence"])


def test_people_read_a_table_without_fence_markers(triage_cluster: tuple[Any, dict[str, BaseTool]]) -> None:
    _, tools = triage_cluster
    _, artifact = _call(tools["diagnose_cluster"])
    markdown = present(artifact)
    assert markdown is not None and "| # | severity | object | problem |" in markdown
    assert "**Cause:**" in markdown and "untrusted data" not in markdown


def test_namespace_triage_stays_in_its_namespace(triage_cluster: tuple[Any, dict[str, BaseTool]]) -> None:
    _, tools = triage_cluster
    text, artifact = _call(tools["diagnose_namespace"], namespace="web")
    subjects = {f["subject"] for f in artifact["findings"]}
    assert subjects == {"Ingress web/storefront", "Ingress web/legacy", "Ingress web/admin"}
    assert text.startswith("namespace web: ")


def test_a_fixed_fault_leaves_the_next_triage(triage_cluster: tuple[Any, dict[str, BaseTool]]) -> None:
    api, tools = triage_cluster
    core, policy = client.CoreV1Api(api), client.PolicyV1Api(api)
    core.create_namespaced_service(
        "web",
        {
            "metadata": {"name": "storefront-api"},
            "spec": {"selector": {"app": "storefront"}, "ports": [{"port": 80}]},
        },
    )
    policy.patch_namespaced_pod_disruption_budget("ledger", "ops", {"spec": {"minAvailable": 1}})
    try:
        _, artifact = _call(tools["diagnose_cluster"])
        problems = [f["problem"] for f in artifact["findings"]]
        assert not [p for p in problems if "storefront-api" in p or "blocks every eviction" in p]
        assert any(
            "TLS Secret storefront-tls" in p for p in problems
        )  # the rest of the Ingress still checked
    finally:
        core.delete_namespaced_service("storefront-api", "web")
        policy.patch_namespaced_pod_disruption_budget("ledger", "ops", {"spec": {"minAvailable": 2}})


def test_offline_model_answers_what_is_wrong_with_my_cluster(triage_sandbox: SandboxProcess) -> None:
    settings = Settings(model="offline", checkpoint_url="memory")
    with Runtime(settings, tool_context=ToolContext(kubeconfig=triage_sandbox.kubeconfig)) as runtime:
        events = list(runtime.stream("what is wrong with my cluster?", thread_id="triage-1"))
    (result,) = [e for e in events if isinstance(e, ToolResultEvent)]
    assert result.artifact is not None and result.artifact["kind"] == "kubernetes.findings"
    assert result.artifact["findings"][0]["severity"] == "critical"
    (final,) = [e for e in events if isinstance(e, FinalEvent)]
    answer = final.answer
    assert "Node worker-4 is NotReady" in answer
