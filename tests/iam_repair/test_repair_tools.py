"""The agent's repair tools: argument names, JSON answers, and the mutating write with its preview."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.tools import BaseTool

from tools.base import ToolContext, is_mutating, preview_call
from tools.iam import build_tools
from tools.iam.policy_tools import read_answer

FIXTURE = Path(__file__).parent / "fixtures/cloudfix"


def _workdir(tmp_path: Path, name: str) -> Path:
    doc = json.loads((FIXTURE / f"{name}.json").read_text())
    (tmp_path / "p.json").write_text(json.dumps(doc["policy"]))
    (tmp_path / "r.json").write_text(json.dumps(doc.get("suite") or doc["spec"]))
    return tmp_path


def _tools(workdir: Path) -> dict[str, BaseTool]:
    return {t.name: t for t in build_tools(ToolContext(workdir=workdir))}


def test_repair_policy_takes_policy_and_spec_paths(tmp_path: Path) -> None:
    tools = _tools(_workdir(tmp_path, "passrole"))
    tool = tools["repair_policy"]
    assert set(tool.args) == {"policy", "spec"}
    assert not is_mutating(tool)
    doc, diff = read_answer(tool.invoke({"policy": "p.json", "spec": "r.json"}))
    assert doc["status"] == "repaired" and "iam:PassRole" in diff and diff.startswith("diff of the policy:")
    assert doc["comparison"]["relation"] == "more_permissive"


def test_bad_input_is_an_error_with_the_pointer_not_a_traceback(tmp_path: Path) -> None:
    tools = _tools(_workdir(tmp_path, "passrole"))
    doc = json.loads(
        tools["repair_policy"].invoke({"policy": "p.json", "spec": '{"must_allow": [{"Resource": "*"}]}'})
    )
    assert doc["pointer"] == "/must_allow/0" and "error" in doc
    missing = json.loads(tools["repair_policy"].invoke({"policy": "nope.json", "spec": "r.json"}))
    assert "nope.json" in missing["error"]


def test_writing_is_mutating_and_previews_the_diff_and_the_proof(tmp_path: Path) -> None:
    workdir = _workdir(tmp_path, "region_condition")
    tool = _tools(workdir)["write_repaired_policy"]
    assert is_mutating(tool)
    args = {"policy": "p.json", "spec": "r.json", "out": "fixed.json"}
    preview = preview_call(tool, args)
    assert "preview_error" not in preview
    assert (
        preview["diff"].startswith("--- original") and preview["comparison"]["relation"] == "more_permissive"
    )
    assert preview["spec_check"]["satisfied"] == 4
    assert not (workdir / "fixed.json").exists()  # the preview writes nothing
    doc, _ = read_answer(tool.invoke(args))
    assert doc["written"] is True
    assert json.loads((workdir / "fixed.json").read_text()) == doc["policy"]


def test_synthesize_policy_tool(tmp_path: Path) -> None:
    tools = _tools(_workdir(tmp_path, "region_condition"))
    doc = json.loads(tools["synthesize_policy"].invoke({"spec": "r.json"}))
    assert doc["status"] == "synthesized" and doc["proven"] is True


def test_synthesize_policy_from_an_allow_list_keeps_resource_patterns_and_passes_the_grader(
    tmp_path: Path,
) -> None:
    """A small model fills `allow` (the json schema makes it objects, not words); a * in a resource is a
    pattern, so the policy allows every object, which is what iam-questions' write-01 asks and grades."""
    from eval.suites.iam_questions import _grade_write

    case = json.loads(
        next(
            line
            for line in (Path(__file__).parents[2] / "eval/data/iam-questions/questions.jsonl").open()
            if '"write-01"' in line
        )
    )
    allow = [
        {"action": "s3:GetObject", "resource": "arn:aws:s3:::acme-logs/*"},
        {"action": "s3:ListBucket", "resource": "arn:aws:s3:::acme-logs"},
    ]
    tool = _tools(tmp_path)["synthesize_policy"]
    content, artifact = tool.func(allow=allow)  # type: ignore[misc]
    doc = json.loads(content)
    assert doc["status"] == "synthesized" and doc["proven"] is True and doc["source"] == "allow-list"
    assert {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-logs/*"} in doc[
        "policy"
    ]["Statement"]
    assert artifact["kind"] == "iam.synthesis"
    from tools.present import present

    shown = present(artifact)
    assert shown.startswith("### ✅ Policy written, proven by Z3")
    # what the proof covers: the entries, the model's reading of the request
    assert shown.rstrip().endswith(
        "proven against the entries above, not against the request: check their resources and conditions"
    )
    answer = "```json\n" + json.dumps(doc["policy"]) + "\n```"
    passed, relation, _ = _grade_write(answer, case["reference"], case["must_allow"])
    assert passed and relation == "equivalent"
    # the spec path keeps exact requests: the same resource there is one object named "*"
    exact = json.loads(
        tool.invoke(
            {
                "spec": json.dumps(
                    {"must_allow": [{"Action": "s3:GetObject", "Resource": allow[0]["resource"]}]}
                )
            }
        )
    )
    assert exact["policy"]["Statement"][0]["Resource"] == "arn:aws:s3:::acme-logs/${*}"


def test_an_allow_entry_with_a_condition_is_limited_to_it_and_passes_the_grader(tmp_path: Path) -> None:
    """iam-questions' write-09 ("only from the office network"): the condition goes into the entry's
    statement, Z3 proves the policy equal to the entries, and the grader's requests from that network pass
    while a request from elsewhere is denied."""
    from eval.suites.iam_questions import _grade_write
    from policies.parse import parse_policy
    from policies.request import parse_request
    from verifiers.iam import evaluate

    case = json.loads(
        next(
            line
            for line in (Path(__file__).parents[2] / "eval/data/iam-questions/questions.jsonl").open()
            if '"write-09"' in line
        )
    )
    office = {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}
    allow = [
        {"action": "ec2:StartInstances", "resource": "*", "condition": office},
        {"action": "ec2:StopInstances", "resource": "*", "condition": office},
        {"action": "ec2:DescribeInstances", "resource": "*", "condition": {}},  # {}: no condition
    ]
    doc = json.loads(_tools(tmp_path)["synthesize_policy"].invoke({"allow": allow}))
    assert doc["status"] == "synthesized" and doc["proven"] is True, doc
    assert "2 only under their conditions" in doc["proofs"][0]
    statements = doc["policy"]["Statement"]
    assert {
        "Effect": "Allow",
        "Action": ["ec2:StartInstances", "ec2:StopInstances"],
        "Resource": "*",
        "Condition": office,
    } in statements
    assert {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"} in statements
    written = {**doc["policy"], "Statement": statements[:1]}
    passed, relation, _ = _grade_write(
        "```json\n" + json.dumps(written) + "\n```", case["reference"], case["must_allow"]
    )
    assert passed and relation == "equivalent"
    policy = parse_policy(doc["policy"])
    instance = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc123"
    outside = {
        "action": "ec2:StopInstances",
        "resource": instance,
        "context": {"aws:SourceIp": "198.51.100.7"},
    }
    inside = {**outside, "context": {"aws:SourceIp": "203.0.113.10"}}
    assert evaluate(policy, parse_request(inside)).allowed
    assert not evaluate(policy, parse_request(outside)).allowed


def test_a_bad_condition_is_an_error_naming_its_place(tmp_path: Path) -> None:
    tool = _tools(tmp_path)["synthesize_policy"]
    ok = {"action": "ec2:StartInstances", "resource": "*"}
    for condition, message in (
        ({"IpAdress": {"aws:SourceIp": "203.0.113.0/24"}}, "/allow/1/condition/IpAdress: unknown condition operator"),
        ({"IpAddress": {"aws:SourceIp": "office"}}, "/allow/1/condition/IpAddress/aws:SourceIp: 'office' is not a valid IpAddress value"),
        ({"StringEquals": {"aws:Office": "x"}}, "/allow/1/condition/StringEquals/aws:Office: 'aws:Office' is not an AWS global condition key"),
    ):  # fmt: skip
        error = json.loads(tool.invoke({"allow": [ok, {**ok, "condition": condition}]}))["error"]
        assert message in error, error


def test_a_bad_allow_entry_is_an_error_naming_it(tmp_path: Path) -> None:
    """Each goes back to the model naming the entry; an ARN without the region its service's ARNs have
    (what the 1.5B model wrote for a secret) would make a policy that matches nothing."""
    tool = _tools(_workdir(tmp_path, "region_condition"))["synthesize_policy"]
    secret = "arn:aws:secretsmanager::123456789012:secret:db-password*"
    for entry, message in (
        ({"action": "s3:GetObjects", "resource": "arn:aws:s3:::b"}, "/allow/0/action: unknown action 's3:GetObjects'"),
        ({"action": "read the logs", "resource": "*"}, "/allow/0/action: 'read the logs' is not an action"),
        ({"action": "s3:GetObject", "resource": "acme-logs"}, "/allow/0/resource: 'acme-logs' is not an ARN"),
        ({"action": "secretsmanager:GetSecretValue", "resource": secret}, "/allow/0/resource: secretsmanager ARNs need a region"),
        # the 1.5B model's write-09 ARN: the instance type is right, a colon too many hides it
        ({"action": "ec2:StartInstances", "resource": "arn:aws:ec2:us-west-2:::instance/*"},
         "/allow/0/resource: 'arn:aws:ec2:us-west-2:::instance/*' has one ':' too many before 'instance/*'"),
        ({"action": "ec2:StartInstances", "resource": "arn:aws:ec2:us-west-2:::nothing/*"},
         "matches no ec2 resource type"),
    ):  # fmt: skip
        assert message in json.loads(tool.invoke({"allow": [entry]}))["error"]
    one = [{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/*"}]
    assert "not both" in json.loads(tool.invoke({"allow": one, "spec": "r.json"}))["error"]
    assert "not both" in json.loads(tool.invoke({"allow": one, "spec": '{"must_allow": []}'}))["error"]
    # words beside an allow list (small models fill every field) are set aside, and the answer says so
    doc = json.loads(tool.invoke({"allow": one, "spec": "read objects of b"}))
    assert doc["proven"] is True and doc["warnings"][0].startswith("spec ignored: 'read objects of b'")
    assert doc["proofs"][0] == "allows every request the entry names (Z3)"
    # a lint warning (ListBucket acts on the bucket, not its objects) is shown, not fatal
    listing = json.loads(
        tool.invoke({"allow": [{"action": "s3:ListBucket", "resource": "arn:aws:s3:::b/*"}]})
    )
    assert any(w.startswith("/allow/0/action: s3:ListBucket acts on") for w in listing["warnings"])
    assert "/allow: list the" in json.loads(tool.invoke({}))["error"]
