"""The move from today's nodes to a plan, in waves that never evict more than a PodDisruptionBudget allows.

The new nodes are launched first and today's workers cordoned, so every evicted pod lands on planned
capacity (the plan holds every pod). Then the pods on today's workers are evicted in waves: within a wave,
the pods one PDB selects number at most the disruptions it allows with every pod healthy (as the disruption
controller computes it); the next wave starts once the replacements are Ready, which restores the budget. A
node is removed after the wave that empties it. Pods the eviction API would refuse are not planned around:
a PDB that allows no disruption, or a pod that two PDBs select (the API answers 500), keeps its node and is
reported. Pods no PDB selects are evicted without a limit, as `kubectl drain` does; the plan says which
workloads of 2+ replicas have no PDB.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, Field

from tools.cost.cluster import ClusterPdb, ClusterSnapshot, ClusterWorkload
from tools.kubernetes.analyzers.disruption import allowed_disruptions
from verifiers.cost.model import Plan

__all__ = ["Eviction", "MigrationPlan", "Wave", "pdb_budgets", "plan_migration"]


class Eviction(BaseModel):
    pod: str = Field(description="namespace/name")
    workload: str
    node: str


class Wave(BaseModel):
    evict: list[Eviction]
    remove_nodes: list[str] = Field(description="Today's nodes empty once this wave's pods are evicted.")


class MigrationPlan(BaseModel):
    launch: dict[str, int] = Field(description="Planned nodes to launch first: offering -> count.")
    cordon: list[str] = Field(description="Today's workers, cordoned once the new nodes are Ready.")
    waves: list[Wave]
    budgets: dict[str, int] = Field(description="PDB (namespace/name) -> pods it lets go at a time.")
    blocked: dict[str, str] = Field(
        default_factory=dict, description="Pods the eviction API would refuse, and why; their nodes stay."
    )
    notes: list[str] = Field(default_factory=list)


def _labels(w: ClusterWorkload, pod_labels: dict[str, str]) -> dict[str, str]:
    return pod_labels or w.pod_labels


def pdb_budgets(
    snapshot: ClusterSnapshot,
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Each PDB's allowed disruptions with every running pod healthy, and the PDBs selecting each pod."""
    budgets: dict[str, int] = {}
    covering: dict[str, list[str]] = {}
    for pdb in sorted(snapshot.pdbs, key=lambda b: (b.namespace, b.name)):
        key = f"{pdb.namespace}/{pdb.name}"
        selected = _selected(snapshot, pdb)
        running = sum(1 for _, node in selected if node)
        spec = (
            {"maxUnavailable": pdb.max_unavailable}
            if pdb.max_unavailable is not None
            else {"minAvailable": pdb.min_available if pdb.min_available is not None else 1}
        )
        budgets[key] = allowed_disruptions(spec, len(selected), running)
        for pod, _ in selected:
            covering.setdefault(pod, []).append(key)
    return budgets, covering


def _selected(snapshot: ClusterSnapshot, pdb: ClusterPdb) -> list[tuple[str, str | None]]:
    """(namespace/pod, node) of the pods `pdb` selects (an empty selector selects its whole namespace)."""
    return [
        (f"{w.namespace}/{p.name}", p.node)
        for w in snapshot.workloads
        if w.namespace == pdb.namespace
        for p in w.pods
        if pdb.selector.matches(_labels(w, p.labels))
    ]


def plan_migration(snapshot: ClusterSnapshot, plan: Plan, namespace: str | None = None) -> MigrationPlan:
    """The waves that move every pod on today's workers to `plan`'s nodes (`namespace`: its pods only; the
    nodes, shared with other namespaces, are then not removed)."""
    workers = sorted(n.name for n in snapshot.nodes if not n.control_plane)
    budgets, covering = pdb_budgets(snapshot)
    by_node: dict[str, list[Eviction]] = {n: [] for n in workers}
    for w in snapshot.workloads:
        if namespace and w.namespace != namespace:
            continue
        for p in w.pods:
            if p.node in by_node:
                by_node[p.node].append(Eviction(pod=f"{w.namespace}/{p.name}", workload=w.key, node=p.node))
    blocked: dict[str, str] = {}
    waves: list[Counter[str]] = []
    evictions: list[list[Eviction]] = []
    last_wave: dict[str, int] = {}
    for node in workers:
        first: int | None = None
        for ev in sorted(by_node[node], key=lambda e: e.pod):
            pdbs = covering.get(ev.pod, [])
            if len(pdbs) > 1:
                blocked[ev.pod] = (
                    f"selected by {len(pdbs)} PDBs ({', '.join(pdbs)}): the eviction API refuses it"
                )
                continue
            if pdbs and budgets[pdbs[0]] == 0:
                blocked[ev.pod] = (
                    f"PDB {pdbs[0]} allows no disruption: lower minAvailable or raise maxUnavailable"
                )
                continue
            start = first if first is not None and not pdbs else 0
            i = next(
                (i for i in range(start, len(waves)) if not pdbs or waves[i][pdbs[0]] < budgets[pdbs[0]]),
                None,
            )
            if i is None:
                waves.append(Counter())
                evictions.append([])
                i = len(waves) - 1
            waves[i].update(pdbs)
            evictions[i].append(ev)
            first = i if first is None else min(first, i)
            last_wave[node] = max(last_wave.get(node, 0), i)
    if not evictions:
        evictions.append([])
    stuck = {ev.node for n in workers for ev in by_node[n] if ev.pod in blocked}
    removable = [] if namespace else [n for n in workers if n not in stuck]
    out = [
        Wave(evict=evs, remove_nodes=[n for n in removable if last_wave.get(n, 0) == i])
        for i, evs in enumerate(evictions)
    ]
    notes = _notes(snapshot, covering, namespace, stuck)
    return MigrationPlan(
        launch=dict(sorted(Counter(n.offering for n in plan.nodes).items())),
        cordon=[] if namespace else workers,
        waves=out,
        budgets=budgets,
        blocked=blocked,
        notes=notes,
    )


def _notes(
    snapshot: ClusterSnapshot, covering: dict[str, list[str]], namespace: str | None, stuck: set[str]
) -> list[str]:
    notes = []
    unguarded = sorted(
        w.key
        for w in snapshot.workloads
        if (not namespace or w.namespace == namespace)
        and w.replicas >= 2
        and not any(f"{w.namespace}/{p.name}" in covering for p in w.pods)
    )
    if unguarded:
        notes.append(
            f"{len(unguarded)} workload(s) with 2+ replicas have no PodDisruptionBudget, so nothing limits how many "
            f"of their pods one wave evicts ({', '.join(unguarded[:5])}{', ...' if len(unguarded) > 5 else ''})"
        )
    notes.append(
        "the planned nodes hold the right-sized requests: apply right-sizing before the waves, or the moved "
        "pods keep today's requests and may not all fit"
    )
    if stuck:
        notes.append(f"nodes kept because a pod on them cannot be evicted: {', '.join(sorted(stuck))}")
    if namespace:
        notes.append(
            f"namespace {namespace} only: nodes are shared with other namespaces, so none is removed"
        )
    return notes
