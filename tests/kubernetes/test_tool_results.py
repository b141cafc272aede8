"""Kubernetes tool results: compact fenced text for the model, artifacts that read as Markdown for people,
small schemas with a group each, and PromQL through the cluster's Prometheus API."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from markdown_it import MarkdownIt

from sandbox.testing import SandboxCluster
from tests.kubernetes.conftest import pod_named
from tools.base import FENCE_END, ToolContext, is_mutating
from tools.kubernetes import build_tools
from tools.present import present

_GROUPS = {"read", "diagnose", "metrics", "rbac", "write", "exec"}


def _call(tool: BaseTool, **args: Any) -> tuple[str, Any]:
    message = tool.invoke({"type": "tool_call", "id": "t1", "name": tool.name, "args": args})
    assert isinstance(message, ToolMessage)
    return str(message.content), message.artifact


def test_every_tool_has_a_group_and_a_short_description(kube_tools: dict[str, BaseTool]) -> None:
    for tool in kube_tools.values():
        group = (tool.metadata or {}).get("group")
        assert group in _GROUPS, tool.name
        assert (group in ("write", "exec")) == is_mutating(tool), tool.name
        assert len(tool.description) <= 260 and tool.description.count(". ") <= 2, tool.name
        assert len(tool.args) <= 7, tool.name
    assert {"diagnose_cluster", "diagnose_service", "query_metrics"} <= set(kube_tools)


@pytest.mark.usefixtures("seeded")
def test_pods_and_diagnosis_carry_artifacts_people_read(kube_tools: dict[str, BaseTool]) -> None:
    text, pods = _call(kube_tools["list_pods"], namespace="shop")
    assert pods["kind"] == "kubernetes.pods" and len(pods["pods"]) == len(text.splitlines()) - 1
    table = present(pods)
    assert table is not None and table.startswith("| name | ready | status |") and "CrashLoopBackOff" in table
    pod = pod_named(kube_tools, "shop", "checkout-", "CrashLoopBackOff")
    text, diagnosis = _call(kube_tools["diagnose_pod"], name=pod, namespace="shop")
    cause = next(line for line in text.splitlines() if line.strip().startswith("cause:"))
    fenced = text[: text.index(cause)].rsplit("<<untrusted data from", 1)[1]
    assert FENCE_END not in fenced  # the cause line sits inside a fence
    (finding,) = diagnosis["findings"]
    assert "PAYMENT_SERVICE_URL" in finding["cause"] and finding["fix"]
    markdown = present(diagnosis)
    assert markdown is not None and "**Cause:**" in markdown and "**Fix:**" in markdown
    assert "untrusted data" not in markdown and "KeyError" in markdown
    tokens = MarkdownIt().parse(markdown)
    fix = next(i for i, t in enumerate(tokens) if t.type == "inline" and t.content.startswith("**Fix:**"))
    assert tokens[fix].level == 1  # a paragraph of its own, not the last evidence item's continuation


def test_errors_keep_the_artifact_slot_empty(kube_tools: dict[str, BaseTool]) -> None:
    text, artifact = _call(kube_tools["diagnose_pod"], name="no-such-pod", namespace="default")
    assert text.startswith("error: 404") and artifact is None


@pytest.mark.usefixtures("sandbox_only")
def test_promql_instant_and_range(kube_tools: dict[str, BaseTool]) -> None:
    query = 'sum by (pod) (rate(container_cpu_usage_seconds_total{namespace="shop"}[5m]))'
    text, artifact = _call(kube_tools["query_metrics"], query=query)
    assert artifact["type"] == "vector" and artifact["total"] >= 5
    values = [s["value"] for s in artifact["series"]]
    assert values == sorted(values, reverse=True) and values[0] > 0
    assert text.count(FENCE_END) == 1 and 'pod="frontend-' in text
    text, artifact = _call(
        kube_tools["query_metrics"], query='container_memory_working_set_bytes{namespace="ml"}', minutes=60
    )
    (series,) = artifact["series"]
    assert series["points"] == 61 and series["min"] <= series["avg"] <= series["max"]
    assert "| series | min | avg | max | last |" in (present(artifact) or "")
    text, artifact = _call(kube_tools["query_metrics"], query="sum(rate(foo[5m]")
    assert text.startswith("error: bad_data") and artifact is None


@pytest.mark.usefixtures("sandbox_only")
def test_promql_at_an_explicit_prometheus_url(sandbox_cluster: SandboxCluster) -> None:
    ctx = ToolContext(
        kubeconfig=sandbox_cluster.kubeconfig, extras={"prometheus_url": f"{sandbox_cluster.url}/prometheus"}
    )
    tools = {t.name: t for t in build_tools(ctx)}
    text, artifact = _call(tools["query_metrics"], query="up")
    assert artifact["series"][0]["value"] == 1.0
    bad = ToolContext(kubeconfig=sandbox_cluster.kubeconfig, extras={"prometheus_url": "http://127.0.0.1:9/"})
    text, _ = _call({t.name: t for t in build_tools(bad)}["query_metrics"], query="up")
    assert text.startswith("error: http://127.0.0.1:9/api/v1/query: ConnectError")


@pytest.mark.usefixtures("seeded")
def test_service_diagnosis_names_the_selector_and_the_pods(kube_tools: dict[str, BaseTool]) -> None:
    text, artifact = _call(kube_tools["diagnose_service"], name="cart", namespace="shop")
    assert "its selector app=carts matches no pod in shop" in text
    assert artifact["subject"] == "Service shop/cart"
    text, artifact = _call(kube_tools["diagnose_service"], name="checkout", namespace="shop")
    problems = [f["problem"] for f in artifact["findings"]]
    assert "Service checkout has no ready endpoints" in problems
    assert any("PAYMENT_SERVICE_URL" in f["cause"] for f in artifact["findings"])
