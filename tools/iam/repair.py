"""IAM repair and synthesis tools for the agent (issue 4): every result is proven by the Z3 engine.

- `repair_policy(policy, spec)`: read-only; the repaired policy, the edits, the policy diff, the comparison
  with the original (with counterexamples) and the spec check.
- `write_repaired_policy(policy, spec, out)`: writes the repaired policy to a file; mutating, so the
  approval gate shows its preview (the policy diff and the comparison) before it runs.
- `synthesize_policy(allow, spec, intent)`: a new policy, proven: exactly the (action, resource) entries of
  `allow` (a `*` in a resource is a pattern), or the least permissive policy for a spec's exact requests.
- `summarize_policy(policy)`: per service and access level, counted against the catalog.

Arguments are file paths (resolved against the tool context's working directory) or inline JSON. A chat
model for the model-in-the-loop path can be given as `ctx.extras["iam_proposer"]` (prompt -> reply).
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from policies import Policy, load_json
from tools.base import PreconditionFailedError, ToolContext, expected_state, mark_mutating, observe
from tools.files import replace_if_unchanged, sha256_of, sha256_text
from tools.iam.calls import reference_resolved
from tools.iam.policy_tools import POLICY_HELP, Evidence, PolicyArg, ToolSpec, json_tools, load_policy_arg
from verifiers.iam.repair import RepairResult, Spec, parse_spec, repair, summarize, synthesize
from verifiers.iam.repair.render import policy_diff
from verifiers.iam.repair.synthesize import synthesize_allow_list

__all__ = ["build_repair_tools"]

_SPEC = (
    'Path of a spec file, or its JSON: a CloudFix request suite {"Requests": [{"id", "Effect": "Allow"|"Deny", '
    '"Action", "Resource", "Principal", "Condition"}]}, a list of requests that must stay allowed, or '
    '{"must_allow": [...], "must_deny": [...], "reference": policy, "properties": ["least_privilege", '
    '"no_public_access", "no_full_admin", {"forbid": {"Action": ..., "Resource": ...}}]}.'
)


class RepairArgs(BaseModel):
    policy: str = Field(description=POLICY_HELP)
    spec: str = Field(description=_SPEC)


class WriteArgs(BaseModel):
    policy: str = Field(description=POLICY_HELP)
    spec: str = Field(description=_SPEC)
    out: str = Field(
        default="", description="File to write the repaired policy to; empty: overwrite the policy file."
    )


class AllowEntry(BaseModel):
    action: str = Field(description="One action, service:Action, e.g. s3:GetObject.")
    resource: str = Field(
        description="The ARN it applies to; a * matches any characters (arn:aws:s3:::acme-logs/* is every "
        "object of the bucket acme-logs, arn:aws:s3:::acme-logs the bucket itself)."
    )
    condition: dict[str, dict[str, str | list[str]]] | None = Field(
        default=None,
        description="Only when the request limits it: an IAM Condition block, operator -> {key: value}, e.g. "
        '{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}} for requests from that network.',
    )


class SynthesizeArgs(BaseModel):
    allow: list[AllowEntry] = Field(
        default_factory=list,
        description="What the new policy must allow, and nothing else: one entry per action and resource.",
    )
    spec: str = Field(
        default="",
        description="Instead of allow: "
        + _SPEC
        + " Its requests are exact (a * in a resource is a character).",
    )
    intent: str = Field(default="", description="What the policy is for, in words (used only with a model).")


_NAMES_A_POLICY = r"[\w.-]\.json\b|\{|arn:aws:iam::\d{12}:policy/"
"""Text that names a policy to repair (a file, inline JSON, a managed policy's ARN), for `offered_if`."""


def _summary(result: RepairResult) -> dict[str, Any]:
    out = result.to_json()
    out.pop("seconds", None)
    if result.policy is not None and result.status == "repaired":
        out["diff"] = policy_diff(result.original, result.policy)
    return out


def _fenced(summary: dict[str, Any], policy: str) -> Evidence:
    """The summary for the model, the diff after it: it quotes the policy file (Sids, patterns), fenced."""
    diff = summary.pop("diff", "")
    return Evidence(summary, diff and f"diff of the policy:\n{diff}", f"policy {policy}")


def build_repair_tools(ctx: ToolContext) -> list[BaseTool]:
    proposer = ctx.extras.get("iam_proposer")

    def load(text: str) -> Policy:
        return load_policy_arg(text, ctx)

    def load_spec_arg(text: str) -> Spec:
        stripped = text.strip()
        if stripped[:1] in "{[":
            doc = reference_resolved(load_json(stripped, "<inline spec>"), ctx)
            return parse_spec(doc, source="<inline spec>", base=ctx.workdir)
        path = ctx.resolve(text)
        doc = reference_resolved(load_json(path.read_text(encoding="utf-8"), str(path)), ctx, path.parent)
        return parse_spec(doc, source=str(path), base=path.parent)

    def run_repair(policy: str, spec: str) -> RepairResult:
        return repair(load(policy), load_spec_arg(spec), proposer=proposer)

    def repair_policy(policy: str, spec: str) -> Evidence:
        return _fenced(_summary(run_repair(policy, spec)), policy)

    def inputs(policy: str, spec: str, out: str) -> dict[str, str | None]:
        """The files a write reads and overwrites, with their hashes (inline JSON has no file)."""
        paths = [text for text in (policy, spec) if text.strip()[:1] not in "{["]
        paths.append(out or policy)
        return {str(ctx.resolve(p)): sha256_of(ctx.resolve(p)) for p in dict.fromkeys(paths)}

    def write_repaired_policy(policy: str, spec: str, out: str = "") -> Evidence:
        expect = (
            expected_state()
        )  # the approved preview's files and repair (PreconditionFailedError: changed)
        if expect is not None and inputs(policy, spec, out) != expect.get("files"):
            changed = [p for p, h in inputs(policy, spec, out).items() if expect.get("files", {}).get(p) != h]
            raise PreconditionFailedError(f"{', '.join(changed) or 'the inputs'} changed since the preview")
        result = run_repair(policy, spec)
        if result.status not in ("repaired", "already_satisfied") or result.policy is None:
            return _fenced({"written": False, **_summary(result)}, policy)
        target = ctx.resolve(out or policy)
        text = json.dumps(result.policy.to_json(), indent=2) + "\n"
        if expect is None:
            target.write_text(text, encoding="utf-8")
        else:
            if sha256_text(text) != expect.get("written_sha256"):
                raise PreconditionFailedError("the repair now differs from the previewed one")
            observe(files=inputs(policy, spec, out), written_sha256=sha256_text(text))
            replace_if_unchanged(target, expect["files"].get(str(target)), text)
        return _fenced({"written": True, "path": str(target), **_summary(result)}, policy)

    def preview(args: dict[str, Any]) -> dict[str, Any]:
        files = inputs(str(args["policy"]), str(args["spec"]), str(args.get("out") or ""))
        result = run_repair(str(args["policy"]), str(args["spec"]))
        target = str(args.get("out") or args["policy"])
        summary = _summary(result)
        written = json.dumps(result.policy.to_json(), indent=2) + "\n" if result.policy is not None else ""
        return {
            "summary": f"write the repaired policy ({result.status}, {len(result.edits)} edits) to {target}",
            "path": target,
            "diff": summary.get("diff", ""),
            "comparison": summary["comparison"],
            "spec_check": summary["spec_check"],
            "proofs": summary["proofs"],
            # the write is made only if these files still hash so and the repair is this one
            "precondition": {"files": files, "written_sha256": sha256_text(written) if written else None},
        }

    def summarize_policy(policy: str) -> dict[str, Any]:
        return summarize(load(policy)).to_json()

    def synthesize_policy(
        allow: list[AllowEntry | dict[str, Any]] | None = None, spec: str = "", intent: str = ""
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        entries = [e if isinstance(e, AllowEntry) else AllowEntry.model_validate(e) for e in allow or []]
        warnings: list[str] = []
        if entries and spec.strip():
            if spec.strip()[:1] in "{[" or ctx.resolve(spec.strip()).is_file():
                raise ValueError("give allow or spec, not both")
            # small models fill every field: words in spec beside an allow list are not a spec
            warnings.append(
                f"spec ignored: {spec.strip()[:60]!r} is neither JSON nor a file, and allow was given"
            )
            spec = ""
        if entries:
            result = synthesize_allow_list(
                [(e.action.strip(), e.resource.strip(), e.condition or None) for e in entries]
            ).to_json()
            result["warnings"] = warnings + result["warnings"]
        elif spec.strip() or intent.strip():
            spec_arg = load_spec_arg(spec) if spec.strip() else None
            result = synthesize(intent or None, spec_arg, proposer=proposer).to_json()
        else:
            raise ValueError("/allow: list the {action, resource} entries the policy must allow")
        return result, {"kind": "iam.synthesis", **{k: v for k, v in result.items() if k != "model_rounds"}}

    specs: list[ToolSpec] = [
        (
            repair_policy,
            RepairArgs,
            "Repair an IAM policy so it satisfies a spec (requests that must be allowed or denied, a reference "
            "policy, properties). Finds the fewest edits, least permissive first, and proves the result with Z3: "
            "returns status, the repaired policy, the edits, a diff, the comparison with the original (with "
            "counterexample requests) and the spec check. Changes no file.",
        ),
        (
            write_repaired_policy,
            WriteArgs,
            "Repair an existing IAM policy file against a spec (as repair_policy) and write the repaired policy "
            "to a file. Needs the user's approval, which shows the policy diff and the proof first. Not for a "
            "new policy: synthesize_policy writes one from the requests it must allow.",
        ),
        (
            synthesize_policy,
            SynthesizeArgs,
            "Write a new IAM policy from what it must allow: list each action with the resource ARN it applies "
            'to in allow, e.g. [{"action": "s3:GetObject", "resource": "arn:aws:s3:::acme-logs/*"}]; the '
            "policy allows those and nothing else, proven with Z3. (A spec file of exact requests gives the "
            "least permissive policy for them.) Says what was proven and what was not. Changes no file.",
        ),
        (
            summarize_policy,
            PolicyArg,
            "Summarize what an IAM policy allows per AWS service: the actions by access level (list, read, "
            "write, permissions management, tagging) on which resources under which conditions, the Deny "
            "carve-outs, and counts against the AWS catalog (e.g. 214 of 22,091 actions, 31 write).",
        ),
    ]
    tools = json_tools(specs[:2]) + json_tools(specs[2:3], artifacts=True) + json_tools(specs[3:])
    mark_mutating(tools[1], preview)
    for repairing in tools[:2]:  # they repair a policy the conversation names: a file, inline JSON, an ARN
        repairing.metadata = {**(repairing.metadata or {}), "offered_if": _NAMES_A_POLICY}
    tools[2].metadata = {
        **(tools[2].metadata or {}),
        "keywords": ("write", "new", "create", "generate", "least", "privilege"),
        # a request to write a policy is answered by this read-only tool's result: nothing is changed
        "answers": ("write", "create", "make", "generate", "draft"),
    }
    return tools
