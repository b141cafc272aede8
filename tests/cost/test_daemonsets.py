"""DaemonSets take room on every planned node: plans leave it free, selectors decide where, and the
cluster reader finds DaemonSets in every namespace."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client as k8s

from tests.cost.test_savings import snapshot, usage  # noqa: F401  (the recorded-usage fixture)
from tools.cost.catalog import PriceCatalog
from tools.cost.cluster import ClusterDaemonSet, read_cluster
from tools.cost.daemonsets import reserve_daemonsets
from tools.cost.engine import default_offerings, optimize
from tools.cost.plan import plan_nodes
from tools.cost.rightsize import ContainerResources
from tools.cost.usage import RecordedUsageSource
from verifiers.cost import PlanProblem, Workload, validate_plan
from verifiers.cost.scheduling import ZONE_LABEL


def _ds(name: str, cpu: float, mem: float, selector: dict[str, str] | None = None) -> ClusterDaemonSet:
    res = ContainerResources(cpu_request_m=cpu, memory_request_mib=mem)
    return ClusterDaemonSet(
        namespace="kube-system", name=name, containers={"c": res}, node_selector=selector or {}
    )


def _offerings() -> list[Any]:
    return default_offerings(PriceCatalog("aws", "us-east-1"))


def test_every_node_loses_the_requests_of_the_daemonsets_that_select_it() -> None:
    offerings = _offerings()
    logs, arm_only = _ds("logs", 200, 256), _ds("arm-agent", 100, 100, {"kubernetes.io/arch": "arm64"})
    kept, notes = reserve_daemonsets(offerings, [logs, arm_only])
    by_name = {o.name: o for o in offerings}
    assert len(kept) == len(offerings)
    for o in kept:
        before = by_name[o.name]
        arm = before.arch == "arm64"
        assert o.cpu_m == before.cpu_m - 200 - (100 if arm else 0)
        assert o.memory_mib == pytest.approx(before.memory_mib - 256 - (100 if arm else 0))
        assert o.max_pods == before.max_pods - (2 if arm else 1)
        assert o.usd_per_hour == before.usd_per_hour
    assert "kube-system/DaemonSet/logs" in notes[0] and "200m CPU" in notes[0]


def test_node_affinity_and_taints_decide_where_a_daemonset_runs() -> None:
    from verifiers.cost.scheduling import Requirement, Taint, Toleration

    gpu_taint = Taint(key="nvidia.com/gpu", value="true", effect="NoSchedule")
    offerings = [
        o.model_copy(update={"taints": (gpu_taint,)}) if o.instance_type.startswith("c7g") else o
        for o in _offerings()
    ]
    arm_by_affinity = _ds("arm-agent", 100, 100).model_copy(
        update={"node_affinity": [[Requirement(key="kubernetes.io/arch", operator="In", values=("arm64",))]]}
    )
    zonal = _ds("zonal", 50, 50).model_copy(  # zones come later: counted on every node
        update={
            "node_affinity": [[Requirement(key=ZONE_LABEL, operator="In", values=("us-east-1a",))]],
            "node_selector": {ZONE_LABEL: "us-east-1a"},
        }
    )
    tolerant = _ds("gpu-agent", 30, 30).model_copy(
        update={"tolerations": [Toleration(key="nvidia.com/gpu", operator="Exists")]}
    )
    kept, notes = reserve_daemonsets(offerings, [arm_by_affinity, zonal, tolerant, _ds("plain", 10, 10)])
    by_name = {o.name: o for o in offerings}
    for o in kept:
        before = by_name[o.name]
        tainted = bool(before.taints)
        cpu = (100 if before.arch == "arm64" and not tainted else 0) + (0 if tainted else 50 + 10) + 30
        assert before.cpu_m - o.cpu_m == cpu, o.name
    assert "30m CPU" in notes[0] and "node affinity and tolerations allow" in notes[0]


def test_an_instance_type_a_daemonset_fills_is_not_planned_and_said_so() -> None:
    offerings = _offerings()
    smallest = min(o.cpu_m for o in offerings)
    kept, notes = reserve_daemonsets(offerings, [_ds("greedy", smallest, 10)])
    assert all(o.cpu_m > 0 for o in kept) and len(kept) < len(offerings)
    gone = {o.instance_type for o in offerings} - {o.instance_type for o in kept}
    assert gone and all(t in notes[-1] for t in gone)


def test_planned_nodes_hold_their_pods_and_the_daemonset_pods() -> None:
    offerings = [o for o in _offerings() if o.capacity_type == "on-demand"]
    works = [
        Workload(name=f"ns/Deployment/w{i}", replicas=6, cpu_m=450 + 100 * i, memory_mib=900)
        for i in range(4)
    ]
    ds = _ds("node-exporter", 150, 200)
    reserved, _ = reserve_daemonsets(offerings, [ds])
    problem = PlanProblem(workloads=works, offerings=reserved)
    plan = plan_nodes(problem, effort=0.25)
    assert validate_plan(problem, plan).ok
    real = {o.name: o for o in offerings}
    by_name = {w.name: w for w in works}
    for node in plan.nodes:
        cpu = sum(by_name[k].cpu_m * n for k, n in node.pods.items()) + 150
        mem = sum(by_name[k].memory_mib * n for k, n in node.pods.items()) + 200
        assert cpu <= real[node.offering].cpu_m and mem <= real[node.offering].memory_mib
    without = plan_nodes(PlanProblem(workloads=works, offerings=offerings), effort=0.25)
    assert plan.hourly_cost >= without.lower_bound


def test_optimize_reports_the_daemonset_reservation(usage: RecordedUsageSource) -> None:  # noqa: F811
    plain = snapshot()
    with_ds = plain.model_copy(update={"daemonsets": [_ds("logs", 500, 1024)]})
    catalog = PriceCatalog("aws", "us-east-1")
    a = optimize(plain, usage, catalog, effort=0.3)
    b = optimize(with_ds, usage, catalog, effort=0.3)
    assert any("DaemonSet/logs" in n for n in b.notes) and not any("DaemonSet" in n for n in a.notes)
    assert b.recommended_monthly >= a.plan.lower_bound


def test_read_cluster_finds_daemonsets_in_every_namespace(
    sandbox_cluster: Any, sandbox_namespace: str
) -> None:
    api = sandbox_cluster.api_client()
    container = {"name": "agent", "image": "busybox",
                 "resources": {"requests": {"cpu": "150m", "memory": "64Mi"}}}  # fmt: skip
    template = {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [container],
                "nodeSelector": {"kubernetes.io/os": "linux"}}}  # fmt: skip
    body = {
        "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template},
    }
    k8s.AppsV1Api(api).create_namespaced_daemon_set(sandbox_namespace, body)
    snap = read_cluster(api, "shop")  # another namespace is planned: the DaemonSet still counts
    found = next(d for d in snap.daemonsets if d.namespace == sandbox_namespace)
    assert found.requests() == (150, 64) and found.node_selector == {"kubernetes.io/os": "linux"}
    kept, _ = reserve_daemonsets(_offerings(), [found])  # `linux` selects every catalog node
    assert all(k.cpu_m == o.cpu_m - 150 for k, o in zip(kept, _offerings(), strict=True))
