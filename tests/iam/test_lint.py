"""`lint` as IAM Access Analyzer validates: one test per family of checks, each finding located by JSON
pointer and by line and column, with its severity and code (verifiers/iam/lint/codes.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from opsgraph.cli_iam import app
from policies.locate import locate
from verifiers.iam.lint import CODES, Finding, lint_text, to_sarif

RUNNER = CliRunner()


def run(*statements: dict[str, Any], version: str | None = "2012-10-17", kind: Any = None) -> list[Finding]:
    doc: dict[str, Any] = {"Statement": list(statements)}
    if version:
        doc = {"Version": version, **doc}
    return lint_text(json.dumps(doc, indent=2), path="p.json", kind=kind)


def codes(findings: list[Finding]) -> dict[str, str]:
    return {f.code: f.pointer for f in findings}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_every_finding_is_a_listed_code_with_its_severity_and_a_location() -> None:
    findings = run(
        allow(["s3:GetObjekt", "iam:PassRole"]),
        allow("s3:ListBucket", "arn:aws:s3:::b/*", Sid="A"),
        allow("s3:GetObject", "arn:aws:s3:us-east-1:123456789012:b/k", Sid="A"),
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"NumericLessThan": {"aws:EpochTime": "soon"}},
        },
    )
    assert findings
    for f in findings:
        assert f.code in CODES and CODES[f.code][0] == f.severity, f
        assert f.location is not None and f.path == "p.json"
    text = json.dumps(
        {"Version": "2012-10-17", "Statement": [allow(["s3:GetObjekt", "iam:PassRole"])]}, indent=2
    )
    (bad,) = [f for f in lint_text(text) if f.code == "INVALID_ACTION"]
    span = locate(text)["/Statement/0/Action/0"]
    assert bad.location is not None and (bad.location.line, bad.location.column) == (span.line, span.column)
    assert text[span.offset : span.offset + span.length] == '"s3:GetObjekt"'


def test_a_policy_that_does_not_parse_is_one_located_error() -> None:
    (syntax,) = lint_text('{"Version": "2012-10-17", "Statement": [}', path="x.json")
    assert (syntax.severity, syntax.code) == ("error", "JSON_SYNTAX_ERROR")
    assert syntax.location is not None and syntax.location.line == 1
    (element,) = lint_text('{"Statement": [{"Effect": "Allow", "Actions": "*"}]}')
    assert (element.code, element.pointer) == ("INVALID_POLICY_ELEMENT", "/Statement/0/Actions")
    assert element.location is not None and element.location.column == 36


def test_arn_shapes_per_service() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html and the
    Service Authorization Reference's ARN formats: S3 ARNs have no region and no account, IAM ARNs no
    region; accounts are 12 digits; the service part takes no wildcard; regions are real region names."""
    found = codes(
        run(
            allow("s3:GetObject", ["arn:aws:s3:us-east-1::b/k", "arn:aws:s3::123456789012:b/k"]),
            allow(
                "iam:GetUser", ["arn:aws:iam::12345:user/bob", "arn:aws:iam:us-east-1:123456789012:user/bob"]
            ),
            allow(
                "ec2:StartInstances",
                ["arn:aws:ec2:ap-southeast-1b:123456789012:instance/i-1", "arn:aws:ec*:*:*:*"],
            ),
            allow(
                "s3:GetObject", ["s3://bucket/key", "arn:aws", "arn:aws-mars:s3:::b/k", "arn:aws:S3:::b/k"]
            ),
            allow(
                "sqs:SendMessage", ["arn:aws:sqs:us-east-1:123456789012:q", "arn:aws:nosuch:us-east-1:1:x"]
            ),
        )
    )
    assert codes_at(found, "ARN_REGION_NOT_ALLOWED", "ARN_ACCOUNT_NOT_ALLOWED", "INVALID_ARN_ACCOUNT")
    assert found["INVALID_ARN_REGION"] == "/Statement/2/Resource/0"
    assert found["WILDCARD_IN_ARN_SERVICE"] == "/Statement/2/Resource/1"
    assert found["INVALID_ARN_PREFIX"] == "/Statement/3/Resource/0"
    assert found["MISSING_ARN_FIELD"] == "/Statement/3/Resource/1"
    assert found["INVALID_PARTITION"] == "/Statement/3/Resource/2"
    assert found["INVALID_ARN_SERVICE_CASE"] == "/Statement/3/Resource/3"
    assert found["INVALID_SERVICE"] == "/Statement/4/Resource/1"
    clean = run(
        allow("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q"),
        allow("s3:GetObject", "arn:aws:s3:::b/*"),
    )
    assert not [f for f in clean if f.severity == "error"]


def codes_at(found: dict[str, str], *names: str) -> bool:
    return all(name in found for name in names)


def test_a_wildcard_in_the_resource_type_word() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html ("Incorrect wildcard usage"):
    the resource-type part of an ARN (IAM's `user`, `role` ...) cannot hold a wildcard."""
    found = codes(
        run(allow("iam:GetUser", ["arn:aws:iam::123456789012:u*/bob", "arn:aws:iam::123456789012:*"]))
    )
    assert found["WILDCARD_IN_RESOURCE_TYPE"] == "/Statement/0/Resource/0"
    assert (
        len(
            [
                f
                for f in run(allow("iam:GetUser", "arn:aws:iam::123456789012:user/*"))
                if f.severity == "error"
            ]
        )
        == 0
    )


def test_actions_paired_with_resources_they_cannot_act_on() -> None:
    """Service Authorization Reference: each action lists the resource types it acts on; an action
    without resource-level permissions needs `"Resource": "*"`."""
    found = run(
        allow("s3:ListBucket", "arn:aws:s3:::b/*"),
        allow("ec2:DescribeInstances", "arn:aws:ec2:us-east-1:123456789012:instance/i-1"),
        allow("s3:Get*", "arn:aws:sqs:us-east-1:123456789012:q"),
        allow(["s3:ListBucket", "s3:GetObject"], ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]),
    )
    mismatched = {f.pointer for f in found if f.code == "UNSUPPORTED_RESOURCE_FOR_ACTION"}
    assert mismatched == {"/Statement/0/Action", "/Statement/1/Action", "/Statement/2/Action"}
    assert any("must be" in f.message for f in found if f.pointer == "/Statement/1/Action")


def test_condition_keys_values_and_operators() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html ("Policy
    variables ... only with string and ARN operators"); multivalued keys need a set operator
    (reference_policies_condition-single-vs-multi-valued-context-keys.html)."""

    def one(
        op: str, key: str, value: Any, action: Any = "s3:GetObject", effect: str = "Allow"
    ) -> dict[str, str]:
        st = {"Effect": effect, "Action": action, "Resource": "*", "Condition": {op: {key: value}}}
        return codes(run(st))

    assert "INVALID_GLOBAL_CONDITION_KEY" in one("StringEquals", "aws:Nonsense", "x")
    assert "INVALID_SERVICE_CONDITION_KEY" in one("StringEquals", "s3:nonsense", "x")
    assert "UNSUPPORTED_CONDITION_KEY_FOR_ACTIONS" in one("StringLike", "s3:prefix", "home/*")
    assert "UNSUPPORTED_CONDITION_KEY_FOR_ACTIONS" not in one(
        "StringLike", "s3:prefix", "home/*", "s3:ListBucket"
    )
    assert "INVALID_VARIABLE_FOR_OPERATOR" in one(
        "DateGreaterThan", "aws:CurrentTime", "${aws:TokenIssueTime}"
    )
    assert "INVALID_VARIABLE_FOR_OPERATOR" not in one(
        "StringEquals", "s3:prefix", "${aws:username}", "s3:ListBucket"
    )
    assert "INVALID_CONDITION_DATA_TYPE" in one("IpAddress", "aws:SourceIp", "10.0.0.300/8")
    assert "MISSING_QUALIFIER" in one("StringEquals", "aws:TagKeys", "team")
    assert "FORALLVALUES_WITH_SINGLE_VALUED_KEY" in one("ForAllValues:StringEquals", "aws:username", "bob")
    assert "ALLOW_FORALLVALUES_WITHOUT_NULL" in one("ForAllValues:StringEquals", "aws:TagKeys", "team")
    assert "WILDCARD_WITHOUT_LIKE_OPERATOR" in one("StringEquals", "aws:username", "bob*")
    assert "TYPE_MISMATCH" in one("StringEquals", "aws:SourceIp", "10.0.0.1")
    assert "DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE" in one(
        "StringEquals", "aws:ResourceTag/team", "red", "sts:GetCallerIdentity", "Deny"
    )


def test_variables_need_version_2012_10_17() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html: without
    `"Version": "2012-10-17"` variables are literal text."""
    found = codes(run(allow("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*"), version=None))
    assert found["VARIABLE_UNSUPPORTED_IN_VERSION"] == "/Statement/0" and "MISSING_VERSION" in found


def test_principals_by_policy_type() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html: no
    Principal in identity policies; resource policies need one; no wildcards inside principal ARNs."""
    with_principal = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:user/*"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b/*",
    }
    assert "UNSUPPORTED_PRINCIPAL" in codes(run(with_principal, kind="identity"))
    assert "UNSUPPORTED_WILDCARD_IN_PRINCIPAL" in codes(run(with_principal))
    assert "MISSING_PRINCIPAL" in codes(run(allow("s3:GetObject", "arn:aws:s3:::b/*"), kind="resource"))
    not_principal = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": "123456789012"},
        "Action": "s3:GetObject",
        "Resource": "*",
    }
    assert "ALLOW_WITH_NOT_PRINCIPAL" in codes(run(not_principal))
    assert "INVALID_SERVICE_PRINCIPAL_FORMAT" in codes(
        run({**with_principal, "Principal": {"Service": "lambda"}})
    )


def test_risky_grants_sids_and_redundancy() -> None:
    """Access Analyzer's PASS_ROLE_WITH_STAR_IN_RESOURCE; Sids unique and alphanumeric in IAM policies
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html)."""
    found = run(
        allow("iam:PassRole", "*", Sid="Pass"),
        allow("*", "*", Sid="Pass"),
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*", "Sid": "not-alnum"},
        allow(["s3:GetObject", "s3:Get*"], "arn:aws:s3:::b/*"),
        allow("s3:GetObject", "arn:aws:s3:::b/k"),
    )
    by_code = codes(found)
    assert by_code["PASS_ROLE_WITH_STAR_IN_RESOURCE"] == "/Statement/0/Resource"
    assert by_code["PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE"] == "/Statement/1/Resource"
    assert by_code["FULL_ADMIN"] == "/Statement/1"
    assert by_code["UNIQUE_SIDS_REQUIRED"] == "/Statement/1/Sid"
    assert by_code["UNSUPPORTED_SID"] == "/Statement/2/Sid"
    assert by_code["ALLOW_WITH_NOT_ACTION"] == "/Statement/2/NotAction"
    assert by_code["REDUNDANT_ACTION"] == "/Statement/3/Action/0"
    redundant = {f.pointer for f in found if f.code == "REDUNDANT_STATEMENT"}
    assert "/Statement/4" in redundant and "/Statement/0" in redundant  # both covered by Statement[1]


def test_cli_exit_codes_json_and_sarif(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [allow("s3:GetObject", "arn:aws:s3:::b/*")]})
    )
    risky = tmp_path / "risky.json"
    risky.write_text(json.dumps({"Version": "2012-10-17", "Statement": [allow("iam:PassRole")]}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"Version": "2012-10-17", "Statement": [')
    assert RUNNER.invoke(app, ["lint", str(good)]).exit_code == 0
    assert (
        RUNNER.invoke(app, ["lint", str(risky)]).exit_code == 0
    )  # a security warning: below --fail-on error
    assert RUNNER.invoke(app, ["lint", str(risky), "--fail-on", "security_warning"]).exit_code == 1
    out = RUNNER.invoke(app, ["lint", str(good), str(broken), "--json"])
    assert out.exit_code == 1
    (finding,) = json.loads(out.output)["findings"]
    assert finding["code"] == "JSON_SYNTAX_ERROR" and finding["path"] == str(broken)
    assert RUNNER.invoke(app, ["lint", str(tmp_path / "absent.json")]).exit_code == 2
    sarif = json.loads(RUNNER.invoke(app, ["lint", str(risky), "--sarif"]).output)
    (result,) = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0" and result["ruleId"] == "PASS_ROLE_WITH_STAR_IN_RESOURCE"
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 1 and region["startColumn"] > 1
    assert to_sarif([])["runs"][0]["results"] == []
