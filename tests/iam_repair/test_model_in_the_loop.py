"""The model path, with a scripted fake model: a wrong candidate is rejected by the engine and its
counterexample reaches the next prompt; the accepted candidate is proven like a symbolic one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from policies import Policy, parse_policy
from verifiers.iam.repair import Spec, chat_proposer, parse_spec, repair, synthesize
from verifiers.iam.repair.model import propose_and_check

Case = Callable[[str | Path], tuple[Policy, Spec]]

WRONG = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::reports-bucket/*"}],
}
RIGHT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": "arn:aws:s3:::reports-bucket/2024/*",
        },
        {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
    ],
}


def test_wrong_candidate_is_rejected_and_its_counterexample_reaches_the_next_prompt(
    case: Case, scripted_model: Any
) -> None:
    _, spec = case("s3_wildcard")
    model = scripted_model([json.dumps(WRONG), "Here you go:\n```json\n" + json.dumps(RIGHT) + "\n```"])
    policy, check, rounds = propose_and_check("Write the policy.", spec, chat_proposer(model))
    assert [r.verdict for r in rounds] == ["rejected", "accepted"]
    assert any("delete" in c and "s3:DeleteObject" in c for c in rounds[0].counterexamples)
    assert "rejected by the verifier" in model.prompts[1]
    assert "s3:DeleteObject on arn:aws:s3:::reports-bucket/2024/q1.csv" in model.prompts[1]
    assert "rejected" not in model.prompts[0]
    assert policy is not None and check is not None and check.ok


def test_unparseable_reply_is_fed_back_and_the_loop_stops_at_the_round_limit(
    case: Case, scripted_model: Any
) -> None:
    _, spec = case("s3_wildcard")
    model = scripted_model(["I would rather not.", '{"Statement": [{"Effect": "Perhaps"}]}'])
    policy, _, rounds = propose_and_check("Write the policy.", spec, chat_proposer(model), rounds=3)
    assert policy is None
    assert [r.verdict for r in rounds] == ["unparseable", "unparseable", "unparseable"]
    assert "not a valid policy" in model.prompts[1]
    assert len(model.prompts) == 3


def test_repair_with_a_model_gets_the_fault_report_and_proves_the_candidate(
    case: Case, scripted_model: Any
) -> None:
    policy, spec = case("s3_wildcard")
    model = scripted_model([json.dumps(WRONG), json.dumps(RIGHT)])
    result = repair(policy, spec, proposer=chat_proposer(model))
    assert "Fault report" in model.prompts[0] and "Statement[0] (BucketObjects) allows it" in model.prompts[0]
    assert [r["verdict"] for r in result.model_rounds] == ["rejected", "accepted"]
    assert result.status == "repaired" and result.spec_check is not None and result.spec_check.ok
    assert result.source in ("symbolic", "model")


def test_model_candidate_allowing_more_than_needed_is_rejected(case: Case, scripted_model: Any) -> None:
    policy, spec = case("region_condition")
    too_broad = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:TerminateInstances"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
            }
        ],
    }
    model = scripted_model([json.dumps(too_broad)])
    result = repair(policy, spec, proposer=chat_proposer(model), model_rounds=1)
    assert result.model_rounds[0]["verdict"] == "rejected"
    assert any(
        "neither the original policy nor the spec allows" in c
        for c in result.model_rounds[0]["counterexamples"]
    )
    assert result.source == "symbolic" and result.status == "repaired"


def test_synthesis_from_intent_expands_wildcards_and_loops_on_counterexamples(scripted_model: Any) -> None:
    spec = parse_spec(
        {
            "Requests": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/a.png"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secrets/key"},
            ]
        }
    )
    first = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    second = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObjectA*", "Resource": "arn:aws:s3:::media/*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::media/*"},
        ],
    }
    model = scripted_model([json.dumps(first), json.dumps(second)])
    result = synthesize("read the pictures in the media bucket", spec, proposer=chat_proposer(model))
    assert result.status == "synthesized" and result.proven and result.source == "model"
    assert [r.verdict for r in result.model_rounds] == ["rejected", "accepted"]
    assert "arn:aws:s3:::secrets/key" in model.prompts[1]
    assert result.policy is not None
    actions = [a for s in result.policy.statements for a in (s.action or ())]
    assert "s3:GetObjectAcl" in actions and not any("*" in a for a in actions)  # least privilege: expanded


def test_intent_without_spec_is_not_called_proven(scripted_model: Any) -> None:
    model = scripted_model(
        [
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
                }
            )
        ]
    )
    result = synthesize("send messages to our queues", None, proposer=chat_proposer(model))
    assert result.status == "synthesized" and not result.proven
    assert "not proven" in result.unmet[0]
    assert parse_policy(result.to_json()["policy"]).statements[0].action == ("sqs:SendMessage",)
