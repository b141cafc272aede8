"""Parsing policies: normalization, and errors that name the JSON pointer and what was expected."""

from __future__ import annotations

import pytest

from policies import PolicyParseError, parse_policy


def error(doc: object) -> PolicyParseError:
    with pytest.raises(PolicyParseError) as info:
        parse_policy(doc)  # type: ignore[arg-type]
    return info.value


def test_statement_object_or_list_and_strings_or_lists_normalize() -> None:
    one = parse_policy(
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
    )
    many = parse_policy(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}'
    )
    assert one.statements[0].action == many.statements[0].action == ("s3:GetObject",)
    assert one.supports_variables


def test_condition_values_become_strings() -> None:
    p = parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {
                        "Bool": {"aws:SecureTransport": True},
                        "NumericLessThan": {"aws:MultiFactorAuthAge": [3600, 1.5]},
                    },
                }
            ]
        }
    )
    clauses = {c.operator: c.values for c in p.statements[0].condition}
    assert clauses == {"Bool": ("true",), "NumericLessThan": ("3600", "1.5")}


def test_round_trip_to_json() -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "A",
                "Effect": "Deny",
                "Principal": {"AWS": ["1", "2"]},
                "NotAction": "s3:*",
                "NotResource": "arn:aws:s3:::b",
                "Condition": {"StringLike": {"s3:prefix": ["a*", "b"]}},
            }
        ],
    }
    assert parse_policy(doc).to_json() == doc
    assert parse_policy(parse_policy(doc).to_json()) == parse_policy(doc)


def test_malformed_json_names_line_and_column() -> None:
    exc = error('{"Statement": [\n  {"Effect": "Allow",,}]}')
    assert exc.pointer == ""
    assert "line 2" in str(exc) and "malformed JSON" in str(exc)


@pytest.mark.parametrize(
    ("doc", "pointer", "words"),
    [
        ([], "", "policy object"),
        ({"Version": "2012-10-17"}, "", "Statement"),
        ({"Version": "2020-01-01", "Statement": []}, "/Version", "2012-10-17"),
        ({"Statement": 5}, "/Statement", "statement object"),
        ({"Statement": [{"Effect": "Allw", "Action": "*"}]}, "/Statement/0/Effect", "Allow"),
        ({"Statement": [{"Effect": "Allow"}]}, "/Statement/0", "Action or NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": 5}]}, "/Statement/0/Action", "string"),
        ({"Statement": [{"Effect": "Allow", "Action": ["s3:*", 7]}]}, "/Statement/0/Action/1", "string"),
        ({"Statement": [{"Effect": "Allow", "Action": []}]}, "/Statement/0/Action", "empty list"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*"}]},
            "/Statement/0/NotAction",
            "not both",
        ),
        ({"Statement": [{"Effect": "Allow", "action": "*"}]}, "/Statement/0/action", "case-sensitive"),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": ["x"]}]},
            "/Statement/0/Principal",
            "object",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"Users": "x"}}]},
            "/Statement/0/Principal/Users",
            "principal type",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEqualz": {"k": "v"}}}]},
            "/Statement/0/Condition/StringEqualz",
            "unknown condition operator",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": "v"}}]},
            "/Statement/0/Condition/StringEquals",
            "condition key",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"a/b": None}}}]},
            "/Statement/0/Condition/StringEquals/a~1b",
            "string, number or boolean",
        ),
        (
            {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"NullIfExists": {"k": "true"}}}]},
            "/Statement/0/Condition/NullIfExists",
            "unknown condition operator",
        ),
    ],
)
def test_errors_name_the_pointer_and_the_expectation(doc: object, pointer: str, words: str) -> None:
    exc = error(doc)
    assert exc.pointer == pointer
    assert words in str(exc)


def test_operator_names_parse_with_qualifiers_and_suffix() -> None:
    from policies import parse_operator

    op = parse_operator("ForAnyValue:stringnotlikeifexists")
    assert op is not None
    assert (op.qualifier, op.base, op.negated, op.if_exists, op.family) == (
        "ForAnyValue",
        "StringNotLike",
        True,
        True,
        "String",
    )
    assert parse_operator("ForSome:StringLike") is None
    assert (
        parse_operator("NotIpAddress") is not None
        and parse_operator("NotIpAddress").positive_base == "IpAddress"
    )  # type: ignore[union-attr]


def test_source_is_named_in_errors() -> None:
    with pytest.raises(PolicyParseError, match=r"^p\.json: at /Statement"):
        parse_policy('{"Statement": 1}', source="p.json")
