"""The custom policy checks as agent tools: check_no_new_access, check_access_not_granted,
check_no_public_access. Each answers PASS (proven), FAIL with a counterexample request and the statements
that grant it (fenced: they quote the policy), or UNKNOWN with the reason, and returns an `iam.check`
artifact for people."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from policies import Policy
from tools.base import ToolContext
from tools.iam.policy_tools import POLICY_HELP, Evidence, ToolSpec, json_tools, load_policy_arg
from verifiers.iam.checks import (
    PUBLIC_RESOURCE_TYPES,
    CheckResult,
    check_access_not_granted,
    check_no_new_access,
    check_no_public_access,
)

__all__ = ["build_check_tools", "check_artifact", "guess_resource_type"]


class NoNewAccessArgs(BaseModel):
    policy: str = Field(description="The new policy: " + POLICY_HELP)
    existing: str = Field(description="The existing policy it must not grant more than: " + POLICY_HELP)


class AccessNotGrantedArgs(BaseModel):
    policy: str = Field(description=POLICY_HELP)
    actions: list[str] = Field(
        default_factory=list, description="Actions that must not be granted, e.g. s3:DeleteObject."
    )
    resources: list[str] = Field(
        default_factory=list, description="Resource ARNs they must not be granted on."
    )


class NoPublicAccessArgs(BaseModel):
    policy: str = Field(
        description="A resource policy (bucket, key, queue, topic, role trust...): " + POLICY_HELP
    )
    resource_type: str | None = Field(
        default=None,
        description="e.g. AWS::S3::Bucket, AWS::KMS::Key, AWS::SQS::Queue, AWS::IAM::AssumeRolePolicyDocument; "
        "omit it to take the type from the policy's actions.",
    )


def guess_resource_type(policy: Policy) -> str:
    """The resource type whose service all the policy's actions belong to (the first listed for it)."""
    services = {a.split(":", 1)[0].lower() for st in policy.statements for a in st.action or () if ":" in a}
    for resource_type, service in PUBLIC_RESOURCE_TYPES.items():
        if services == {service}:
            return resource_type
    raise ValueError(
        f"cannot tell the resource type from the actions ({', '.join(sorted(services)) or 'none'}); "
        f"give resource_type, one of {', '.join(PUBLIC_RESOURCE_TYPES)}"
    )


def check_artifact(result: CheckResult, subject: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "iam.check", "policy": subject, **extra, **result.to_json()}


def _for_model(result: CheckResult, subject: str) -> Evidence:
    body: dict[str, Any] = {"check": result.check, "result": result.result, "message": result.message}
    if result.reason:
        body["reason"] = result.reason
    lines = []
    if result.counterexample is not None:  # built from the policy's own patterns and Sids: evidence
        lines = [f"counterexample request: {json.dumps(result.counterexample.to_json())}"]
        lines += [
            f"granted by Statement[{m.statement}]" + (f" ({m.sid})" if m.sid else "") + f": {m.why}"
            for m in result.statements
        ]
    return Evidence(body, "\n".join(lines), f"policy {subject}")


def build_check_tools(ctx: ToolContext) -> list[BaseTool]:
    def load(spec: str) -> Policy:
        return load_policy_arg(spec, ctx)

    def check_no_new_access_tool(policy: str, existing: str) -> tuple[Evidence, dict[str, Any]]:
        result = check_no_new_access(load(policy), load(existing))
        return _for_model(result, policy), check_artifact(result, policy, existing=existing)

    def check_access_not_granted_tool(
        policy: str, actions: list[str] | None = None, resources: list[str] | None = None
    ) -> tuple[Evidence, dict[str, Any]]:
        result = check_access_not_granted(load(policy), actions=actions or (), resources=resources or ())
        return _for_model(result, policy), check_artifact(
            result, policy, actions=actions or [], resources=resources or []
        )

    def check_no_public_access_tool(
        policy: str, resource_type: str | None = None
    ) -> tuple[Evidence, dict[str, Any]]:
        parsed = load(policy)
        kind = resource_type or guess_resource_type(parsed)
        result = check_no_public_access(parsed, resource_type=kind)
        return _for_model(result, policy), check_artifact(result, policy, resource_type=kind)

    for fn, name in (
        (check_no_new_access_tool, "check_no_new_access"),
        (check_access_not_granted_tool, "check_access_not_granted"),
        (check_no_public_access_tool, "check_no_public_access"),
    ):
        fn.__name__ = name
    specs: list[ToolSpec] = [
        (
            check_no_new_access_tool,
            NoNewAccessArgs,
            "Prove that a new IAM policy grants no access the existing one does not (Access Analyzer's "
            "CheckNoNewAccess): PASS, FAIL with a request the new policy allows and the existing one denies "
            "plus the statements granting it, or UNKNOWN.",
        ),
        (
            check_access_not_granted_tool,
            AccessNotGrantedArgs,
            "Prove that an IAM policy grants none of the given actions (on any of the given resources): PASS, "
            "FAIL with a counterexample request and the statements granting it, or UNKNOWN.",
        ),
        (
            check_no_public_access_tool,
            NoPublicAccessArgs,
            "Prove that a resource policy grants nothing to the public (anonymous callers or principals of "
            "other accounts, from outside the VPCs and organizations it names): PASS, FAIL with such a request "
            "and the statements granting it, or UNKNOWN.",
        ),
    ]
    return json_tools(specs, artifacts=True)
