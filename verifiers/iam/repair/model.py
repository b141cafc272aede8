"""The model in the loop: a chat model proposes policies, the engine checks each, counterexamples go back.

The model sees the policy, the spec and the fault report; every candidate it returns is parsed and checked
exactly like a symbolic one (requests by the concrete evaluator, the rest by Z3, plus the bound). A
rejected candidate's counterexamples are quoted in the next prompt, up to a round limit. The model is any
object with `invoke(messages)` returning something with `.content` (a LangChain chat model), wrapped as
a `Proposer`: prompt text in, reply text out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from policies.model import Policy
from policies.parse import PolicyParseError, parse_policy
from verifiers.iam.repair.check import SpecCheck, check_spec
from verifiers.iam.repair.prove import find_request
from verifiers.iam.repair.spec import Spec

__all__ = [
    "ChatLike",
    "ModelRound",
    "Proposer",
    "chat_proposer",
    "extract_policy",
    "propose_and_check",
    "verify_candidate",
]

Proposer = Callable[[str], str]
SYSTEM = (
    "You repair and write AWS IAM policies. Reply with exactly one JSON policy document "
    '({"Version": "2012-10-17", "Statement": [...]}) and nothing else. Grant least privilege: name '
    "actions explicitly, avoid wildcards unless the task asks for them."
)


class ChatLike(Protocol):
    def invoke(self, input: Any, /) -> Any: ...


def chat_proposer(model: ChatLike) -> Proposer:
    """A proposer backed by a LangChain chat model (system prompt + one human message per call)."""
    from langchain_core.messages import HumanMessage, SystemMessage

    def propose(prompt: str) -> str:
        reply = model.invoke([SystemMessage(content=SYSTEM), HumanMessage(content=prompt)])
        content = getattr(reply, "content", reply)
        return content if isinstance(content, str) else json.dumps(content)

    return propose


class ModelRound(BaseModel):
    model_config = ConfigDict(frozen=True)

    round: int
    prompt: str
    reply: str
    verdict: str
    """`accepted`, `rejected` (with counterexamples), or `unparseable`."""
    counterexamples: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "verdict": self.verdict, "counterexamples": list(self.counterexamples)}


def extract_policy(reply: str) -> Policy:
    """The first JSON object in a reply that parses as a policy (code fences and prose around it are fine)."""
    decoder = json.JSONDecoder()
    problem = "no JSON object in the reply"
    for start, char in enumerate(reply):
        if char != "{":
            continue
        try:
            doc, _ = decoder.raw_decode(reply[start:])
        except json.JSONDecodeError:
            continue
        if isinstance(doc, dict) and "Statement" in doc:
            try:
                return parse_policy(doc)
            except PolicyParseError as exc:
                problem = str(exc)
    raise PolicyParseError("", problem)


def verify_candidate(
    candidate: Policy, spec: Spec, bound: Sequence[Policy] = ()
) -> tuple[SpecCheck, list[str]]:
    """Check a candidate against the spec (and against a bound on what it may allow); the counterexamples."""
    check = check_spec(candidate, spec)
    problems = [
        f.spec_request.describe() + f", but the candidate gives {f.decision.decision}" for f in check.failures
    ]
    for v in check.violations:
        shown = f" (e.g. {json.dumps(v.request.to_json())})" if v.request else ""
        problems.append(f"violates {v.pointer}: {v.what}{shown}")
    problems += [f"unverified: {u}" for u in check.unverified]
    if bound and not problems:
        found = find_request([candidate], list(bound))
        if found.status == "sat" and found.request is not None:
            problems.append(
                f"allows {json.dumps(found.request.to_json())}, which neither the original policy nor the spec allows"
            )
        elif found.status == "unknown":
            problems.append(f"unverified: the bound check gave no answer ({found.reason})")
    return check, problems


def _spec_text(spec: Spec) -> str:
    lines = [f"- {r.describe()}" for r in spec.requests]
    if spec.reference is not None:
        lines.append(
            f"- no more permissive than this reference policy: {json.dumps(spec.reference.to_json())}"
        )
    lines += [f"- property: {p.describe()}" for p in spec.properties]
    return "\n".join(lines) or "- (no requests)"


def propose_and_check(
    task: str,
    spec: Spec,
    proposer: Proposer,
    *,
    rounds: int = 3,
    context: str = "",
    bound: Sequence[Policy] = (),
    prepare: Callable[[Policy], tuple[Policy, list[str]]] | None = None,
) -> tuple[Policy | None, SpecCheck | None, list[ModelRound]]:
    """The CEGIS loop: ask, check, feed the counterexamples back; (accepted policy, its check, transcript)."""
    transcript: list[ModelRound] = []
    feedback = ""
    for n in range(1, rounds + 1):
        prompt = f"{task}\n\nThe policy must satisfy:\n{_spec_text(spec)}\n"
        if context:
            prompt += f"\n{context}\n"
        if feedback:
            prompt += f"\nYour previous candidate was rejected by the verifier:\n{feedback}\nFix these and reply with the whole policy.\n"
        reply = proposer(prompt)
        try:
            candidate = extract_policy(reply)
        except PolicyParseError as exc:
            feedback = f"- the reply is not a valid policy: {exc}"
            transcript.append(
                ModelRound(
                    round=n, prompt=prompt, reply=reply, verdict="unparseable", counterexamples=(feedback,)
                )
            )
            continue
        extra: list[str] = []
        if prepare is not None:
            candidate, extra = prepare(candidate)
        check, problems = verify_candidate(candidate, spec, bound)
        problems = extra + problems
        if not problems:
            transcript.append(ModelRound(round=n, prompt=prompt, reply=reply, verdict="accepted"))
            return (
                candidate,
                check,
                [
                    *transcript[:-1],
                    transcript[-1].model_copy(update={"reply": json.dumps(candidate.to_json())}),
                ]
                if prepare
                else transcript,
            )
        feedback = "\n".join(f"- {p}" for p in problems[:10])
        transcript.append(
            ModelRound(
                round=n, prompt=prompt, reply=reply, verdict="rejected", counterexamples=tuple(problems)
            )
        )
    return None, None, transcript
