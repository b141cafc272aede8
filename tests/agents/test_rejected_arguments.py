"""A tool that rejects an argument by its place gets one corrected call, not an explanation of its error.

The 1.5B model wrote a secret's ARN without the region the request named, got
`/allow/0/resource: secretsmanager ARNs need a region` back, and explained the error to the user instead of
calling again (3 of 10 policy writes lost so). `CorrectRejected` asks once more with the tool's error.
Runs against `ScriptedOpenAIServer` over the real client path with the real IAM tools.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from langchain_core.messages import ToolMessage

from agents.middleware.arguments import rejected_argument
from agents.runtime import Runtime
from tests.scripted_openai_server import Reply, ScriptedOpenAIServer, is_routing, scripted_settings
from tools.base import ToolContext

REQUEST = (
    "Write an IAM policy that allows reading the value of the Secrets Manager secrets whose names start "
    "with db-password, in us-east-1 of account 123456789012, and nothing else."
)
RESOURCE = "arn:aws:secretsmanager:{region}:123456789012:secret:db-password*"


def _call(region: str) -> dict[str, Any]:
    entry = {"action": "secretsmanager:GetSecretValue", "resource": RESOURCE.format(region=region)}
    return {"name": "synthesize_policy", "arguments": {"allow": [entry]}}


def _run(tmp_path: Path, corrects: bool | None, retries: int = 2) -> tuple[Any, list[dict[str, Any]]]:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return Reply(json.dumps({"agents": ["iam"], "reply": None}))
        last = body["messages"][-1]["content"]
        if "rejected that argument" in last:  # asked again with the tool's error
            if corrects is None:  # what the 1.5B model did: the same call again
                return Reply(json.dumps(_call("")))
            if corrects:
                return Reply(json.dumps(_call("us-east-1")))
            return Reply(json.dumps({"answer": "The request does not give a region."}))
        if "need a region" in last or "needs a region" in last:
            return Reply(json.dumps({"answer": "The ARN must include a region, e.g. us-east-1."}))
        if "Result of" in last:
            return Reply(json.dumps({"answer": "Done."}))
        return Reply(json.dumps(_call("")))

    with ScriptedOpenAIServer(script) as server:
        # direct answers as for local models: the proven policy is the answer
        settings = scripted_settings(server, tool_retries=retries, direct_answers="on")
        with Runtime(settings, tool_context=ToolContext(workdir=tmp_path)) as runtime:
            result = runtime.run(REQUEST, thread_id="t")
    assert server.rejected == []
    return result, [b for b in server.requests if not is_routing(b)]


def test_a_rejected_argument_gets_a_corrected_call_and_the_policy_is_written(tmp_path: Path) -> None:
    result, steps = _run(tmp_path, corrects=True)
    assert result.status == "done"
    feedback = steps[2]["messages"][-1]["content"]
    assert feedback.startswith("synthesize_policy rejected that argument: /allow/0/resource: ")
    assert "need" in feedback and "region" in feedback
    answer = result.answer or ""
    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password*" in answer
    assert "proven" in answer.lower()


def test_a_model_that_still_cannot_correct_it_answers_and_is_asked_once(tmp_path: Path) -> None:
    result, steps = _run(tmp_path, corrects=False)
    # the tool failed and nothing made up for it: the run says so, with the model's explanation
    assert result.status == "error" and result.answer == "The request does not give a region."
    assert sum("rejected that argument" in s["messages"][-1]["content"] for s in steps) == 1
    assert len(steps) == 3  # the call, the explanation, the one retry
    _, without = _run(tmp_path, corrects=False, retries=0)  # OPSGRAPH_TOOL_RETRIES=0: no retry
    assert len(without) == 2
    # the same rejected call again, then an answer: that answer stands (one nudge per request)
    repeated, steps = _run(tmp_path, corrects=None)
    assert repeated.status == "error" and repeated.answer == "The ARN must include a region, e.g. us-east-1."
    assert (
        len(steps) == 4 and sum("rejected that argument" in s["messages"][-1]["content"] for s in steps) == 1
    )


def test_only_errors_naming_one_of_the_tool_s_arguments_are_corrections(tmp_path: Path) -> None:
    from tools.iam import build_tools

    tools = {t.name: t for t in build_tools(ToolContext(workdir=tmp_path))}

    def result(content: str, status: str = "error", tool: str = "synthesize_policy") -> ToolMessage:
        return ToolMessage(content, tool_call_id="c", name=tool, status=status)  # type: ignore[arg-type]

    bad = '{"error": "ValueError: /allow/0/resource: x is not an ARN"}'
    assert rejected_argument(result(bad), tools) == "/allow/0/resource: x is not an ARN"
    assert rejected_argument(result("error: /spec: expected a request object"), tools) is not None
    # a file path is not a pointer; a pointer must start at one of the tool's own parameters
    missing = '{"error": "/tmp/missing.json: at /: cannot read policy file", "pointer": ""}'
    assert rejected_argument(result(missing, tool="check_request"), tools) is None
    assert rejected_argument(result('{"error": "/namespace: x"}'), tools) is None
    assert rejected_argument(result('{"error": "deployment shop/web not found"}'), tools) is None
    assert rejected_argument(result(bad, status="success"), tools) is None
    assert rejected_argument(result(bad, tool="no_such_tool"), tools) is None
