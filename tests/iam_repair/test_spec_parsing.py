"""Specs in every accepted form, and errors that name the place."""

from __future__ import annotations

import pytest

from policies import PolicyParseError
from verifiers.iam.repair import parse_spec


def test_cloudfix_suite_keeps_expected_effects_and_context() -> None:
    spec = parse_spec(
        {
            "Requests": [
                {
                    "id": "a",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/k",
                    "Principal": "111122223333",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.1.2.3"}},
                },
                {"id": "d", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/k"},
            ]
        }
    )
    assert [r.expect for r in spec.requests] == ["Allow", "Deny"]
    assert spec.must_allow[0].request.context == {"aws:SourceIp": "10.1.2.3"}
    assert spec.must_deny[0].pointer == "/Requests/1"


def test_quacky_list_means_must_stay_allowed() -> None:
    spec = parse_spec([{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}])
    assert [r.expect for r in spec.requests] == ["Allow"]


def test_spec_object_with_lists_reference_and_properties() -> None:
    spec = parse_spec(
        {
            "must_allow": [{"Action": "s3:GetObject", "Resource": "*"}],
            "must_deny": [{"Action": "s3:DeleteObject", "Resource": "*"}],
            "reference": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            },
            "properties": ["no_full_admin", {"forbid": {"Action": "iam:PassRole", "Resource": "*"}}],
        }
    )
    assert len(spec.must_allow) == 1 and len(spec.must_deny) == 1
    assert spec.reference is not None
    assert [p.kind for p in spec.properties] == ["no_full_admin", "forbid"]
    assert spec.properties[1].describe() == "never allow iam:PassRole on *"


@pytest.mark.parametrize(
    ("doc", "pointer", "words"),
    [
        ({"must_allow": [{"Resource": "*"}]}, "/must_allow/0", "action"),
        ({"properties": ["no_such_thing"]}, "/properties/0", "unknown property"),
        ({"Requestz": []}, "/Requestz", "unknown spec element"),
        (
            {"must_deny": [{"Action": "s3:GetObject", "Effect": "Allow"}]},
            "/must_deny/0",
            "cannot have Effect",
        ),
        (
            {"reference": {"Statement": [{"Effect": "Maybe", "Action": "*"}]}},
            "/reference/Statement/0/Effect",
            "Effect",
        ),
    ],
)
def test_bad_specs_name_the_json_pointer(doc: object, pointer: str, words: str) -> None:
    with pytest.raises(PolicyParseError) as err:
        parse_spec(doc, source="spec.json")
    assert err.value.pointer == pointer
    assert words in str(err.value)
    assert "spec.json" in str(err.value)
