"""Read-only IAM tools for the agent: compare, explain, check requests, validate (lint).

Arguments are file paths (resolved against the tool context's working directory) or inline JSON text.
Every tool returns a JSON string; bad input returns `{"error": ...}` naming the JSON pointer or file,
never a traceback. None of these tools changes anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from policies import Policy, PolicyParseError, load_policy, parse_requests
from tools.base import ToolContext
from verifiers.iam import compare, evaluate, explain
from verifiers.iam.lint import lint_text

__all__ = ["POLICY_HELP", "PolicyArg", "build_policy_tools", "json_tools", "load_policy_arg"]

POLICY_HELP = "Path of a policy JSON file, or the policy JSON text itself."


class CompareArgs(BaseModel):
    policy_a: str = Field(description=POLICY_HELP)
    policy_b: str = Field(description=POLICY_HELP)


class PolicyArg(BaseModel):
    policy: str = Field(description=POLICY_HELP)


class CheckArgs(BaseModel):
    policy: str = Field(description=POLICY_HELP)
    request: str = Field(
        description='Path of a request file, or JSON text: {"action", "resource", "principal", "context": {key: value}}, '
        'a list of them, or a CloudFix suite {"Requests": [...]}.'
    )


def _guard(fn: Callable[..., dict[str, Any]]) -> Callable[..., str]:
    def run(**kwargs: Any) -> str:
        try:
            return json.dumps(fn(**kwargs))
        except PolicyParseError as exc:
            return json.dumps({"error": str(exc), "pointer": exc.pointer})
        except (OSError, ValueError) as exc:
            return json.dumps({"error": f"{type(exc).__name__}: {exc}"})

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def json_tools(specs: list[tuple[Callable[..., dict[str, Any]], type[BaseModel], str]]) -> list[BaseTool]:
    """One tool per (function, argument schema, description); each returns its result as a JSON string,
    and bad input as `{"error": ...}` (with the JSON pointer for a policy error), never a traceback."""
    return [
        StructuredTool.from_function(func=_guard(fn), name=fn.__name__, description=doc, args_schema=schema)
        for fn, schema, doc in specs
    ]


def load_policy_arg(text: str, ctx: ToolContext) -> Policy:
    """A policy from a tool argument: inline JSON, or a file path resolved against the context's workdir."""
    return load_policy(text if text.strip().startswith("{") else str(ctx.resolve(text)))


def build_policy_tools(ctx: ToolContext) -> list[BaseTool]:
    def load(spec: str) -> Policy:
        return load_policy_arg(spec, ctx)

    def compare_policies(policy_a: str, policy_b: str) -> dict[str, Any]:
        result = compare(load(policy_a), load(policy_b))
        return result.to_json()

    def explain_policy(policy: str) -> dict[str, Any]:
        result = explain(load(policy))
        examples = [r.example.to_json() for r in result.allows if r.example is not None]
        return {
            "summary": result.text,
            "allows_anything": result.allows_anything,
            "example_allowed_requests": examples,
        }

    def check_request(policy: str, request: str) -> dict[str, Any]:
        text = request if request.strip()[:1] in "{[" else ctx.resolve(request).read_text(encoding="utf-8")
        parsed = load(policy)
        rows = []
        for n, req in enumerate(parse_requests(text), 1):
            decision = evaluate(parsed, req)
            ok = None if req.expected is None else decision.allowed == (req.expected == "Allow")
            rows.append(
                {
                    "id": req.id or str(n),
                    "decision": decision.decision,
                    "expected": req.expected,
                    "ok": ok,
                    "matched": [m.describe() for m in decision.matched],
                }
            )
        return {"results": rows}

    def validate_policy(policy: str) -> dict[str, Any]:
        inline = policy.strip().startswith("{")
        text = policy if inline else ctx.resolve(policy).read_text(encoding="utf-8")
        findings = lint_text(text, path=None if inline else policy)
        return {
            "valid": not any(f.severity == "error" for f in findings),
            "findings": [f.text() for f in findings],
        }

    specs: list[tuple[Callable[..., dict[str, Any]], type[BaseModel], str]] = [
        (
            compare_policies,
            CompareArgs,
            "Compare two IAM policies with the Z3 engine. Returns the relation of policy_a to policy_b "
            "(equivalent, less_permissive, more_permissive, incomparable, or unknown when unproven) and "
            "concrete counterexample requests that one allows and the other denies.",
        ),
        (
            explain_policy,
            PolicyArg,
            "Explain what an IAM policy allows and denies, statement by statement (actions, resources, "
            "conditions), which Allow statements any request actually reaches, and example allowed requests.",
        ),
        (
            check_request,
            CheckArgs,
            "Decide requests against an IAM policy: Allowed, ExplicitlyDenied or ImplicitlyDenied, with the "
            "statements that matched; compares with each request's expected Effect when given.",
        ),
        (
            validate_policy,
            PolicyArg,
            "Validate and lint an IAM policy as IAM Access Analyzer does: each finding has a severity (error, "
            "security_warning, warning, suggestion), a code, the JSON pointer and line: grammar errors, unknown "
            "actions and condition keys, ARNs that fit no resource type, actions paired with resources they "
            "cannot act on, iam:PassRole on every role, duplicate Sids, redundant statements.",
        ),
    ]
    return json_tools(specs)
