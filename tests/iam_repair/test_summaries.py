"""Summaries: per-service counts by access level against the catalog, carve-outs, reachability from Z3."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli import app
from policies import load_catalog, parse_policy
from verifiers.iam.repair import summarize


def test_counts_come_from_the_catalog_by_access_level() -> None:
    policy = parse_policy(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    )
    summary = summarize(policy)
    expected = load_catalog().expand("s3:Get*")
    assert summary.allowed == len(expected) and summary.catalog_actions == len(load_catalog().all_actions)
    [s3] = summary.services
    assert s3.service == "s3" and s3.reachable is True
    assert sorted(a for v in s3.actions.values() for a in v) == sorted(expected)
    assert summary.by_level["Read"] == len(s3.actions["Read"])
    assert summary.text.startswith(f"Allows {len(expected)} of {summary.catalog_actions:,} catalog actions")


def test_deny_carve_outs_and_conditions_are_listed() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
                },
                {
                    "Sid": "NoSecrets",
                    "Effect": "Deny",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/secrets/*",
                },
            ],
        }
    )
    [s3] = summarize(policy).services
    assert s3.count == 2 and s3.actions == {"Read": ("s3:GetObject",), "Write": ("s3:PutObject",)}
    assert any("NoSecrets" in c and "b/secrets/*" in c for c in s3.carve_outs)
    assert s3.conditions and "aws:SecureTransport" in s3.conditions[0]


def test_a_service_every_request_of_which_is_denied_is_proven_unreachable() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sqs:SendMessage",
                    "Resource": "arn:aws:sqs:us-east-1:111122223333:q",
                },
                {"Effect": "Deny", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:*"},
            ],
        }
    )
    summary = summarize(policy)
    assert summary.services[0].reachable is False and summary.allowed == 0
    assert "unreachable" in summary.text


def test_cli_summarize_json(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
            }
        )
    )
    result = CliRunner().invoke(app, ["iam", "summarize", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (
        doc["allowed"] == len(load_catalog().expand("ec2:Describe*"))
        and doc["services"][0]["service"] == "ec2"
    )
