"""The fractional relaxation of node planning, solved with HiGHS: a lower bound, its dual certificate,
and a fractional placement that guides the heuristic.

Variables: x_j >= 0 nodes of offering j (fractional), z_ij >= 0 pods of workload i on offering j.
Rows: sum_j z_ij >= n_i;  cap_jr * x_j - sum_i r_i z_ij >= 0 for CPU, memory, pod slots;
sum_{j spot} z_ij <= max spot pods of i;  z_ij <= spot-pool cap of i (column bound).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field

import highspy
import numpy as np

from verifiers.cost.bound import certified_lower_bound
from verifiers.cost.model import BoundCertificate, Offering, PlanProblem, Workload

__all__ = ["Relaxation", "quiet_highs", "solve_relaxation"]


@dataclass
class Relaxation:
    objective: float
    """The LP optimum as HiGHS reports it."""
    certified: float
    """The bound re-derived from the dual certificate by `verifiers.cost.bound` (what plans report)."""
    certificate: BoundCertificate
    nodes: dict[str, float]
    """Offering name -> fractional node count."""
    placement: dict[tuple[str, str], float]
    """(workload, offering) -> fractional pod count."""
    integral: bool = False
    """Node counts are integers (the MILP variant)."""
    node_reduced_costs: dict[str, float] = field(default_factory=dict)
    """Offering -> LP reduced cost of its node count: any plan costs at least objective + sum(rc * nodes)."""
    dual_bound: float = 0.0
    """MILP variant: HiGHS's proven branch-and-bound bound on the MILP optimum (itself a relaxation)."""


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance, without the banner its constructor prints on the C-level stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            h: highspy.Highs = highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    h.setOptionValue("output_flag", False)
    return h


def _size_cuts(
    works: list[Workload], offs: list[Offering], pairs: list[tuple[int, int]], first_row: int
) -> dict[int, list[tuple[int, int, float, int]]]:
    """Valid rows for the aggregated model: one node of o holds at most floor(cap / s) pods of size >= s in
    a resource, so  sum(pods of size >= s on o) <= floor(cap / s) * nodes of o.  Offering index ->
    (row, resource, s, per-node count) for every size s some allowed pod has."""
    sizes: dict[int, set[tuple[int, float]]] = {}
    for i, j in pairs:
        for r, need in enumerate((works[i].cpu_m, works[i].memory_mib)):
            if need > 0:
                sizes.setdefault(j, set()).add((r, float(need)))
    cuts: dict[int, list[tuple[int, int, float, int]]] = {}
    row = first_row
    for j in sorted(sizes):
        o = offs[j]
        for r, size in sorted(sizes[j]):
            per_node = math.floor(((o.cpu_m, o.memory_mib)[r] + 1e-6) / size)
            if per_node < o.max_pods:
                cuts.setdefault(j, []).append((row, r, size, per_node))
                row += 1
    return cuts


def solve_relaxation(
    problem: PlanProblem,
    skip: set[str] | None = None,
    integer_nodes: bool = False,
    max_nodes: int = 2_000,
    integer_pods: bool = False,
    rel_gap: float = 0.005,
) -> Relaxation:
    """Solve the relaxation for every workload not in `skip` (the unplaceable ones).

    With `integer_nodes`, node counts are integers (pods still split): a MILP whose placement guides the
    packing better; its dual prices are not a certificate, so the returned one then proves nothing (zero).
    With `integer_pods` too, pod counts per offering are integers: the aggregated model (capacity summed over
    an offering's nodes), whose optimum is a lower bound and, when its pods pack per node, the optimum.
    A MILP stops after `max_nodes` branch-and-bound nodes (a work limit: the same answer on a busy machine).
    """
    skip = skip or set()
    offs = problem.offerings
    works = [w for w in problem.workloads if w.replicas and w.name not in skip]
    n_off = len(offs)
    pairs = [(i, j) for i, w in enumerate(works) for j, o in enumerate(offs) if w.allows(o) and w.fits(o)]
    spot_rows = {
        i: k for k, i in enumerate(i for i, w in enumerate(works) if 0 < w.max_spot_cap() < w.replicas)
    }
    n_dem, n_cap = len(works), 3 * n_off
    cuts = _size_cuts(works, offs, pairs, n_dem + n_cap + len(spot_rows)) if integer_pods else {}
    n_rows = n_dem + n_cap + len(spot_rows) + sum(len(c) for c in cuts.values())
    n_cols = n_off + len(pairs)

    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    cost = np.zeros(n_cols)
    upper = np.full(n_cols, highspy.kHighsInf)
    for j, o in enumerate(offs):
        starts.append(len(index))
        cost[j] = o.usd_per_hour
        for r, cap in enumerate((o.cpu_m, o.memory_mib, o.max_pods)):
            index.append(n_dem + 3 * j + r)
            value.append(float(cap))
        for row, _, _, per_node in cuts.get(j, []):
            index.append(row)
            value.append(-float(per_node))
    for c, (i, j) in enumerate(pairs):
        w, o = works[i], offs[j]
        starts.append(len(index))
        index.append(i)
        value.append(1.0)
        for r, need in enumerate((w.cpu_m, w.memory_mib, 1.0)):
            if need:
                index.append(n_dem + 3 * j + r)
                value.append(-float(need))
        for row, r, size, _ in cuts.get(j, []):
            if (w.cpu_m, w.memory_mib)[r] >= size:
                index.append(row)
                value.append(1.0)
        if o.capacity_type == "spot":
            if i in spot_rows:
                index.append(n_dem + n_cap + spot_rows[i])
                value.append(1.0)
            if w.pool_cap() < w.replicas:
                upper[n_off + c] = w.pool_cap()
    starts.append(len(index))

    lower_rows = np.zeros(n_rows)
    upper_rows = np.full(n_rows, highspy.kHighsInf)
    for i, w in enumerate(works):
        lower_rows[i] = w.replicas
    for i, k in spot_rows.items():
        lower_rows[n_dem + n_cap + k] = -highspy.kHighsInf
        upper_rows[n_dem + n_cap + k] = works[i].max_spot_cap()
    for rows in cuts.values():
        for row, _, _, _ in rows:
            lower_rows[row], upper_rows[row] = -highspy.kHighsInf, 0.0

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = upper
    lp.row_lower_, lp.row_upper_ = lower_rows, upper_rows
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value)
    if integer_nodes:
        pod_type = highspy.HighsVarType.kInteger if integer_pods else highspy.HighsVarType.kContinuous
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_off + [pod_type] * len(pairs)
    h = quiet_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_max_nodes", max(1, int(max_nodes)))
    h.setOptionValue("mip_rel_gap", float(rel_gap))
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    usable = status == highspy.HighsModelStatus.kOptimal or (
        integer_nodes and h.getInfo().primal_solution_status == 2  # a feasible MILP incumbent
    )
    if not usable:
        raise RuntimeError(f"relaxation not solved: {h.modelStatusToString(h.getModelStatus())}")
    sol = h.getSolution()
    row_dual = np.asarray(sol.row_dual)
    col_dual = np.asarray(sol.col_dual)
    col_value = np.asarray(sol.col_value)

    if integer_nodes:
        return Relaxation(
            objective=float(h.getInfo().objective_function_value),
            certified=0.0,
            certificate=BoundCertificate(resource_prices={}),
            nodes={o.name: round(float(col_value[j])) for j, o in enumerate(offs) if col_value[j] > 0.5},
            placement={
                (works[i].name, offs[j].name): float(col_value[n_off + c])
                for c, (i, j) in enumerate(pairs)
                if col_value[n_off + c] > 1e-9
            },
            integral=True,
            dual_bound=max(0.0, float(h.getInfo().mip_dual_bound)),
        )
    cert = BoundCertificate(
        resource_prices={
            o.name: (
                float(row_dual[n_dem + 3 * j]),
                float(row_dual[n_dem + 3 * j + 1]),
                float(row_dual[n_dem + 3 * j + 2]),
            )
            for j, o in enumerate(offs)
        },
        spot_share_prices={
            works[i].name: max(0.0, -float(row_dual[n_dem + n_cap + k])) for i, k in spot_rows.items()
        },
    )
    for c, (i, j) in enumerate(pairs):
        if upper[n_off + c] < highspy.kHighsInf and col_dual[n_off + c] < 0:
            cert.pool_prices.setdefault(works[i].name, {})[offs[j].name] = -float(col_dual[n_off + c])
    return Relaxation(
        objective=float(h.getInfo().objective_function_value),
        certified=certified_lower_bound(problem, cert),
        certificate=cert,
        nodes={o.name: float(col_value[j]) for j, o in enumerate(offs) if col_value[j] > 1e-9},
        node_reduced_costs={o.name: float(col_dual[j]) for j, o in enumerate(offs) if col_dual[j] > 1e-9},
        placement={
            (works[i].name, offs[j].name): float(col_value[n_off + c])
            for c, (i, j) in enumerate(pairs)
            if col_value[n_off + c] > 1e-9
        },
    )
