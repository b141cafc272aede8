"""Request files: one request, a list, a CloudFix suite, JSON Lines; errors name the place."""

from __future__ import annotations

import json

import pytest

from policies import PolicyParseError, Request, parse_requests


def test_single_request_with_context() -> None:
    (r,) = parse_requests(
        json.dumps(
            {
                "action": "s3:GetObject",
                "resource": "arn:aws:s3:::b/k",
                "context": {
                    "aws:SourceIp": "10.0.0.1",
                    "aws:TagKeys": ["a", "b"],
                    "aws:MultiFactorAuthAge": 30,
                },
            }
        )
    )
    assert r.context == {
        "aws:SourceIp": "10.0.0.1",
        "aws:TagKeys": ["a", "b"],
        "aws:MultiFactorAuthAge": "30",
    }
    assert r.context_value("AWS:SOURCEIP") == "10.0.0.1"


def test_cloudfix_suite_condition_block_carries_context_and_extra_fields_are_ignored() -> None:
    # Written in CloudFix's request-suite format (our own values; nothing copied from that dataset).
    suite = {
        "Requests": [
            {
                "id": "a1",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/k",
                "Principal": "arn:aws:iam::123456789012:user/u",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.1.2.3"}},
                "Note": "ignored",
            },
            {
                "id": "d1",
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "Resource": "arn:aws:s3:::b/k",
                "Principal": "ssm.amazonaws.com",
            },
        ]
    }
    first, second = parse_requests(json.dumps(suite))
    assert (first.id, first.expected, first.context) == ("a1", "Allow", {"aws:SourceIp": "10.1.2.3"})
    assert (second.expected, second.principal) == ("Deny", "ssm.amazonaws.com")


def test_a_condition_block_of_context_keys_is_the_request_s_context() -> None:
    """Qwen2.5-Coder-1.5B writes the context of a check as `"Condition": {key: value}`; it was an error
    sent back to the model, which then spent 50-130 s on other calls and an answer (BENCHMARKS.md)."""
    flat = {
        "Action": "ec2:StopInstances",
        "Condition": {"aws:SourceIp": "203.0.113.25", "aws:MultiFactorAuthPresent": True},
    }
    (request,) = parse_requests(json.dumps(flat))
    assert request.context == {"aws:SourceIp": "203.0.113.25", "aws:MultiFactorAuthPresent": "true"}
    mixed = {
        "Action": "s3:GetObject",
        "Condition": {"IpAddress": {"aws:SourceIp": "10.1.2.3"}, "aws:SecureTransport": False},
    }
    (request,) = parse_requests(json.dumps(mixed))
    assert request.context == {"aws:SourceIp": "10.1.2.3", "aws:SecureTransport": "false"}
    with pytest.raises(PolicyParseError, match="/Condition/aws:SourceIp"):
        parse_requests(json.dumps({"Action": "s3:GetObject", "Condition": {"aws:SourceIp": {"a": {"b": 1}}}}))


def test_json_lines_and_lists() -> None:
    lines = "\n".join(json.dumps({"action": a}) for a in ("s3:GetObject", "s3:PutObject"))
    assert [r.action for r in parse_requests(lines)] == ["s3:GetObject", "s3:PutObject"]
    assert [r.action for r in parse_requests(json.dumps([{"Action": "ec2:RunInstances"}]))] == [
        "ec2:RunInstances"
    ]
    assert parse_requests('{"action": "x:y"}') == [Request(action="x:y")]


def test_request_errors_name_the_place() -> None:
    with pytest.raises(PolicyParseError) as info:
        parse_requests(json.dumps({"Requests": [{"Action": "s3:GetObject"}, {"Resource": "x"}]}))
    assert info.value.pointer == "/Requests/1"
    with pytest.raises(PolicyParseError) as bad_line:
        parse_requests('{"action": "a:b"}\n{"action": 5}')
    assert bad_line.value.pointer.startswith("line 2")
