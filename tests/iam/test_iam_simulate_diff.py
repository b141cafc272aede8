"""Differential test against @cloud-copilot/iam-simulate (npm, AGPL-3.0): a test-only subprocess, never
imported or shipped. Every disagreement must be a documented divergence (data/iam_simulate_divergences.md).

Two parts: identity policies of the forum corpus with generated requests, and generated multi-policy sets
(tests/iam/policy_sets.py), kept small here (seconds); `bench/iam_differential.py` runs 12,000 sets.
To run it: `npm install @cloud-copilot/iam-simulate` in some directory and set IAM_SIMULATE_DIR to it.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from policies import Policy, Request, load_catalog, parse_policy
from tests.iam.policy_sets import generate_cases
from tests.iam.simulate import compare_with_simulator, run_simulator, simulator_missing
from verifiers.iam import evaluate

HERE = Path(__file__).parent
FORUM = HERE / "data" / "quacky" / "forum"


def _fill(pattern: str, rng: random.Random) -> str:
    return "".join(
        rng.choice(["x", "prod", "123456789012"]) if c == "*" else "q" if c == "?" else c for c in pattern
    )


def _requests(policy: Policy, rng: random.Random, n: int) -> list[Request]:
    actions, resources, pool = ["s3:GetObject", "ec2:DescribeInstances"], ["*"], {}
    for st in policy.statements:
        actions += [_fill(a, rng) for a in (st.action or st.not_action or ())]
        resources += [_fill(r, rng) for r in (st.resource or st.not_resource or ())]
        for c in st.condition:
            pool.setdefault(c.key, []).extend([_fill(v, rng) for v in c.values] + ["other"])
    out = []
    for _ in range(n):
        context = {k: rng.choice(v) for k, v in pool.items() if rng.random() < 0.6}
        out.append(Request(action=rng.choice(actions), resource=rng.choice(resources), context=context))
    return out


def _arn_regex(template: str) -> re.Pattern[str]:
    fills = {"Partition": "aws[a-z-]*", "Region": "[a-z0-9-]*", "Account": r"\d{12}"}
    parts = re.split(r"\$\{([^}]*)\}", template)
    text = "".join(re.escape(p) if i % 2 == 0 else fills.get(p, ".+") for i, p in enumerate(parts))
    return re.compile(text)


def _resource_fits_action(request: Request) -> bool:
    """Would AWS send this request: is the resource of a type the action supports (or "*" for actions
    without resource-level permissions)?"""
    catalog = load_catalog()
    info = catalog.action_info(request.action)
    if info is None:
        return False
    _, _, types = info
    if not types:
        return request.resource == "*"
    arns = catalog.resource_arns(request.action.split(":", 1)[0])
    return any(t in arns and _arn_regex(arns[t]).fullmatch(request.resource) for t in types)


def _category(policy: Policy, request: Request) -> str | None:
    if not policy.supports_variables and "${" in json.dumps(policy.to_json()):
        return "variables-without-version"
    if "*" in request.resource:
        return "request-resource-wildcard"
    if not _resource_fits_action(request):
        return "resource-not-of-the-action"
    return None


def test_agrees_with_iam_simulate_up_to_documented_divergences() -> None:
    reason = simulator_missing()
    if reason:
        print(f"skipped: {reason}")
        pytest.skip(reason)
    rng = random.Random(11)
    cases = []
    for path in sorted(FORUM.glob("*.json")):
        policy = parse_policy(path.read_text(), source=path.name)
        if any(s.principal or s.not_principal for s in policy.statements):
            continue  # resource policies need a resource-policy simulation; identity policies only here
        cases += [(path, policy, r) for r in _requests(policy, rng, 12)]
    theirs = run_simulator(
        [json.dumps({"policy": json.loads(p.read_text()), "request": r.to_json()}) for p, _, r in cases]
    )
    undocumented = []
    documented = 0
    for (path, policy, request), decision in zip(cases, theirs, strict=True):
        ours = evaluate(policy, request).decision
        if ours == decision:
            continue
        if _category(policy, request):
            documented += 1
        else:
            undocumented.append((path.name, request.to_json(), ours, decision))
    print(f"{len(cases)} requests, {documented} documented divergences")
    for row in undocumented:
        print(row)
    assert not undocumented, undocumented[:5]


def test_policy_sets_agree_with_iam_simulate_up_to_documented_divergences() -> None:
    reason = simulator_missing()
    if reason:
        print(f"skipped: {reason}")
        pytest.skip(reason)
    outcome = compare_with_simulator(generate_cases(1500, seed=14))
    print(outcome.summary())
    assert not outcome.errors, outcome.errors[:3]
    assert not outcome.unexplained, [(c.line(), ours, theirs) for c, ours, theirs in outcome.unexplained[:3]]
    assert outcome.agree > 0.95 * outcome.cases
