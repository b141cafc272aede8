"""Run @cloud-copilot/iam-simulate (npm, AGPL-3.0) on generated policy sets, in its own Node process, and
sort each disagreement with our evaluator into a documented divergence (data/iam_simulate_divergences.md)
or leave it unexplained.

A divergence class explains a disagreement only when a variant of the case without the feature the class
names (the session policy, the empty-string values, the statement with the unresolvable variable) gets
iam-simulate's decision equal to ours, and our own decision does not change: the class is tested on the
case, not assumed from its shape.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies import PolicySet, Request, parse_policy
from policies.variables import split_pattern
from tests.iam.policy_sets import Case
from verifiers.iam import evaluate
from verifiers.iam.conditions import request_resolver

__all__ = ["DIVERGENCES", "Outcome", "compare_with_simulator", "run_simulator", "simulator_missing"]

RUNNER = Path(__file__).parent / "node" / "iam_simulate_runner.mjs"
SIMULATOR = os.environ.get("IAM_SIMULATE_DIR", "")


def simulator_missing() -> str | None:
    """Why the simulator cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not SIMULATOR or not (Path(SIMULATOR) / "node_modules/@cloud-copilot/iam-simulate").is_dir():
        return "set IAM_SIMULATE_DIR to a directory where `npm install @cloud-copilot/iam-simulate` ran"
    return None


def run_simulator(lines: Sequence[str], timeout: float = 300) -> list[str]:
    env = {"IAM_SIMULATE_DIR": SIMULATOR, "PATH": os.environ.get("PATH", "")}
    done = subprocess.run(
        ["node", str(RUNNER)],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=True,
    )
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines), done.stderr[-2000:]
    return out


def _rebuild(case: Case, docs: dict[str, Any], request: Request | None = None) -> Case:
    pset = PolicySet(
        identity=tuple(parse_policy(p) for p in docs["identity"]),
        resource=(parse_policy(docs["resource"]),) if docs["resource"] else (),
        boundary=tuple(parse_policy(p) for p in docs["boundary"]),
        session=(parse_policy(docs["session"]),) if docs["session"] else (),
        scp=tuple(parse_policy(p) for p in docs["scp"]),
    )
    return Case(pset, request or case.request, docs)


def _set_keys(case: Case) -> set[str]:
    return {
        c.key.lower()
        for p in case.policies.all_policies()
        for st in p.statements
        for c in st.condition
        if c.op.qualifier
    }


def _without_empty_strings(case: Case) -> Case | None:
    keys = _set_keys(case)
    context: dict[str, Any] = {}
    changed = False
    for key, value in case.request.context.items():
        if key.lower() not in keys:
            context[key] = value
            continue
        items = [value] if isinstance(value, str) else value
        kept = [v for v in items if v != ""]
        changed = changed or len(kept) != len(items)
        if kept:
            context[key] = kept if isinstance(value, list) else kept[0]
    if not changed:
        return None
    return _rebuild(case, case.docs, case.request.model_copy(update={"context": context}))


def _without_session_policy(case: Case) -> Case | None:
    if not (case.docs["session"] and case.docs["resource"]):
        return None
    return _rebuild(case, {**case.docs, "session": None})


def _unresolvable(statement: dict[str, Any], request: Request) -> bool:
    resolve = request_resolver(request)
    patterns = statement.get("Resource", statement.get("NotResource", []))
    for text in [patterns] if isinstance(patterns, str) else patterns:
        for piece in split_pattern(text, True):
            if piece.kind == "var" and resolve(piece) is None:
                return True
    return False


def _without_unresolvable_statements(case: Case) -> Case | None:
    def strip(doc: dict[str, Any] | None) -> dict[str, Any] | None:
        if doc is None:
            return None
        kept = [s for s in doc["Statement"] if not _unresolvable(s, case.request)]
        return {**doc, "Statement": kept or [{"Effect": "Deny", "NotAction": "*", "Resource": "*"}]}

    docs = {
        "identity": [strip(p) for p in case.docs["identity"]],
        "resource": strip(case.docs["resource"]),
        "boundary": [strip(p) for p in case.docs["boundary"]],
        "session": strip(case.docs["session"]),
        "scp": [strip(p) for p in case.docs["scp"]],
    }
    if docs == case.docs:
        return None
    if docs["resource"] is not None and not any(
        "Principal" in s or "NotPrincipal" in s for s in docs["resource"]["Statement"]
    ):
        docs["resource"]["Statement"][0]["Principal"] = "*"
    return _rebuild(case, docs)


@dataclass(frozen=True)
class Divergence:
    name: str
    variant: Callable[[Case], Case | None]


DIVERGENCES = (
    Divergence("for-all-values-empty-string", _without_empty_strings),
    Divergence("session-policy-and-direct-grant", _without_session_policy),
    Divergence("unresolvable-variable-in-another-segment", _without_unresolvable_statements),
)


@dataclass
class Outcome:
    cases: int = 0
    agree: int = 0
    explained: Counter[str] = field(default_factory=Counter)
    unexplained: list[tuple[Case, str, str]] = field(default_factory=list)
    errors: list[tuple[Case, str]] = field(default_factory=list)

    def summary(self) -> str:
        by_class = ", ".join(f"{n} {name}" for name, n in sorted(self.explained.items())) or "none"
        return (
            f"{self.cases} policy sets: {self.agree} agree; documented divergences: {by_class}; "
            f"unexplained: {len(self.unexplained)}; simulator errors: {len(self.errors)}"
        )


def compare_with_simulator(cases: Sequence[Case]) -> Outcome:
    """Both engines on every case; each disagreement tested against the documented divergences."""
    theirs = run_simulator([c.line() for c in cases])
    outcome = Outcome(cases=len(cases))
    pending: list[tuple[Case, str, str]] = []
    for case, decision in zip(cases, theirs, strict=True):
        ours = evaluate(case.policies, case.request).decision
        if decision.startswith("error"):
            outcome.errors.append((case, decision))
        elif ours == decision:
            outcome.agree += 1
        else:
            pending.append((case, ours, decision))
    trials: list[tuple[int, str, Case]] = []
    for i, (case, _ours, _theirs) in enumerate(pending):
        for div in DIVERGENCES:
            variant = div.variant(case)
            if variant is not None:
                trials.append((i, div.name, variant))
    answers = run_simulator([v.line() for _, _, v in trials]) if trials else []
    explained: dict[int, str] = {}
    for (i, name, variant), answer in zip(trials, answers, strict=True):
        case, ours, _ = pending[i]
        if (
            i not in explained
            and answer == ours
            and evaluate(variant.policies, variant.request).decision == ours
        ):
            explained[i] = name
    for i, row in enumerate(pending):
        if i in explained:
            outcome.explained[explained[i]] += 1
        else:
            outcome.unexplained.append(row)
    return outcome
