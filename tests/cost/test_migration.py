"""The migration plan: waves that never evict more pods than a PodDisruptionBudget allows, nodes removed
once empty, and the pods the eviction API would refuse reported, never planned around."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tools.cost.cluster import ClusterNode, ClusterPdb, ClusterPod, ClusterSnapshot, ClusterWorkload
from tools.cost.migration import plan_migration
from tools.cost.podspec import LabelSelector
from tools.cost.rightsize import ContainerResources
from verifiers.cost.model import Plan, PlannedNode


def _workload(name: str, pods: dict[str, str], namespace: str = "shop") -> ClusterWorkload:
    return ClusterWorkload(
        namespace=namespace, kind="Deployment", name=name, replicas=len(pods),
        containers={"c": ContainerResources(cpu_request_m=100, memory_request_mib=128)},
        pods=[ClusterPod(name=p, node=n, labels={"app": name}) for p, n in pods.items()],
        pod_labels={"app": name},
    )  # fmt: skip


def _pdb(
    name: str, app: str, min_available: str | None = None, max_unavailable: str | None = None
) -> ClusterPdb:
    return ClusterPdb(
        namespace="shop", name=name, selector=LabelSelector(match_labels={"app": app}),
        min_available=min_available, max_unavailable=max_unavailable,
    )  # fmt: skip


def _snapshot(pdbs: list[ClusterPdb]) -> ClusterSnapshot:
    nodes = [ClusterNode(name=f"old-{i}", cpu_m=4000, memory_mib=8192) for i in range(3)]
    nodes.append(
        ClusterNode(
            name="cp", cpu_m=2000, memory_mib=4096, labels={"node-role.kubernetes.io/control-plane": ""}
        )
    )
    web = _workload("web", {f"web-{i}": f"old-{i % 3}" for i in range(6)})
    api = _workload("api", {"api-0": "old-0", "api-1": "old-0", "api-2": "old-1"})
    db = _workload("db", {"db-0": "old-2", "db-1": "old-1"})
    return ClusterSnapshot(workloads=[web, api, db], nodes=nodes, pdbs=pdbs)


PLAN = Plan(
    nodes=[PlannedNode(offering="m7i.xlarge/on-demand", pods={"shop/Deployment/web": 6}),
           PlannedNode(offering="m7i.large/on-demand", pods={"shop/Deployment/api": 3, "shop/Deployment/db": 2})],
    hourly_cost=0.3, lower_bound=0.3, bound_source="lp-dual", status="optimal", solver="test",
)  # fmt: skip


def _evicted_per_wave(migration, snapshot: ClusterSnapshot) -> list[Counter[str]]:  # type: ignore[no-untyped-def]
    """Independently: the pods each PDB selects in each wave."""
    labels = {f"{w.namespace}/{p.name}": p.labels for w in snapshot.workloads for p in w.pods}
    return [
        Counter(
            f"{b.namespace}/{b.name}"
            for ev in wave.evict
            for b in snapshot.pdbs
            if b.selector.matches(labels[ev.pod])
        )
        for wave in migration.waves
    ]


@pytest.mark.parametrize(
    ("pdbs", "allowed"),
    [
        (
            [_pdb("web", "web", max_unavailable="1"), _pdb("api", "api", min_available="2")],
            {"shop/web": 1, "shop/api": 1},
        ),
        (
            [_pdb("web", "web", max_unavailable="50%"), _pdb("api", "api", min_available="34%")],
            {"shop/web": 3, "shop/api": 1},
        ),
    ],
)
def test_no_wave_evicts_more_than_a_pdb_allows(pdbs: list[ClusterPdb], allowed: dict[str, int]) -> None:
    snapshot = _snapshot(pdbs)
    migration = plan_migration(snapshot, PLAN)
    assert migration.budgets == allowed
    assert migration.launch == {"m7i.large/on-demand": 1, "m7i.xlarge/on-demand": 1}
    assert migration.cordon == ["old-0", "old-1", "old-2"]  # the control plane stays
    for counts in _evicted_per_wave(migration, snapshot):
        assert all(counts[k] <= allowed[k] for k in counts)
    evicted = [ev.pod for wave in migration.waves for ev in wave.evict]
    assert sorted(evicted) == sorted(f"shop/{p.name}" for w in snapshot.workloads for p in w.pods)
    assert len(migration.waves) == max(-(-6 // allowed["shop/web"]), -(-3 // allowed["shop/api"]))
    # every node removed once, after the wave that evicts its last pod
    removed = [n for wave in migration.waves for n in wave.remove_nodes]
    assert sorted(removed) == ["old-0", "old-1", "old-2"]
    for i, wave in enumerate(migration.waves):
        for node in wave.remove_nodes:
            assert all(ev.node != node for later in migration.waves[i + 1 :] for ev in later.evict)
    assert any("shop/Deployment/db" in n and "no PodDisruptionBudget" in n for n in migration.notes)


def test_pods_the_eviction_api_refuses_keep_their_node_and_are_reported() -> None:
    pdbs = [_pdb("db", "db", min_available="100%"), _pdb("web", "web", max_unavailable="1"),
            _pdb("web-too", "web", max_unavailable="2")]  # fmt: skip
    migration = plan_migration(_snapshot(pdbs), PLAN)
    assert migration.budgets["shop/db"] == 0
    assert "PDB shop/db allows no disruption" in migration.blocked["shop/db-0"]
    assert "selected by 2 PDBs (shop/web, shop/web-too)" in migration.blocked["shop/web-0"]
    assert set(migration.blocked) == {"shop/db-0", "shop/db-1", *(f"shop/web-{i}" for i in range(6))}
    assert not [n for wave in migration.waves for n in wave.remove_nodes]  # every node holds a blocked pod
    assert any("nodes kept" in n for n in migration.notes)


def test_a_namespace_migration_removes_no_shared_node() -> None:
    snapshot = _snapshot([_pdb("web", "web", max_unavailable="1")])
    snapshot.workloads.append(_workload("job", {"job-0": "old-0"}, namespace="ops"))
    migration = plan_migration(snapshot, PLAN, namespace="shop")
    assert migration.cordon == [] and not [n for w in migration.waves for n in w.remove_nodes]
    assert all(ev.pod.startswith("shop/") for w in migration.waves for ev in w.evict)


def test_cli_prints_the_waves_of_the_example_cluster(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from opsgraph.cli import app

    examples = Path(__file__).parents[2] / "tools" / "cost" / "examples"
    snapshot = json.loads((examples / "shop_cluster.json").read_text())
    for w in snapshot["workloads"]:
        for p in w["pods"]:
            p["labels"] = {"app": w["name"]}
    snapshot["pdbs"] = [{"namespace": "shop", "name": "web", "selector": {"match_labels": {"app": "web"}},
                         "max_unavailable": "1"}]  # fmt: skip
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps(snapshot))
    args = ["cost", "plan", "--snapshot", str(path), "--usage-file", str(examples / "shop_usage.json.gz")]
    result = CliRunner().invoke(app, [*args, "--migration", "--json"])
    assert result.exit_code == 0, result.output
    migration = json.loads(result.output)
    assert migration["budgets"] == {"shop/web": 1}
    web = [
        [e for e in wave["evict"] if e["workload"] == "shop/Deployment/web"] for wave in migration["waves"]
    ]
    assert [len(w) for w in web] == [1, 1, 1, 1]
    text = CliRunner().invoke(app, [*args, "--migration"]).output
    assert (
        "PDB shop/web: at most 1 pod(s) evicted at a time" in text
        and text.count("wait for replacements") == 4
    )
