"""Read-only IAM tools for the agent: compare, explain, check requests, validate (lint), and the custom
policy checks (no new access, access not granted, no public access).

Arguments are file paths (resolved against the tool context's working directory) or inline JSON text.
Every tool answers the model with a JSON string, in which text that comes from the policy files (Sids,
patterns, requests built from them) is fenced (`tools.base.fence`); bad input returns `{"error": ...}`
naming the JSON pointer or file, never a traceback. Tools with something to show people also return an
artifact (`iam.comparison`, `iam.decisions`, `iam.lint`, `iam.check`; `tools/iam/present.py`). None of
these tools changes anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from policies import Policy, PolicyParseError, load_policy, parse_requests
from tools.base import ToolContext, fence, unfence
from verifiers.iam import compare, evaluate, explain
from verifiers.iam.evaluate import missing_keys
from verifiers.iam.lint import lint_text

__all__ = [
    "POLICY_HELP",
    "Evidence",
    "PolicyArg",
    "ToolSpec",
    "build_policy_tools",
    "json_tools",
    "load_policy_arg",
    "read_answer",
]


@dataclass(frozen=True)
class Evidence:
    """A tool's answer to the model: JSON of our own making, then the lines that quote the policy files
    (Sids, patterns, requests built from them), fenced on lines of their own so that `unfence` can take
    the markers off before a person reads them."""

    data: dict[str, Any]
    quoted: str = ""
    source: str = ""

    def text(self) -> str:
        head = json.dumps(self.data)
        return f"{head}\n{fence(self.source, self.quoted)}" if self.quoted else head


def read_answer(text: str) -> tuple[dict[str, Any], str]:
    """An IAM tool's answer taken apart: its JSON, and the quoted lines with the fence markers off."""
    head, _, rest = text.partition("\n")
    data: dict[str, Any] = json.loads(head)
    return data, unfence(rest).strip()


Result = dict[str, Any] | Evidence | tuple[dict[str, Any] | Evidence, dict[str, Any]]
"""What a tool function gives: the model's answer, or (the model's answer, the artifact for people)."""
ToolSpec = tuple[Callable[..., Any], type[BaseModel], str]

POLICY_HELP = "Path of a policy JSON file, or the policy JSON text itself."


class CompareArgs(BaseModel):
    policy_a: str = Field(description=POLICY_HELP)
    policy_b: str = Field(description=POLICY_HELP)


class PolicyArg(BaseModel):
    policy: str = Field(description=POLICY_HELP)


class CheckArgs(BaseModel):
    policy: str = Field(description=POLICY_HELP)
    request: str | dict[str, Any] | list[dict[str, Any]] = Field(
        description='A request {"action", "resource", "principal", "context": {key: value}}, a list of them, or a '
        'CloudFix suite {"Requests": [...]}; as an object, as JSON text, or the path of a file holding it.'
    )


def _answer(fn: Callable[..., Result], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    try:
        out = fn(**kwargs)
    except PolicyParseError as exc:
        return json.dumps({"error": str(exc), "pointer": exc.pointer}), None
    except (OSError, ValueError) as exc:
        # a ValueError's message is written for the reader (`/allow/0/resource: ...`); others keep their kind
        text = str(exc) if type(exc) is ValueError else f"{type(exc).__name__}: {exc}"
        return json.dumps({"error": text}), None
    content, artifact = out if isinstance(out, tuple) else (out, None)
    return (content.text() if isinstance(content, Evidence) else json.dumps(content)), artifact


def _guard(fn: Callable[..., Result]) -> Callable[..., str]:
    def run(**kwargs: Any) -> str:
        return _answer(fn, kwargs)[0]

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def _guard_with_artifact(fn: Callable[..., Result]) -> Callable[..., tuple[str, dict[str, Any] | None]]:
    def run(**kwargs: Any) -> tuple[str, dict[str, Any] | None]:
        return _answer(fn, kwargs)

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def json_tools(specs: list[ToolSpec], *, artifacts: bool = False) -> list[BaseTool]:
    """One tool per (function, argument schema, description); each returns its result as a JSON string,
    and bad input as `{"error": ...}` (with the JSON pointer for a policy error), never a traceback.
    With `artifacts`, a function returns (JSON, artifact) and the tool passes the artifact on."""
    if artifacts:
        return [
            StructuredTool.from_function(
                func=_guard_with_artifact(fn),
                name=fn.__name__,
                description=doc,
                args_schema=schema,
                response_format="content_and_artifact",
            )
            for fn, schema, doc in specs
        ]
    return [
        StructuredTool.from_function(func=_guard(fn), name=fn.__name__, description=doc, args_schema=schema)
        for fn, schema, doc in specs
    ]


def load_policy_arg(text: str, ctx: ToolContext) -> Policy:
    """A policy from a tool argument: inline JSON, or a file path resolved against the context's workdir."""
    if text.strip().startswith("arn:"):
        raise ValueError(
            f"{text.strip()} is an ARN: policies are read from a file or inline JSON, not fetched from AWS; "
            "name the policy file the request gives"
        )
    return load_policy(text if text.strip().startswith("{") else str(ctx.resolve(text)))


def build_policy_tools(ctx: ToolContext) -> list[BaseTool]:
    def load(spec: str) -> Policy:
        return load_policy_arg(spec, ctx)

    def compare_policies(policy_a: str, policy_b: str) -> Result:
        result = compare(load(policy_a), load(policy_b))
        body = result.to_json()
        body.pop("counterexamples")
        quoted = "\n".join(  # requests built from the policies' own patterns
            f"allowed by {policy_a if c.allowed_by == 'first' else policy_b} only: {json.dumps(c.request.to_json())}"
            for c in result.counterexamples
        )
        artifact = {"kind": "iam.comparison", "policy_a": policy_a, "policy_b": policy_b, **result.to_json()}
        return Evidence(body, quoted, f"policies {policy_a} and {policy_b}"), artifact

    def explain_policy(policy: str) -> Evidence:
        result = explain(load(policy))
        examples = [json.dumps(r.example.to_json()) for r in result.allows if r.example is not None]
        quoted = result.text + ("\nexample allowed requests:\n" + "\n".join(examples) if examples else "")
        return Evidence({"allows_anything": result.allows_anything}, quoted, f"policy {policy}")

    def check_request(policy: str, request: str | dict[str, Any] | list[dict[str, Any]]) -> Result:
        # small models write the request as the object it is, not as JSON text inside a string
        request = request if isinstance(request, str) else json.dumps(request)
        text = request if request.strip()[:1] in "{[" else ctx.resolve(request).read_text(encoding="utf-8")
        parsed = load(policy)
        rows, shown, quoted = [], [], []
        for n, req in enumerate(parse_requests(text), 1):
            decision = evaluate(parsed, req)
            ok = None if req.expected is None else decision.allowed == (req.expected == "Allow")
            missing = missing_keys(parsed, req)
            row: dict[str, Any] = {
                "id": req.id or str(n),
                "decision": decision.decision,
                "expected": req.expected,
            }
            row["ok"] = ok
            quoted += [f"{row['id']}: {m.describe()}: {m.why}" for m in decision.matched]
            quoted += [
                f"{row['id']}: not supplied: {key} (consulted by {'; '.join(w)})"
                for key, w in missing.items()
            ]
            rows.append(row)
            shown.append(
                {
                    "id": row["id"],
                    "request": req.to_json(),
                    "decision": decision.decision,
                    "expected": req.expected,
                    "ok": ok,
                    "matched": [{"statement": m.describe(), "why": m.why} for m in decision.matched],
                    "missing_keys": missing,
                }
            )
        answer = Evidence({"results": rows}, "\n".join(quoted), f"policy {policy}")
        return answer, {"kind": "iam.decisions", "policy": policy, "results": shown}

    def validate_policy(policy: str) -> Result:
        inline = policy.strip().startswith("{")
        text = policy if inline else ctx.resolve(policy).read_text(encoding="utf-8")
        findings = lint_text(text, path=None if inline else policy)
        counts = {s: sum(f.severity == s for f in findings) for s in ("error", "security_warning", "warning")}
        body: dict[str, Any] = {"valid": not counts["error"], "counts": counts}
        quoted = "\n".join(f.text() for f in findings)  # they quote the policy: actions, ARNs, Sids
        artifact = {
            "kind": "iam.lint",
            "policy": "inline policy" if inline else policy,
            "findings": [f.model_dump(exclude_none=True) for f in findings],
        }
        return Evidence(body, quoted, f"policy {policy}"), artifact

    plain: list[ToolSpec] = [
        (
            explain_policy,
            PolicyArg,
            "Explain what an IAM policy allows and denies, statement by statement (actions, resources, "
            "conditions), which Allow statements any request actually reaches, and example allowed requests.",
        ),
    ]
    shown: list[ToolSpec] = [
        (
            compare_policies,
            CompareArgs,
            "Compare two IAM policies with the Z3 engine. Returns the relation of policy_a to policy_b "
            "(equivalent, less_permissive, more_permissive, incomparable, or unknown when unproven) and "
            "concrete counterexample requests that one allows and the other denies.",
        ),
        (
            check_request,
            CheckArgs,
            "Decide requests against an IAM policy (is this action on this resource allowed?): Allowed, "
            "ExplicitlyDenied or ImplicitlyDenied, with the statements that matched and the condition keys the "
            "policy consults that the request does not supply; compares with each request's expected Effect.",
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
    return json_tools(shown[:1], artifacts=True) + json_tools(plain) + json_tools(shown[1:], artifacts=True)
