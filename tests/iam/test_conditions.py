"""Condition operators, one family at a time. Each test names the AWS rule it checks (IAM User Guide,
"IAM JSON policy elements: Condition operators" unless noted). Every decision is made by both engines."""

from __future__ import annotations

import pytest

from tests.iam.builders import allowed, ctx_req, when

# --- String ---------------------------------------------------------------------------------------


def test_string_equals_is_exact_and_case_sensitive() -> None:
    # "StringEquals: Exact matching, case sensitive"
    p = when("StringEquals", "aws:username", "bob")
    assert allowed(p, ctx_req({"aws:username": "bob"}))
    assert not allowed(p, ctx_req({"aws:username": "Bob"}))
    assert not allowed(p, ctx_req({"aws:username": "bob*"}))


def test_string_equals_ignore_case() -> None:
    # "StringEqualsIgnoreCase: Exact matching, ignoring case"
    p = when("StringEqualsIgnoreCase", "aws:username", "BoB")
    assert allowed(p, ctx_req({"aws:username": "bob"}))
    assert not allowed(p, ctx_req({"aws:username": "bobby"}))


def test_string_like_wildcards() -> None:
    # "StringLike: Case-sensitive matching. The values can include multi-character match wildcards (*) and
    # single-character match wildcards (?)"
    p = when("StringLike", "s3:prefix", "home/?/*")
    assert allowed(p, ctx_req({"s3:prefix": "home/a/x/y"}))
    assert not allowed(p, ctx_req({"s3:prefix": "home/ab/x"}))
    assert not allowed(p, ctx_req({"s3:prefix": "Home/a/x"}))


def test_string_equals_treats_wildcards_literally() -> None:
    p = when("StringEquals", "s3:prefix", "home/*")
    assert allowed(p, ctx_req({"s3:prefix": "home/*"}))
    assert not allowed(p, ctx_req({"s3:prefix": "home/x"}))


def test_several_values_are_ored() -> None:
    # "If a single condition operator includes multiple values for a context key, those values are
    # evaluated using a logical OR" (Creating a condition with multiple keys or values)
    p = when("StringEquals", "aws:username", ["alice", "bob"])
    assert allowed(p, ctx_req({"aws:username": "alice"}))
    assert allowed(p, ctx_req({"aws:username": "bob"}))
    assert not allowed(p, ctx_req({"aws:username": "eve"}))


def test_negated_operator_with_several_values_is_a_nor() -> None:
    # "a negated matching condition operator ... the values are evaluated using a logical NOR"
    p = when("StringNotEquals", "aws:username", ["alice", "bob"])
    assert not allowed(p, ctx_req({"aws:username": "alice"}))
    assert not allowed(p, ctx_req({"aws:username": "bob"}))
    assert allowed(p, ctx_req({"aws:username": "eve"}))


def test_missing_key_makes_positive_false_and_negated_true() -> None:
    # "If the key that you specify in a policy condition is not present in the request context, the values
    # do not match and the condition is false"; negated operators such as StringNotEquals return true.
    assert not allowed(when("StringEquals", "aws:username", "bob"), ctx_req({}))
    assert allowed(when("StringNotEquals", "aws:username", "bob"), ctx_req({}))
    assert allowed(when("StringNotLike", "s3:prefix", "x*"), ctx_req({}))


def test_if_exists_is_true_on_a_missing_key() -> None:
    # "...IfExists: If the policy key is present in the context of the request, process the key as specified
    # in the policy. If the key is not present, evaluate the condition element as true."
    p = when("StringEqualsIfExists", "aws:username", "bob")
    assert allowed(p, ctx_req({}))
    assert allowed(p, ctx_req({"aws:username": "bob"}))
    assert not allowed(p, ctx_req({"aws:username": "eve"}))


def test_condition_key_names_are_case_insensitive() -> None:
    # "Condition key names are not case-sensitive" (Condition element)
    p = when("StringEquals", "AWS:UserName", "bob")
    assert allowed(p, ctx_req({"aws:username": "bob"}))


# --- Numeric and Date ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "hits"),
    [
        ("NumericEquals", "10", {"10", "10.0"}),
        ("NumericNotEquals", "10", {"9", "9.99", "10.01", "11", "11.5"}),
        ("NumericLessThan", "10", {"9", "9.99"}),
        ("NumericLessThanEquals", "10", {"9", "9.99", "10", "10.0"}),
        ("NumericGreaterThan", "10", {"10.01", "11", "11.5"}),
        ("NumericGreaterThanEquals", "10", {"10", "10.0", "10.01", "11", "11.5"}),
    ],
)
def test_numeric_operators(op: str, value: str, hits: set[str]) -> None:
    # "Numeric condition operators let you construct Condition elements that restrict access based on
    # comparing a key to an integer or decimal value."
    p = when(op, "aws:MultiFactorAuthAge", value)
    for candidate in ("9", "9.99", "10", "10.0", "10.01", "11", "11.5"):
        assert allowed(p, ctx_req({"aws:MultiFactorAuthAge": candidate})) == (candidate in hits), candidate


def test_numeric_operator_on_a_non_number_is_false_even_negated() -> None:
    assert not allowed(
        when("NumericLessThan", "aws:MultiFactorAuthAge", "10"), ctx_req({"aws:MultiFactorAuthAge": "abc"})
    )
    assert not allowed(
        when("NumericNotEquals", "aws:MultiFactorAuthAge", "10"), ctx_req({"aws:MultiFactorAuthAge": "abc"})
    )


def test_date_operators_accept_iso_dates_and_epoch_seconds() -> None:
    # "Date condition operators ... support ISO 8601 date formats and epoch (UNIX) time"
    p = when("DateGreaterThan", "aws:CurrentTime", "2024-01-01T00:00:00Z")
    assert allowed(p, ctx_req({"aws:CurrentTime": "2024-06-01T00:00:00Z"}))
    assert allowed(p, ctx_req({"aws:CurrentTime": "1800000000"}))
    assert not allowed(p, ctx_req({"aws:CurrentTime": "2023-12-31T23:59:59Z"}))
    assert not allowed(p, ctx_req({"aws:CurrentTime": "not a date"}))
    q = when("DateLessThanEquals", "aws:CurrentTime", "1704067200")  # 2024-01-01T00:00:00Z
    assert allowed(q, ctx_req({"aws:CurrentTime": "2024-01-01T00:00:00Z"}))
    assert not allowed(q, ctx_req({"aws:CurrentTime": "2024-01-01T00:00:01Z"}))


# --- Bool, Binary ---------------------------------------------------------------------------------


def test_bool_compares_true_false_without_case() -> None:
    # "Boolean conditions let you construct Condition elements that restrict access based on comparing a
    # key to true or false."
    p = when("Bool", "aws:SecureTransport", "true")
    assert allowed(p, ctx_req({"aws:SecureTransport": "true"}))
    assert allowed(p, ctx_req({"aws:SecureTransport": "TRUE"}))
    assert not allowed(p, ctx_req({"aws:SecureTransport": "false"}))
    assert not allowed(p, ctx_req({"aws:SecureTransport": "yes"}))


def test_bool_if_exists_denies_without_mfa() -> None:
    # The documented MFA pattern: Deny with BoolIfExists aws:MultiFactorAuthPresent false.
    from tests.iam.builders import policy

    p = policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": False}},
        },
    )
    assert not allowed(p, ctx_req({}))
    assert not allowed(p, ctx_req({"aws:MultiFactorAuthPresent": "false"}))
    assert allowed(p, ctx_req({"aws:MultiFactorAuthPresent": "true"}))


def test_binary_equals_compares_the_base64_text() -> None:
    p = when("BinaryEquals", "s3:x-amz-content-sha256", "QmluYXJ5")
    assert allowed(p, ctx_req({"s3:x-amz-content-sha256": "QmluYXJ5"}))
    assert not allowed(p, ctx_req({"s3:x-amz-content-sha256": "qmluyxj5"}))


# --- IP addresses ------------------------------------------------------------------------------------


def test_ip_address_ipv4_cidr() -> None:
    # "IpAddress: The specified IP address or range" in CIDR format
    p = when("IpAddress", "aws:SourceIp", "203.0.113.0/24")
    assert allowed(p, ctx_req({"aws:SourceIp": "203.0.113.7"}))
    assert not allowed(p, ctx_req({"aws:SourceIp": "203.0.114.7"}))
    assert not allowed(p, ctx_req({"aws:SourceIp": "not-an-ip"}))


def test_ip_address_ipv6_cidr_and_family_mismatch() -> None:
    p = when("IpAddress", "aws:SourceIp", ["2001:db8::/32", "10.0.0.1"])
    assert allowed(p, ctx_req({"aws:SourceIp": "2001:db8:1::5"}))
    assert allowed(p, ctx_req({"aws:SourceIp": "10.0.0.1"}))
    assert not allowed(p, ctx_req({"aws:SourceIp": "10.0.0.2"}))
    assert not allowed(p, ctx_req({"aws:SourceIp": "2001:db9::1"}))


def test_not_ip_address_is_a_nor_and_true_on_missing_key() -> None:
    p = when("NotIpAddress", "aws:SourceIp", ["192.0.2.0/24", "203.0.113.0/24"])
    assert allowed(p, ctx_req({"aws:SourceIp": "198.51.100.1"}))
    assert not allowed(p, ctx_req({"aws:SourceIp": "192.0.2.1"}))
    assert not allowed(p, ctx_req({"aws:SourceIp": "203.0.113.1"}))
    assert allowed(p, ctx_req({}))


# --- ARN -----------------------------------------------------------------------------------------


def test_arn_like_matches_segment_by_segment() -> None:
    # "ArnLike: Case-sensitive matching of the ARN. Each of the six colon-delimited components of the ARN
    # is checked separately and each can include multi-character match wildcards (*) or single-character
    # match wildcards (?)."
    p = when("ArnLike", "aws:SourceArn", "arn:aws:sns:*:123456789012:topic-*")
    assert allowed(p, ctx_req({"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:topic-a"}))
    assert not allowed(p, ctx_req({"aws:SourceArn": "arn:aws:sns:us-east-1:x:123456789012:topic-a"}))
    assert not allowed(p, ctx_req({"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:Topic-a"}))


def test_arn_equals_behaves_like_arn_like() -> None:
    p = when("ArnEquals", "aws:SourceArn", "arn:aws:sns:*:123456789012:t")
    assert allowed(p, ctx_req({"aws:SourceArn": "arn:aws:sns:eu-west-1:123456789012:t"}))


def test_arn_operators_need_an_arn_even_negated() -> None:
    assert not allowed(
        when("ArnNotLike", "aws:SourceArn", "arn:aws:sns:*:*:t"), ctx_req({"aws:SourceArn": "not-an-arn"})
    )
    assert allowed(
        when("ArnNotLike", "aws:SourceArn", "arn:aws:sns:*:*:t"),
        ctx_req({"aws:SourceArn": "arn:aws:sns:r:1:u"}),
    )


# --- Null ----------------------------------------------------------------------------------------


def test_null_checks_presence() -> None:
    # "Null: Use a Null condition operator to check if a condition key is absent at the time of
    # authorization. In the policy statement, use either true (the key doesn't exist) or false (the key
    # exists and its value is not null)."
    absent = when("Null", "aws:SourceIp", "true")
    present = when("Null", "aws:SourceIp", "false")
    assert allowed(absent, ctx_req({})) and not allowed(absent, ctx_req({"aws:SourceIp": "10.0.0.1"}))
    assert allowed(present, ctx_req({"aws:SourceIp": "10.0.0.1"})) and not allowed(present, ctx_req({}))


# --- Set operators -------------------------------------------------------------------------------


def test_for_all_values_is_true_on_absent_or_empty_key() -> None:
    # "ForAllValues: ... also returns true if there are no context keys in the request or if the context
    # key value resolves to a null dataset, such as an empty string" (Set operators for multivalued keys)
    p = when("ForAllValues:StringEquals", "aws:TagKeys", ["team", "env"])
    assert allowed(p, ctx_req({}))
    assert allowed(p, ctx_req({"aws:TagKeys": []}))
    assert allowed(p, ctx_req({"aws:TagKeys": ["team", "env"]}))
    assert not allowed(p, ctx_req({"aws:TagKeys": ["team", "admin"]}))


def test_for_any_value_needs_one_matching_value() -> None:
    # "ForAnyValue: ... at least one of the values in the request must match ... returns false if there
    # are no context keys in the request"
    p = when("ForAnyValue:StringLike", "aws:TagKeys", "env*")
    assert allowed(p, ctx_req({"aws:TagKeys": ["team", "env-prod"]}))
    assert not allowed(p, ctx_req({"aws:TagKeys": ["team"]}))
    assert not allowed(p, ctx_req({"aws:TagKeys": []}))
    assert not allowed(p, ctx_req({}))


def test_set_operator_with_negated_base_applies_per_value() -> None:
    p = when("ForAnyValue:StringNotEquals", "aws:TagKeys", "team")
    assert allowed(p, ctx_req({"aws:TagKeys": ["team", "env"]}))
    assert not allowed(p, ctx_req({"aws:TagKeys": ["team"]}))
    q = when("ForAllValues:StringNotLike", "aws:TagKeys", "adm*")
    assert allowed(q, ctx_req({"aws:TagKeys": ["team", "env"]}))
    assert not allowed(q, ctx_req({"aws:TagKeys": ["team", "admin"]}))


def test_unqualified_operator_on_a_multivalued_value_is_false() -> None:
    # A multivalued key needs a set operator; without one the condition does not match (iam-simulate,
    # confirmed by AWS at re:Inforce 2025 IAM431).
    assert not allowed(when("StringEquals", "aws:TagKeys", "team"), ctx_req({"aws:TagKeys": ["team"]}))
    assert not allowed(when("StringNotEquals", "aws:TagKeys", "x"), ctx_req({"aws:TagKeys": ["team"]}))


def test_set_operator_on_a_single_value_treats_it_as_a_set_of_one() -> None:
    p = when("ForAllValues:StringLike", "s3:prefix", "home/*")
    assert allowed(p, ctx_req({"s3:prefix": "home/x"}))
    assert not allowed(p, ctx_req({"s3:prefix": "etc/x"}))
