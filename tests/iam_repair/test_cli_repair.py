"""`opsgraph iam repair` and `opsgraph iam synthesize` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli import app
from policies import parse_policy
from verifiers.iam.evaluate import evaluate
from verifiers.iam.repair import parse_spec

FIXTURE = Path(__file__).parent / "fixtures/cloudfix"


def _split(tmp_path: Path, name: str) -> tuple[Path, Path]:
    doc = json.loads((FIXTURE / f"{name}.json").read_text())
    policy, spec = tmp_path / "policy.json", tmp_path / "spec.json"
    policy.write_text(json.dumps(doc["policy"]))
    spec.write_text(json.dumps(doc.get("suite") or doc["spec"]))
    return policy, spec


def test_repair_json_has_the_documented_shape_and_out_writes_the_policy(tmp_path: Path) -> None:
    policy, spec = _split(tmp_path, "region_condition")
    out = tmp_path / "fixed.json"
    result = CliRunner().invoke(
        app, ["iam", "repair", str(policy), "--spec", str(spec), "--json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["status"] == "repaired"
    assert {"policy", "edits", "comparison", "spec_check"} <= set(doc)
    assert doc["spec_check"]["satisfied"] == doc["spec_check"]["total"] == 4
    assert doc["comparison"]["relation"] == "more_permissive" and doc["comparison"]["counterexamples"]
    written = parse_policy(out.read_text())
    assert written.to_json() == doc["policy"]
    for sr in parse_spec(json.loads(spec.read_text())).requests:
        assert evaluate(written, sr.request).allowed == (sr.expect == "Allow")


def test_repair_text_shows_edits_diff_and_proof(tmp_path: Path) -> None:
    policy, spec = _split(tmp_path, "passrole")
    result = CliRunner().invoke(app, ["iam", "repair", str(policy), "--spec", str(spec)])
    assert result.exit_code == 0, result.output
    assert "remove iam:PassRole from Action" in result.output
    assert '-        "iam:PassRole"' in result.output
    assert "original vs repaired: more_permissive" in result.output
    assert "proven:" in result.output


def test_unsatisfiable_spec_exits_1_with_the_explanation(tmp_path: Path) -> None:
    policy, spec = _split(tmp_path, "unsatisfiable")
    result = CliRunner().invoke(app, ["iam", "repair", str(policy), "--spec", str(spec), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["status"] == "unsatisfiable"


def test_bad_spec_is_one_error_line_with_the_pointer(tmp_path: Path) -> None:
    policy, _ = _split(tmp_path, "passrole")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"must_allow": [{"Resource": "*"}]}))
    result = CliRunner().invoke(app, ["iam", "repair", str(policy), "--spec", str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "/must_allow/0" in result.output
    assert "Traceback" not in result.output


def test_synthesize_from_spec_json(tmp_path: Path) -> None:
    _, spec = _split(tmp_path, "region_condition")
    result = CliRunner().invoke(app, ["iam", "synthesize", "--spec", str(spec), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["status"] == "synthesized" and doc["proven"] is True and doc["unmet"] == []
    assert parse_policy(doc["policy"]).statements


def test_synthesize_needs_a_spec_or_a_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["iam", "synthesize", "read my bucket"])
    assert result.exit_code == 1 and "--spec" in result.output


def test_with_model_refuses_the_offline_model_clearly(tmp_path: Path) -> None:
    policy, spec = _split(tmp_path, "passrole")
    result = CliRunner().invoke(app, ["iam", "repair", str(policy), "--spec", str(spec), "--with-model"])
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and "real model" in result.output


def test_synthesize_from_allow_options_with_a_condition(tmp_path: Path) -> None:
    out = tmp_path / "policy.json"
    office = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    args = ["iam", "synthesize", "--allow", "ec2:StartInstances=*", "--allow", "ec2:StopInstances=*"]
    result = CliRunner().invoke(app, [*args, "--condition", json.dumps(office), "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["proven"] is True and doc["source"] == "allow-list"
    assert json.loads(out.read_text())["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["ec2:StartInstances", "ec2:StopInstances"],
            "Resource": "*",
            "Condition": office,
        }
    ]


def test_bad_allow_options_are_one_line_errors_naming_them() -> None:
    cases = (
        (["--allow", "ec2:StartInstances"], "error: --allow 'ec2:StartInstances' (entry 0): expected ACTION=RESOURCE"),
        (["--allow", "s3:GetObject=logs"], "error: --allow: /allow/0/resource: 'logs' is not an ARN"),
        (["--allow", "s3:GetObject=*", "--condition", "{bad"], "error: --condition: not JSON"),
        (["--allow", "s3:GetObject=*", "--condition", "[]"], "error: --condition: expected an object"),
        (["--condition", "{}"], "error: --condition applies to --allow entries"),
        (["--allow", "s3:GetObject=*", "--spec", "s.json"], "error: give --allow, or --spec"),
    )  # fmt: skip
    for args, message in cases:
        result = CliRunner().invoke(app, ["iam", "synthesize", *args])
        assert result.exit_code == 1 and result.output.startswith(message), (args, result.output)
        assert len(result.output.strip().splitlines()) == 1
