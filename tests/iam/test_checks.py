"""The custom policy checks (IAM Access Analyzer's CheckNoNewAccess, CheckAccessNotGranted,
CheckNoPublicAccess), proven: PASS is a proof, FAIL comes with a counterexample the concrete evaluator
confirms and the statements that grant it, UNKNOWN with the reason. Through Python, the CLI (exit codes
for a CI gate), the SDK, HTTP and the offline model's vocabulary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.runtime import Runtime
from opsgraph import Assistant
from opsgraph.cli_iam import app
from opsgraph.client import ApiError, Client
from opsgraph.settings import Settings
from policies import parse_policy
from server.app import create_app
from tests.server.conftest import TOKENS
from tests.server.live import live_server
from tools.base import ToolContext
from verifiers.iam.checks import check_access_not_granted, check_no_new_access, check_no_public_access
from verifiers.iam.evaluate import policy_decision

V = "2012-10-17"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": V, "Statement": list(statements)}


READ = doc({"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
WIDER = doc(
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
    {"Sid": "Tags", "Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": "arn:aws:s3:::b/*"},
)
PUBLIC = doc(
    {
        "Sid": "Site",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::site/*",
    }
)


def grants(policy: dict[str, Any], request: Any) -> bool:
    allow, deny, _ = policy_decision(parse_policy(policy), request)
    return allow and not deny


def test_no_new_access() -> None:
    failed = check_no_new_access(parse_policy(WIDER), parse_policy(READ))
    assert failed.result == "FAIL" and failed.counterexample is not None
    assert failed.counterexample.action == "s3:PutObjectTagging"
    assert grants(WIDER, failed.counterexample) and not grants(READ, failed.counterexample)
    assert [(m.statement, m.sid) for m in failed.statements] == [(1, "Tags")]
    assert check_no_new_access(parse_policy(READ), parse_policy(WIDER)).result == "PASS"
    # a condition added to the new policy only narrows it
    narrower = doc({**READ["Statement"][0], "Condition": {"Bool": {"aws:SecureTransport": "true"}}})
    assert check_no_new_access(parse_policy(narrower), parse_policy(READ)).passed
    # resource policies: a new principal is new access
    other = doc({**PUBLIC["Statement"][0], "Principal": {"AWS": "111122223333"}})
    assert check_no_new_access(parse_policy(PUBLIC), parse_policy(other)).result == "FAIL"
    assert check_no_new_access(parse_policy(other), parse_policy(PUBLIC)).passed


def test_access_not_granted() -> None:
    p = parse_policy(WIDER)
    assert check_access_not_granted(p, actions=["s3:DeleteObject", "iam:*"]).passed
    tagged = check_access_not_granted(p, actions=["s3:PutObject*"])
    assert tagged.result == "FAIL" and tagged.counterexample is not None
    assert tagged.counterexample.action == "s3:PutObjectTagging" and tagged.statements[0].sid == "Tags"
    assert check_access_not_granted(p, resources=["arn:aws:s3:::other/*"]).passed
    on = check_access_not_granted(p, actions=["s3:GetObject"], resources=["arn:aws:s3:::b/secret.txt"])
    assert on.result == "FAIL" and on.counterexample is not None
    assert on.counterexample.resource == "arn:aws:s3:::b/secret.txt"
    with pytest.raises(ValueError):
        check_access_not_granted(p)


def test_no_public_access() -> None:
    """Public as S3 and Access Analyzer define it: anyone (anonymous, or any account) may call, unless a
    condition restricts the caller to named accounts, organizations, VPCs, sources or narrow IP ranges."""

    def check(policy: dict[str, Any], kind: str = "AWS::S3::Bucket") -> Any:
        return check_no_public_access(parse_policy(policy), resource_type=kind)

    site = check(PUBLIC)
    assert site.result == "FAIL" and site.counterexample is not None
    assert site.counterexample.principal in (None, "arn:aws:iam::999988887770:user/outsider")
    assert [m.sid for m in site.statements] == ["Site"]
    stmt = PUBLIC["Statement"][0]
    for condition in (
        {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
        {"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
        {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    ):
        assert check(doc({**stmt, "Condition": condition})).passed, condition
    for condition in (
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"Bool": {"aws:SecureTransport": "true"}},
        {"StringLike": {"aws:Referer": "https://example.com/*"}},
    ):
        assert check(doc({**stmt, "Condition": condition})).result == "FAIL", condition
    assert check(doc({**stmt, "Principal": {"AWS": "111122223333"}})).passed
    trust = doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Resource": "*"})
    assert check(trust, "AWS::IAM::AssumeRolePolicyDocument").result == "FAIL"
    assert check(PUBLIC, "AWS::KMS::Key").passed  # only kms actions count for a key
    with pytest.raises(ValueError):
        check(READ)


def test_a_budget_that_runs_out_is_unknown_never_a_verdict() -> None:
    big = doc(
        *[
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b{i}/*"}
            for i in range(400)
        ]
    )
    result = check_no_new_access(parse_policy(big), parse_policy(READ), timeout_ms=1)
    assert result.result == "UNKNOWN" and "timed out" in result.reason and result.counterexample is None


def test_cli_exit_codes_gate_ci(tmp_path: Path) -> None:
    for name, policy in (("read.json", READ), ("wider.json", WIDER), ("public.json", PUBLIC)):
        (tmp_path / name).write_text(json.dumps(policy))
    run = CliRunner().invoke
    passed = run(
        app, ["check-no-new-access", str(tmp_path / "read.json"), "--existing", str(tmp_path / "wider.json")]
    )
    assert passed.exit_code == 0 and passed.output.startswith("PASS: ")
    failed = run(
        app, ["check-no-new-access", str(tmp_path / "wider.json"), "--existing", str(tmp_path / "read.json")]
    )
    assert (
        failed.exit_code == 1 and "counterexample" in failed.output and "Statement[1] (Tags)" in failed.output
    )
    out = run(
        app,
        [
            "check-access-not-granted",
            str(tmp_path / "wider.json"),
            "--action",
            "s3:PutObjectTagging",
            "--json",
        ],
    )
    assert out.exit_code == 1 and json.loads(out.output)["statements"][0]["pointer"] == "/Statement/1"
    public = run(
        app, ["check-no-public-access", str(tmp_path / "public.json"), "--resource-type", "AWS::S3::Bucket"]
    )
    assert public.exit_code == 1 and public.output.startswith("FAIL: ")
    assert (
        run(
            app, ["check-no-public-access", str(tmp_path / "public.json"), "--resource-type", "AWS::Nope"]
        ).exit_code
        == 2
    )
    assert run(app, ["check-access-not-granted", str(tmp_path / "read.json")]).exit_code == 2
    unknown = run(
        app,
        [
            "check-no-new-access",
            str(tmp_path / "wider.json"),
            "--existing",
            str(tmp_path / "read.json"),
            "--timeout-ms",
            "1",
        ],
    )
    assert unknown.exit_code in (1, 3)  # decided in a millisecond, or UNKNOWN: never PASS
    assert (
        run(
            app,
            ["check-no-new-access", str(tmp_path / "absent.json"), "--existing", str(tmp_path / "read.json")],
        ).exit_code
        == 2
    )


def test_sdk_calls_and_the_offline_vocabulary(tmp_path: Path) -> None:
    for name, policy in (("read.json", READ), ("wider.json", WIDER), ("public.json", PUBLIC)):
        (tmp_path / name).write_text(json.dumps(policy))
    with Assistant(checkpoint_url="memory", start_sandbox=False, workdir=tmp_path) as assistant:
        assert assistant.iam.check_no_new_access("wider.json", "read.json").result == "FAIL"
        assert assistant.iam.check_access_not_granted(READ, actions=["s3:Put*"]).passed
        assert (
            assistant.iam.check_no_public_access("public.json", resource_type="AWS::S3::Bucket").result
            == "FAIL"
        )
        assert [f.code for f in assistant.iam.lint("read.json")] == []
        answer = assistant.ask("check that policy public.json is not public")
        assert answer.route == ["iam"] and '"result": "FAIL"' in answer.answer
        answer = assistant.ask("is s3:PutObjectTagging on arn:aws:s3:::b/k allowed by policy wider.json")
        assert "Allowed" in answer.answer
        answer = assistant.ask("lint policy public.json")
        assert '"valid": true' in answer.answer


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    settings = Settings(checkpoint_url=f"sqlite:///{tmp_path / 'server.db'}", api_tokens=TOKENS)
    with Runtime(settings) as runtime, live_server(create_app(runtime, tool_context=ToolContext())) as served:
        yield served


def test_http_routes_and_client(url: str, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"Version": "2012-10-17", "Statement": [')
    with Client(url, token="rita-token") as client:
        assert client.iam.check_no_new_access(WIDER, READ).result == "FAIL"
        assert client.iam.check_access_not_granted(json.dumps(READ), actions=["s3:Delete*"]).passed
        public = client.iam.check_no_public_access(PUBLIC, resource_type="AWS::S3::Bucket")
        assert public.result == "FAIL" and public.statements[0].sid == "Site"
        (finding,) = client.iam.lint(tmp_path / "bad.json")  # a local file goes as text: located
        assert finding.code == "JSON_SYNTAX_ERROR" and finding.location is not None
        with pytest.raises(ApiError) as refused:
            client.iam.check_no_public_access(PUBLIC, resource_type="AWS::Nope")
        assert refused.value.status == 422
