"""`--timeout-ms` / `timeout_ms` bound the whole command: reading and encoding the policies as well as the
solver. A budget that runs out gives `unknown` (or undecided regions) with the stage it ran out in, never
a verdict."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from opsgraph.cli_iam import app
from policies import parse_policy
from tests.iam.builders import allow, policy, req
from verifiers.iam import allows, compare, decide, explain
from verifiers.iam.budget import BudgetExceededError, check, remaining_ms, time_budget


def big(n: int, widen: int | None = None) -> dict[str, Any]:
    statements = [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "*" if i == widen else f"arn:aws:s3:::bucket-{i}/team-{i % 7}/*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": ["us-east-1", f"r-{i}"]}},
        }
        for i in range(n)
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def test_an_inner_budget_never_extends_the_outer_one() -> None:
    with time_budget(50):
        with time_budget(60_000):
            assert remaining_ms(60_000) <= 50
        time.sleep(0.06)
        try:
            check("testing")
        except BudgetExceededError as exc:
            assert exc.stage == "testing" and "timed out" in str(exc)
        else:
            raise AssertionError("the budget did not run out")
    assert remaining_ms(123) == 123  # no budget outside


def test_a_tiny_budget_stops_encoding_and_answers_unknown() -> None:
    p, q = parse_policy(big(600)), parse_policy(big(600, widen=300))
    result = compare(p, q, timeout_ms=1)
    assert result.relation == "unknown"
    assert "timed out" in result.reason and "while" in result.reason
    assert result.counterexamples == ()
    assert allows(p, action="s3:GetObject", timeout_ms=1).status == "unknown"
    assert decide(p, req("s3:GetObject", "arn:aws:s3:::bucket-1/team-1/x"), timeout_ms=1).status == "unknown"
    summary = explain(p, timeout_ms=1)
    assert len(summary.allows) == 600  # every region is described; none is claimed reachable or not
    assert all(r.reachable is None for r in summary.allows)


def test_the_same_comparison_with_room_is_decided() -> None:
    p, q = parse_policy(big(60)), parse_policy(big(60, widen=30))
    result = compare(p, q, timeout_ms=60_000)
    assert result.relation == "less_permissive"
    assert compare(policy(allow("s3:GetObject")), policy(allow("s3:Get*")), timeout_ms=60_000).relation == (
        "less_permissive"
    )


def test_cli_diff_with_a_one_millisecond_budget_says_unknown(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(big(600)))
    b.write_text(json.dumps(big(600, widen=300)))
    out = CliRunner().invoke(app, ["diff", str(a), str(b), "--timeout-ms", "1", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["relation"] == "unknown" and "timed out" in body["reason"]
