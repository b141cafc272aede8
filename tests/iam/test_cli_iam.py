"""`opsgraph iam check|diff|lint|explain`, as a user runs them (CliRunner on the typer app)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli_iam import app

RUNNER = CliRunner()
DATA = Path(__file__).parent / "data" / "quacky" / "ec2_terminate_instance_ip"


def write(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return str(path)


POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
        {
            "Sid": "Office",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        },
    ],
}


def test_check_a_cloudfix_format_suite_as_json_lines(tmp_path: Path) -> None:
    suite = {
        "Requests": [
            {
                "id": "r1",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/k",
                "Principal": "arn:aws:iam::123456789012:user/u",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.1.2.3"}},
            },
            {
                "id": "r2",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/k",
                "Principal": "arn:aws:iam::123456789012:user/u",
            },
            {
                "id": "r3",
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/k",
                "Principal": "arn:aws:iam::123456789012:user/u",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.1.2.3"}},
            },
        ]
    }
    result = RUNNER.invoke(
        app,
        ["check", write(tmp_path, "p.json", POLICY), "--request", write(tmp_path, "r.json", suite), "--json"],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["id"], r["decision"], r["ok"]) for r in rows] == [
        ("r1", "Allowed", True),
        ("r2", "ExplicitlyDenied", False),
        ("r3", "ImplicitlyDenied", True),
    ]
    assert rows[1]["matched"] == [
        "identity policy " + str(tmp_path / "p.json") + ": Statement[0] (Read) Allow",
        "identity policy " + str(tmp_path / "p.json") + ": Statement[1] (Office) Deny",
    ]


def test_check_with_a_boundary_and_plain_output(tmp_path: Path) -> None:
    boundary = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "s3:GetObjectAcl", "Resource": "*"},
    }
    request = {
        "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k",
        "context": {"aws:SourceIp": "10.0.0.9"},
    }
    args = ["check", write(tmp_path, "p.json", POLICY), "-r", write(tmp_path, "r.json", request)]
    assert "Allowed" in RUNNER.invoke(app, args).output
    bounded = RUNNER.invoke(app, [*args, "--boundary", write(tmp_path, "b.json", boundary)])
    assert bounded.exit_code == 0 and "ImplicitlyDenied" in bounded.output


def test_diff_json_gives_relation_and_counterexamples() -> None:
    result = RUNNER.invoke(
        app, ["diff", str(DATA / "original.json"), str(DATA / "mutant_3_2.json"), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["relation"] == "incomparable"
    assert {c["allowed_by"] for c in out["counterexamples"]} == {"first", "second"}
    assert all("action" in c["request"] and "resource" in c["request"] for c in out["counterexamples"])


def test_diff_plain_text_names_the_relation() -> None:
    result = RUNNER.invoke(app, ["diff", str(DATA / "original.json"), str(DATA / "mutant_2_7.json")])
    assert "less permissive than" in result.output and "allowed by" in result.output


def test_lint_and_explain(tmp_path: Path) -> None:
    bad = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetObjekt", "*"],
                "Resource": "arn:aws:s3",
                "Condition": {"StringEquals": {"aws:SourceIp": "1.2.3.4"}},
            }
        ],
    }
    out = json.loads(RUNNER.invoke(app, ["lint", write(tmp_path, "bad.json", bad), "--json"]).output)
    messages = " | ".join(f["message"] for f in out["findings"])
    assert "matches no known action" in messages and "invalid ARN" in messages and "IPAddress" in messages
    explained = RUNNER.invoke(app, ["explain", write(tmp_path, "p.json", POLICY)])
    assert "Statement[0] (Read) allows s3:Get*" in explained.output and "Explicit denies" in explained.output


def test_errors_are_one_line_with_exit_code_1(tmp_path: Path) -> None:
    result = RUNNER.invoke(
        app,
        [
            "lint",
            write(
                tmp_path,
                "x.json",
                '{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"Nope": {}}}]}',
            ),
        ],
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "/Statement/0/Condition/Nope" in result.output
    missing = RUNNER.invoke(app, ["diff", str(tmp_path / "absent.json"), str(DATA / "original.json")])
    assert missing.exit_code == 1 and "cannot read policy file" in missing.output
