"""The IAM agent tools: names and argument names the offline model emits, JSON answers, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.tools import BaseTool

from tools.base import ToolContext, is_mutating
from tools.iam import build_tools
from tools.iam.policy_tools import read_answer

DATA = Path(__file__).parent / "data" / "quacky"


def tools() -> dict[str, BaseTool]:
    return {t.name: t for t in build_tools(ToolContext(workdir=DATA))}


def test_tool_names_and_argument_names_are_stable() -> None:
    got = tools()
    assert {"compare_policies", "explain_policy", "check_request", "validate_policy"} <= set(got)
    assert set(got["compare_policies"].args) == {"policy_a", "policy_b"}
    assert set(got["explain_policy"].args) == {"policy"}
    mine = ("compare_policies", "explain_policy", "check_request", "validate_policy")
    assert not any(is_mutating(got[name]) for name in mine)


def test_compare_policies_resolves_paths_against_the_workdir() -> None:
    out, quoted = read_answer(
        tools()["compare_policies"].invoke(
            {
                "policy_a": "ec2_terminate_instance_ip/original.json",
                "policy_b": "ec2_terminate_instance_ip/mutant_2_7.json",
            }
        )
    )
    assert out["relation"] == "less_permissive" and "counterexamples" not in out
    assert quoted.startswith("allowed by ec2_terminate_instance_ip/mutant_2_7.json only: {")


def test_explain_policy_and_inline_json() -> None:
    inline = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
            ],
        }
    )
    out, summary = read_answer(tools()["explain_policy"].invoke({"policy": inline}))
    assert out["allows_anything"] is False and "allows nothing" in summary


def test_check_request_and_validate_policy() -> None:
    t = tools()
    out, _ = read_answer(
        t["check_request"].invoke(
            {
                "policy": "ec2_terminate_instance_ip/original.json",
                "request": json.dumps(
                    {
                        "action": "ec2:TerminateInstances",
                        "resource": "*",
                        "context": {"aws:SourceIp": "192.0.2.9"},
                    }
                ),
            }
        )
    )
    assert out["results"][0]["decision"] == "Allowed"
    valid, findings = read_answer(
        t["validate_policy"].invoke(
            {"policy": '{"Statement": {"Effect": "Allow", "Action": "iam:Nothing", "Resource": "*"}}'}
        )
    )
    assert valid["valid"] is False and valid["counts"]["error"] == 1
    assert "matches no known action" in findings and "[INVALID_ACTION]" in findings


def test_bad_input_is_an_error_message_not_a_traceback() -> None:
    out, _ = read_answer(
        tools()["compare_policies"].invoke({"policy_a": "missing.json", "policy_b": '{"Statement": 3}'})
    )
    assert "cannot read policy file" in out["error"]
    bad = json.loads(
        tools()["explain_policy"].invoke({"policy": '{"Statement": {"Effect": "Allow", "Action": 3}}'})
    )
    assert bad["pointer"] == "/Statement/Action"


def test_a_policy_arn_for_a_file_says_to_name_the_file() -> None:
    # a small model names a managed policy's ARN it made up where the request gave policy.json
    out = json.loads(
        tools()["explain_policy"].invoke({"policy": "arn:aws:iam::123456789012:policy/MyPolicy"})
    )
    assert "is an ARN" in out["error"] and "name the policy file" in out["error"]
