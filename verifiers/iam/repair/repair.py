"""The symbolic repairer: the fewest edits that make a policy satisfy its spec, least permissive first, proven.

Search: breadth-first over edit sequences (a beam of the best few states per depth), where each state's
wrong requests are localized and each fault proposes candidate edits (`candidates.py`). A state whose
requests all pass the concrete evaluator goes to the Z3 engine for the rest of the spec and for the bound
"allows nothing beyond what the original allowed and the must-allow requests ask for"; any counterexample
the engine finds joins the spec as a request that must be denied, and the search goes on (CEGIS). Among
the proven repairs at the smallest depth the least permissive one is chosen by `compare`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from policies.model import Policy, Principal
from policies.request import Request
from verifiers.iam.compare import Comparison, compare
from verifiers.iam.exclusive import exclusive
from verifiers.iam.repair.candidates import Candidate, fault_candidates, least_privilege_candidates
from verifiers.iam.repair.check import SpecCheck, StatementCache, check_requests, check_spec, needed_actions
from verifiers.iam.repair.conflicts import find_conflicts
from verifiers.iam.repair.edits import Edit, exact_resource, has_principals, statement_diff
from verifiers.iam.repair.localize import FaultReport, localize
from verifiers.iam.repair.measure import Breadth, allowed_actions, breadth, statement_actions
from verifiers.iam.repair.model import ModelRound, Proposer, propose_and_check
from verifiers.iam.repair.prove import allow_policy, find_request
from verifiers.iam.repair.spec import Spec, SpecRequest

__all__ = ["RepairOptions", "RepairResult", "RepairStatus", "bound_policies", "repair", "search"]

RepairStatus = Literal["repaired", "already_satisfied", "unsatisfiable", "failed"]
_PROBE_ACTIONS = ("iam:CreateAccessKey", "iam:PutUserPolicy", "organizations:LeaveOrganization")


class RepairOptions(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_edits: int = 12
    beam: int = 4
    faults_per_state: int = 4
    cegis_rounds: int = 24
    time_budget_s: float = 60.0
    alternatives: int = 2
    """How many other proven repairs of the same size to compare against for least permissiveness."""
    keep_most: bool = False
    """Among repairs with the fewest edits, prefer the one that keeps the most of the original (still proven
    to allow nothing beyond the original and the must-allow requests) instead of the least permissive one."""
    enforce_bound: bool = True
    """Only accept repairs that allow nothing beyond the original and the must-allow requests. When no such
    repair exists (IAM's patterns cannot express every carve-out), `repair` retries without it and says so."""


class RepairResult(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    status: RepairStatus
    original: Policy
    policy: Policy | None = None
    edits: tuple[Edit, ...] = ()
    comparison: Comparison | None = None
    spec_check: SpecCheck | None = None
    faults: FaultReport = FaultReport()
    explanation: str = ""
    warnings: tuple[str, ...] = ()
    proofs: tuple[str, ...] = ()
    source: Literal["symbolic", "model", "none"] = "none"
    derived: tuple[SpecRequest, ...] = ()
    """Counterexamples the engine found along the way, added to the spec as must-deny requests."""
    seconds: float = 0.0
    model_rounds: tuple[dict[str, Any], ...] = ()
    within_bound: bool = True
    """The repair allows nothing beyond the original and the must-allow requests (proven by Z3)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "policy": (self.policy or self.original).to_json(),
            "edits": [e.to_json() for e in self.edits],
            "comparison": self.comparison.to_json() if self.comparison else None,
            "spec_check": self.spec_check.to_json() if self.spec_check else None,
            "faults": self.faults.to_json(),
            "proofs": list(self.proofs),
            "source": self.source,
            "within_bound": self.within_bound,
            "seconds": round(self.seconds, 4),
        }
        if self.explanation:
            out["explanation"] = self.explanation
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.model_rounds:
            out["model_rounds"] = list(self.model_rounds)
        return out


@dataclass
class _State:
    policy: Policy
    edits: tuple[Edit, ...] = ()
    failing: int = 0
    rank: Breadth = (0, 0, 0)
    key: str = field(default="")


def bound_policies(original: Policy, spec: Spec) -> list[Policy]:
    """What a repair may allow: the original, plus (action, resource, principal) of each must-allow request."""
    points = []
    resource_policy = has_principals(original)
    for sr in spec.must_allow:
        r = sr.request
        principal = Principal(values={"AWS": (r.principal,)}) if (resource_policy and r.principal) else None
        if resource_policy and principal is None:
            principal = Principal(wildcard=True)
        points.append(allow_policy([r.action], [exact_resource(r.resource, True)], principal))
    return [original, *points]


def _excess_statements(policy: Policy, needed: frozenset[str] | None) -> int:
    """Under `least_privilege`: Allow statements that cover an action nobody asked for (a quick proxy for
    the Z3 check, so the search sees the fault without a solver round per action)."""
    if needed is None:
        return 0
    allowed = allowed_actions(policy)
    return sum(
        1
        for st in policy.statements
        if st.effect == "Allow" and any(a.lower() not in needed for a in statement_actions(st) & allowed)
    )


def _state(
    policy: Policy,
    edits: tuple[Edit, ...],
    requests: tuple[SpecRequest, ...],
    needed: frozenset[str] | None,
    cache: StatementCache,
) -> _State:
    return _State(
        policy,
        edits,
        cache.failing(policy, requests) + _excess_statements(policy, needed),
        breadth(policy),
        json.dumps(policy.to_json(), sort_keys=True),
    )


def _children(
    state: _State, spec: Spec, requests: tuple[SpecRequest, ...], options: RepairOptions
) -> list[Candidate]:
    failures = check_requests(state.policy, requests)
    working = spec.model_copy(update={"requests": requests})
    report = localize(state.policy, working, failures)
    allows = [r.request for r in spec.must_allow]
    denies = [r.request for r in requests if r.expect == "Deny"]
    pending = [f.spec_request.request for f in failures if f.spec_request.expect == "Allow"]
    out: list[Candidate] = []
    for fault in report.faults[: options.faults_per_state]:
        out += fault_candidates(state.policy, fault, allows, pending, denies)
    if spec.has("least_privilege") or spec.has("no_full_admin"):
        out += least_privilege_candidates(state.policy, needed_actions(spec))
    return out


def _obligations(
    policy: Policy, original: Policy, spec: Spec, enforce_bound: bool = True
) -> tuple[list[SpecRequest], SpecCheck]:
    """Symbolic counterexamples (as must-deny requests) for a request-clean state, and its spec check."""
    check = check_spec(policy, spec)
    derived: list[SpecRequest] = []
    unverified = list(check.unverified)
    for v in check.violations:
        sr = v.as_spec_request()
        if sr is None:  # `no_full_admin`: any action nobody asked for stands for "everything"
            needed = {a.lower() for a in needed_actions(spec)}
            action = next(a for a in _PROBE_ACTIONS if a.lower() not in needed)
            probe = Request(action=action, resource="*")
            sr = SpecRequest(request=probe, expect="Deny", pointer=f"{v.pointer} (probe)")
        derived.append(sr)
    if not enforce_bound:
        return derived, check.model_copy(update={"unverified": tuple(unverified)})
    found = find_request([policy], bound_policies(original, spec))
    if found.status == "sat" and found.request is not None:
        derived.append(SpecRequest(request=found.request, expect="Deny", pointer="/bound (counterexample)"))
    elif found.status == "unknown":
        unverified.append(f"bound: solver gave no answer ({found.reason})")
    return derived, check.model_copy(update={"unverified": tuple(unverified)})


@dataclass
class _Found:
    proven: list[tuple[_State, SpecCheck]] = field(default_factory=list)
    derived: list[SpecRequest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _prove_clean(
    clean: list[_State], original: Policy, spec: Spec, found: _Found, options: RepairOptions
) -> list[SpecRequest]:
    """Prove the best clean states (the first, then up to `alternatives` that may be less permissive)."""
    new: list[SpecRequest] = []
    for s in clean:
        if found.proven and len(found.proven) > options.alternatives:
            break
        extra, check = _obligations(
            s.policy, original, spec.with_requests(found.derived), options.enforce_bound
        )
        if extra:
            new += extra
            if not found.proven:
                break  # one counterexample round at a time keeps the solver calls few
        elif check.unverified:
            found.notes += check.unverified
        else:
            found.proven.append((s, check))
    return new


def search(original: Policy, spec: Spec, options: RepairOptions) -> _Found:
    """The proven states at the smallest depth, the derived requests, and notes on unverified obligations."""
    deadline = time.monotonic() + options.time_budget_s
    requests = spec.requests
    found = _Found()
    needed = frozenset(a.lower() for a in needed_actions(spec)) if spec.has("least_privilege") else None
    cache = StatementCache()  # keyed by request identity: one per search, never shared
    frontier = [_state(original, (), requests, needed, cache)]
    seen = {frontier[0].key}
    depth = cegis = 0
    while frontier and time.monotonic() < deadline:
        clean = sorted((s for s in frontier if s.failing == 0), key=lambda s: _order(s, options))
        if clean:
            new = _prove_clean(clean, original, spec, found, options)
            if found.proven:
                return found
            if not new or cegis >= options.cegis_rounds:
                return found
            cegis += 1
            found.derived += new
            requests = spec.requests + tuple(found.derived)
            frontier = [_state(s.policy, s.edits, requests, needed, cache) for s in frontier]
            continue
        if depth >= options.max_edits:
            break
        depth += 1
        children: list[_State] = []
        for state in frontier:
            for edit, policy in _children(state, spec, requests, options):
                child = _state(policy, (*state.edits, edit), requests, needed, cache)
                # lifting a Deny (or dropping a statement) may only move a fault, so it may keep the count
                slack = 1 if edit.op.startswith("exempt") or edit.op == "remove_statement" else 0
                if child.key in seen or child.failing >= state.failing + slack:
                    continue
                seen.add(child.key)
                children.append(child)
        children.sort(key=lambda s: (s.failing, _order(s, options)))
        frontier = children[: options.beam]
    return found


def _order(state: _State, options: RepairOptions) -> tuple[int, ...]:
    """Least permissive first (smaller breadth), or with `keep_most` the closest to the original first."""
    return tuple(-x for x in state.rank[:2]) + state.rank[2:] if options.keep_most else state.rank


def _least_permissive(
    proven: list[tuple[_State, SpecCheck]], keep_most: bool = False
) -> tuple[_State, SpecCheck, list[str]]:
    """The first state no other proven candidate is strictly less permissive than (checked with compare);
    with `keep_most`, the one no other is strictly more permissive than."""
    best, check = proven[0]
    proofs = []
    worse = "less_permissive" if keep_most else "more_permissive"
    which = "most" if keep_most else "least"
    for other, other_check in proven[1:]:
        cmp = compare(best.policy, other.policy)
        if cmp.relation == worse:
            best, check = other, other_check
        proofs.append(
            f"{which} permissive of the {len(proven)} proven repairs with {len(best.edits)} edits: compare = {cmp.relation}"
        )
    return best, check, proofs


def _model_round(
    policy: Policy, spec: Spec, proposer: Proposer, faults: FaultReport, rounds: int
) -> tuple[Policy | None, list[ModelRound]]:
    task = "Repair this AWS IAM policy so that it satisfies the specification below, changing as little as possible:\n"
    task += json.dumps(policy.to_json(), indent=1)
    context = "Fault report (which statements cause each wrong decision):\n" + faults.text()
    candidate, _, transcript = propose_and_check(
        task, spec, proposer, rounds=rounds, context=context, bound=bound_policies(policy, spec)
    )
    return candidate, transcript


@exclusive
def repair(
    policy: Policy,
    spec: Spec,
    options: RepairOptions | None = None,
    *,
    proposer: Proposer | None = None,
    model_rounds: int = 3,
) -> RepairResult:
    """Repair `policy` to satisfy `spec` with the fewest edits, least permissive first, every claim proven."""
    options = options or RepairOptions()
    start = time.monotonic()
    warnings = tuple(spec.unknown_actions())
    failures = check_requests(policy, spec.requests)
    faults = localize(policy, spec, failures)
    conflicts = find_conflicts(spec)
    if conflicts:
        return RepairResult(
            status="unsatisfiable",
            original=policy,
            faults=faults,
            warnings=warnings,
            explanation="the spec contradicts itself: " + "; ".join(conflicts),
            seconds=time.monotonic() - start,
        )
    initial = check_spec(policy, spec, symbolic=not failures)
    if initial.ok:
        return RepairResult(
            status="already_satisfied",
            original=policy,
            policy=policy,
            spec_check=initial,
            warnings=warnings,
            comparison=Comparison(relation="equivalent", reason="the policy is unchanged"),
            proofs=("every request decided as the spec says", "every symbolic obligation proven"),
            seconds=time.monotonic() - start,
        )
    found = search(policy, spec, options)
    relaxed = False
    if not found.proven and options.enforce_bound:
        retry = search(policy, spec, options.model_copy(update={"enforce_bound": False}))
        if retry.proven:
            found, relaxed = retry, True
    transcript: list[ModelRound] = []
    if proposer is not None:
        candidate, transcript = _model_round(policy, spec, proposer, faults, model_rounds)
        if candidate is not None:
            _, check = _obligations(candidate, policy, spec)
            state = _State(
                candidate, tuple(statement_diff(policy, candidate)), 0, breadth(candidate), "model"
            )
            found.proven.append((state, check))
            found.proven.sort(key=lambda sc: (len(sc[0].edits), sc[0].rank))
    rounds = tuple(r.to_json() for r in transcript)
    if not found.proven:
        why = (
            "; ".join(found.notes)
            or f"no repair within {options.max_edits} edits or {options.time_budget_s:.0f} s"
        )
        return RepairResult(
            status="failed",
            original=policy,
            faults=faults,
            warnings=warnings,
            explanation=why,
            derived=tuple(found.derived),
            seconds=time.monotonic() - start,
            model_rounds=rounds,
        )
    fewest = min(len(sc[0].edits) for sc in found.proven)
    best, _, proofs = _least_permissive(
        [sc for sc in found.proven if len(sc[0].edits) == fewest], options.keep_most
    )
    concrete = check_spec(best.policy, spec, symbolic=False)
    symbolic = (1 if spec.reference is not None else 0) + len(spec.properties)
    final_check = concrete.model_copy(
        update={"satisfied": concrete.satisfied + symbolic, "total": concrete.total + symbolic}
    )
    comparison = compare(policy, best.policy)
    bound_line = (
        "allows nothing beyond the original policy and the must-allow requests (Z3: no such request exists)"
    )
    if relaxed:
        beyond = find_request([best.policy], bound_policies(policy, spec))
        example = json.dumps(beyond.request.to_json()) if beyond.request else "unknown"
        bound_line = (
            "NOT within the bound: no repair that allows nothing beyond the original and the must-allow requests "
            f"was found (IAM patterns cannot express every carve-out); it also allows e.g. {example}"
        )
        warnings = (*warnings, bound_line)
    proofs = [
        f"{final_check.satisfied} of {final_check.total} spec obligations satisfied (requests by the concrete evaluator, the rest by Z3)",
        bound_line,
        *proofs,
    ]
    return RepairResult(
        status="repaired" if final_check.ok else "failed",
        original=policy,
        policy=best.policy,
        edits=best.edits,
        comparison=comparison,
        spec_check=final_check,
        faults=faults,
        warnings=warnings,
        proofs=tuple(proofs),
        source="model" if best.key == "model" else "symbolic",
        within_bound=not relaxed,
        derived=tuple(found.derived),
        seconds=time.monotonic() - start,
        model_rounds=rounds,
    )
