"""A policy written from the model's reading of a request is held against the request's own words.

The 1.5B model, asked for EC2 start/stop "only from the office network 203.0.113.0/24" in one account,
dropped the network and made up an account and a region; Z3 proved the policy equal to those entries, and
the answer said "proven". `policy_against_request` finds such omissions and additions without a model,
and `AgainstRequest` puts them in the result the model and the person read. The agent path runs against
`ScriptedOpenAIServer` over the real client with the real IAM tools.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from agents.runtime import Runtime
from tests.scripted_openai_server import Reply, ScriptedOpenAIServer, is_routing, scripted_settings
from tools.base import ToolContext
from tools.iam.request_check import policy_against_request, request_literals

OFFICE = (
    "Write an IAM policy that lets the ops role start and stop the EC2 instances of account 111122223333 "
    "in eu-west-1, only from the office network 203.0.113.0/24."
)


def _policy(resource: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Action": ["ec2:StartInstances", "ec2:StopInstances"],
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_what_the_model_dropped_and_made_up_is_named() -> None:
    # what the 1.5B model wrote: no network, an account and a region of its own
    found = policy_against_request(_policy("arn:aws:ec2:us-east-1:123456789012:instance/*"), OFFICE)
    assert found == [
        "the request names the address 203.0.113.0/24; the policy does not mention it",
        "the request names the account 111122223333; the policy does not mention it",
        "the request names the region eu-west-1; the policy does not mention it",
        "the policy's ARNs name the account 123456789012, which the request does not: check it",
        "the policy's ARNs name the region us-east-1, which the request does not: check it",
    ]


def test_the_docs_example_reads_as_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "iam-repair.md").read_text()
    request = (
        "Write an IAM policy that lets the ops role start and stop the EC2 instances of account "
        "111122223333, only from the office network 203.0.113.0/24."
    )
    assert " ".join(request.split()[:8]) in " ".join(doc.split())
    found = policy_against_request(_policy("arn:aws:ec2:us-east-1:123456789012:instance/*"), request)
    assert "```text\n" + "\n".join(f"- ⚠️ {line}" for line in found) + "\n```" in doc


def test_a_faithful_policy_has_nothing_to_check() -> None:
    office = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    assert (
        policy_against_request(_policy("arn:aws:ec2:eu-west-1:111122223333:instance/*", office), OFFICE) == []
    )
    assert policy_against_request(_policy("arn:aws:s3:::acme-logs/*"), "Let the role read acme-logs.") == []
    # S3 ARNs have no account or region: naming them in the request leaves nothing out of an S3 policy
    s3 = "Let the role read the bucket acme-logs of account 111122223333 in eu-west-1."
    assert policy_against_request(_policy("arn:aws:s3:::acme-logs/*"), s3) == []
    # ... but a policy of any resource at all does not keep to the request's account
    assert policy_against_request(_policy("*"), s3) == [
        "the request names the account 111122223333; the policy does not mention it",
        "the request names the region eu-west-1; the policy does not mention it",
    ]


@pytest.mark.parametrize(
    ("request_text", "resource", "expected"),
    [
        # an ARN counts as named when a pattern of the policy matches it ...
        ("read arn:aws:s3:::acme-logs/reports/q3.csv", "arn:aws:s3:::acme-logs/*", []),
        # ... and the bucket is not one of its objects
        (
            "list the bucket arn:aws:s3:::acme-logs.",
            "arn:aws:s3:::acme-logs/*",
            ["the request names the ARN arn:aws:s3:::acme-logs; the policy does not mention it"],
        ),
    ],
)
def test_arns_are_matched_as_iam_patterns(request_text: str, resource: str, expected: list[str]) -> None:
    assert policy_against_request(_policy(resource), request_text) == expected


def test_literals_are_whole_values() -> None:
    # 10.0.0.5 is not 10.0.0.50; a version, a date or a 13-digit number is no address or account
    condition = {"IpAddress": {"aws:SourceIp": "10.0.0.50/32"}}
    found = policy_against_request(_policy("*", condition), "only from 10.0.0.5")
    assert found == ["the request names the address 10.0.0.5; the policy does not mention it"]
    assert request_literals("release 1.2.3.4.5 on 2026-12-04, ticket 1234567890123") == []
    assert request_literals("from vpce-0a1b2c3d4e5f6a7b8 in vpc-0a1b2c3d") == [
        ("VPC", "vpce-0a1b2c3d4e5f6a7b8"),
        ("VPC", "vpc-0a1b2c3d"),
    ]


def _agent_run(tmp_path: Path, entry: dict[str, Any], direct: str = "on") -> tuple[Any, list[dict[str, Any]]]:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return Reply(json.dumps({"agents": ["iam"], "reply": None}))
        if "Result of" in body["messages"][-1]["content"]:
            return Reply(json.dumps({"answer": "Done."}))
        return Reply(json.dumps({"name": "synthesize_policy", "arguments": {"allow": [entry]}}))

    with ScriptedOpenAIServer(script) as server:
        settings = scripted_settings(server, direct_answers=direct)  # on: the rendering is the answer
        with Runtime(settings, tool_context=ToolContext(workdir=tmp_path)) as runtime:
            result = runtime.run(OFFICE, thread_id="t")
    assert server.rejected == []
    return result, [b for b in server.requests if not is_routing(b)]


def test_the_agent_s_answer_says_what_the_policy_left_out(tmp_path: Path) -> None:
    made_up = {"action": "ec2:StartInstances", "resource": "arn:aws:ec2:us-east-1:123456789012:instance/*"}
    result, _ = _agent_run(tmp_path, made_up)
    answer = result.answer or ""
    # proven, of the entries; the title says the policy is not what the request asks for
    assert "### ⚠️ Policy written, proven by Z3, but it differs from the request (below)" in answer
    assert "⚠️ the request names the address 203.0.113.0/24; the policy does not mention it" in answer
    assert "the policy's ARNs name the account 123456789012, which the request does not" in answer
    faithful = {
        "action": "ec2:StartInstances",
        "resource": "arn:aws:ec2:eu-west-1:111122223333:instance/*",
        "condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    }
    result, _ = _agent_run(tmp_path, faithful)
    answer = result.answer or ""
    assert "⚠️" not in answer and "### ✅ Policy written, proven by Z3" in answer
    assert (
        "held against the request: every address, account, region, VPC and ARN it names is in the" in answer
    )


def test_the_model_reads_the_findings_in_the_tool_result(tmp_path: Path) -> None:
    from agents.middleware.request import held_against_request

    made_up = {"action": "ec2:StartInstances", "resource": "arn:aws:ec2:us-east-1:123456789012:instance/*"}
    _, steps = _agent_run(tmp_path, made_up, direct="off")  # the model answers after the result
    result_text = steps[1]["messages"][-1]["content"]
    assert "Result of" in result_text and "203.0.113.0/24; the policy does not mention it" in result_text

    artifact = {"kind": "iam.synthesis", "policy": _policy("arn:aws:ec2:us-east-1:123456789012:instance/*")}
    message = ToolMessage(json.dumps({"status": "ok"}), tool_call_id="c1", artifact=artifact)
    held = held_against_request(message, OFFICE)
    body = json.loads(str(held.content))
    assert body["status"] == "ok" and len(body["against_request"]) == 5
    assert held.artifact["against_request"] == body["against_request"]
    # a failed call and a kind without a check are left as they are
    failed = ToolMessage("{}", tool_call_id="c2", artifact=artifact, status="error")
    assert held_against_request(failed, OFFICE) is failed
    other = ToolMessage("{}", tool_call_id="c3", artifact={"kind": "iam.check"})
    assert held_against_request(other, OFFICE) is other
