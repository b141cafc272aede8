"""The IAM engines: a concrete evaluator and a Z3 engine that decides, compares and explains.

The two must agree (tests/iam/test_engines_agree.py). `unknown` from the solver is never a verdict.
"""

from verifiers.iam.compare import Comparison, Counterexample, Relation, compare
from verifiers.iam.encode import (
    encode_clause,
    encode_policy,
    encode_policy_parts,
    encode_set,
    encode_statement,
)
from verifiers.iam.evaluate import Decision, DecisionKind, StatementMatch, evaluate
from verifiers.iam.explain import Explanation, Region, explain
from verifiers.iam.lint import Finding, lint
from verifiers.iam.pin import decide, pin_request, reserve_slots
from verifiers.iam.properties import (
    PRIVILEGE_ESCALATION_ACTIONS,
    allowed_escalation_actions,
    allows,
    allows_full_access,
    allows_public_access,
)
from verifiers.iam.solve import DEFAULT_TIMEOUT_MS, SolveResult, solve
from verifiers.iam.space import Space

__all__ = [
    "DEFAULT_TIMEOUT_MS",
    "PRIVILEGE_ESCALATION_ACTIONS",
    "Comparison",
    "Counterexample",
    "Decision",
    "DecisionKind",
    "Explanation",
    "Finding",
    "Region",
    "Relation",
    "SolveResult",
    "Space",
    "StatementMatch",
    "allowed_escalation_actions",
    "allows",
    "allows_full_access",
    "allows_public_access",
    "compare",
    "decide",
    "encode_clause",
    "encode_policy",
    "encode_policy_parts",
    "encode_set",
    "encode_statement",
    "evaluate",
    "explain",
    "lint",
    "pin_request",
    "reserve_slots",
    "solve",
]
