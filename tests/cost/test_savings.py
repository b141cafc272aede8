"""Savings add up: allocation + idle = cost, and node-plan + right-sizing savings = current - recommended."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.cost.allocation import NodeCharge, PodCharge, allocate
from tools.cost.catalog import PriceCatalog
from tools.cost.cluster import ClusterNode, ClusterPod, ClusterSnapshot, ClusterWorkload
from tools.cost.engine import HOURS_PER_MONTH, optimize
from tools.cost.rightsize import ContainerResources
from tools.cost.usage import RecordedUsageSource

MIB = 2**20


def snapshot() -> ClusterSnapshot:
    big = ContainerResources(cpu_request_m=1000, memory_request_mib=2048, memory_limit_mib=2048)
    workloads = [
        ClusterWorkload(namespace="shop", kind="Deployment", name="web", replicas=4, containers={"web": big},
                        pods=[ClusterPod(name=f"web-{i}", node=f"n{i % 2}") for i in range(4)],
                        spot_allowed=True, max_spot_share=0.5, min_spot_pools=2),
        ClusterWorkload(namespace="shop", kind="StatefulSet", name="db", replicas=1, containers={"db": big},
                        pods=[ClusterPod(name="db-0", node="n2")]),
        ClusterWorkload(namespace="ops", kind="Deployment", name="agent", replicas=2, containers={"agent": big},
                        pods=[ClusterPod(name=f"agent-{i}", node="n2") for i in range(2)]),
    ]  # fmt: skip
    nodes = [
        ClusterNode(name=f"n{i}", instance_type="m7i.xlarge", cpu_m=3920, memory_mib=14162) for i in range(3)
    ]
    return ClusterSnapshot(workloads=workloads, nodes=nodes)


@pytest.fixture
def usage(tmp_path: Path) -> RecordedUsageSource:
    series = []
    for pod, container, cpu, mem in [*[(f"web-{i}", "web", 0.2, 300) for i in range(4)], ("db-0", "db", 0.6, 1500),
                                     *[(f"agent-{i}", "agent", 0.05, 90) for i in range(2)]]:  # fmt: skip
        series.append({"namespace": "ops" if container == "agent" else "shop", "pod": pod, "container": container,
                       "cpu_cores": [[i * 300.0, cpu * (0.5 + (i % 10) / 10)] for i in range(4100)],
                       "memory_bytes": [[i * 300.0, mem * MIB] for i in range(4100)]})  # fmt: skip
    (tmp_path / "u.json").write_text(json.dumps({"series": series}))
    return RecordedUsageSource(tmp_path / "u.json")


def test_allocation_plus_idle_equals_node_cost() -> None:
    pods = [PodCharge(namespace="a", workload="a/x", cpu_m=900, memory_mib=4000),
            PodCharge(namespace="b", workload="b/y", cpu_m=3000, memory_mib=100)]  # fmt: skip
    nodes = [NodeCharge(name="n", usd_per_hour=0.2, cpu_m=4000, memory_mib=8000, pods=pods),
             NodeCharge(name="over", usd_per_hour=0.1, cpu_m=1000, memory_mib=1000, pods=pods)]  # fmt: skip
    alloc = allocate(nodes)
    assert alloc.check() == pytest.approx(0.0, abs=1e-12)
    assert alloc.idle_usd_per_hour >= 0
    assert alloc.by_namespace["a"] > 0 and alloc.by_namespace["b"] > alloc.by_namespace["a"]


def test_savings_reconcile(usage: RecordedUsageSource) -> None:
    report = optimize(snapshot(), usage, PriceCatalog("aws", "us-east-1"), effort=0.5)
    price = PriceCatalog().quote("m7i.xlarge").usd_per_hour
    assert report.current_monthly == pytest.approx(3 * price * HOURS_PER_MONTH, abs=0.01)
    assert report.current_allocation.check() == pytest.approx(0.0, abs=1e-9)
    assert report.recommended_allocation.check() == pytest.approx(0.0, abs=1e-9)
    s = report.savings
    assert s.node_plan_monthly + s.rightsizing_monthly == pytest.approx(s.total_monthly, abs=1e-9)
    assert s.total_monthly == pytest.approx(report.current_monthly - report.recommended_monthly, abs=0.02)
    assert report.after_node_plan_monthly - report.recommended_monthly == pytest.approx(
        s.rightsizing_monthly, abs=0.02
    )
    assert s.rightsizing_monthly > 0 and s.node_plan_monthly > 0
    assert report.plan.monthly_cost == pytest.approx(report.recommended_monthly, abs=0.01)
    assert report.plan.lower_bound <= report.plan.monthly_cost
    web = next(r for r in report.rightsizing if r.container == "web")  # p95 of 0.2 x (0.5..1.4) = 0.28 cores
    assert web.recommended.cpu_request_m == 280 and web.confidence == "high"
    assert any("spot prices are estimates" in n for n in report.notes)
    # the db StatefulSet and the agent are never on spot; at most half of web's 4 replicas are
    assert report.spot_risk.expected_pod_evictions_per_month.keys() <= {"shop/Deployment/web"}


def test_namespace_shares_add_up_to_the_cluster(usage: RecordedUsageSource) -> None:
    catalog = PriceCatalog("aws", "us-east-1")
    whole = optimize(snapshot(), usage, catalog, effort=0.3)
    parts = [
        optimize(snapshot(), usage, catalog, effort=0.3, namespace=ns, reconcile=True)
        for ns in ("shop", "ops")
    ]
    shares = [p.cluster_share for p in parts]
    assert all(s is not None for s in shares) and whole.cluster_share is None
    assert sum(s.current_monthly for s in shares if s) == pytest.approx(whole.current_monthly, abs=0.02)
    assert sum(s.recommended_monthly for s in shares if s) == pytest.approx(
        whole.recommended_monthly, abs=0.02
    )
    assert sum(s.saving_monthly for s in shares if s) == pytest.approx(whole.savings.total_monthly, abs=0.03)
    # planned alone, the namespaces do not share nodes, so their own savings do not add up; the note says so
    assert sum(p.savings.total_monthly for p in parts) != pytest.approx(whole.savings.total_monthly, abs=0.03)
    assert all(any("do not add up to the cluster's" in n for n in p.notes) for p in parts)
