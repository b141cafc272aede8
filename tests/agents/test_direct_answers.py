"""A request one read-only tool call answered ends with opsgraph's rendering of the result, no model call after.

On a 1.5B model on two CPU cores each model call of an IAM check costs seconds, and the call after the
engine's decision only restated it (a third of the time as its opposite). Runs against
`ScriptedOpenAIServer` over the real client path, with the real IAM tools on a policy file; the count of
model calls is what would regress.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agents.middleware.direct import asks_for_change, change_words
from agents.models.offline import OfflineChatModel
from agents.runtime import Runtime, model_policy
from eval.answers import verdict
from eval.suite import run_settings_of
from opsgraph.settings import Settings
from tests.scripted_openai_server import Reply, ScriptedOpenAIServer, is_routing, scripted_settings
from tools.base import ToolContext
from tools.iam import build_tools

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-reports/*"}],
}
CHECK = {
    "name": "check_request",
    "arguments": {
        "policy": "policy.json",
        "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::acme-reports/q1.csv"},
    },
}


def _run(tmp_path: Path, text: str, direct: str, step: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
    (tmp_path / "policy.json").write_text(json.dumps(POLICY))

    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return Reply(json.dumps({"agents": ["iam"], "reply": None}))
        if any(m["role"] == "user" and m["content"].startswith("Result of") for m in body["messages"]):
            return Reply(json.dumps({"answer": "Yes, the analyst may read it."}))
        return Reply(json.dumps(step))

    with ScriptedOpenAIServer(script) as server:
        settings = scripted_settings(server, direct_answers=direct)
        with Runtime(settings, tool_context=ToolContext(workdir=tmp_path)) as runtime:
            result = runtime.run(text, thread_id="t")
    assert server.rejected == []
    return result, [b for b in server.requests if not is_routing(b)]


QUESTION = "Under the policy in policy.json, can the role analyst read q1.csv in the bucket acme-reports?"


def test_a_one_tool_check_ends_with_the_engine_s_decision_rendered(tmp_path: Path) -> None:
    result, steps = _run(tmp_path, QUESTION, "on", CHECK)
    assert len(steps) == 1  # the call; no model call to restate the decision
    assert result.status == "done" and result.route == ["iam"]
    answer = result.answer or ""
    assert "| decision |" in answer and "Allowed" in answer and "acme-reports/q1.csv" in answer
    assert verdict(answer, QUESTION) == "allow"
    assert '"decision"' not in answer  # the rendering, not the tool's JSON


def test_without_direct_answers_the_model_answers(tmp_path: Path) -> None:
    result, steps = _run(tmp_path, QUESTION, "off", CHECK)
    assert len(steps) == 2 and result.answer == "Yes, the analyst may read it."


def test_a_request_for_a_change_still_gets_the_model_s_next_step(tmp_path: Path) -> None:
    text = "Check whether policy.json lets the analyst read q1.csv in acme-reports, and fix it if not"
    result, steps = _run(tmp_path, text, "on", CHECK)
    assert len(steps) == 2 and result.answer == "Yes, the analyst may read it."


def test_a_failed_call_is_not_an_answer(tmp_path: Path) -> None:
    broken = {**CHECK, "arguments": {**CHECK["arguments"], "policy": "missing.json"}}
    result, steps = _run(tmp_path, QUESTION, "on", broken)
    assert len(steps) == 2 and result.answer == "Yes, the analyst may read it."


def test_auto_is_on_for_local_models_only() -> None:
    assert Settings(model="local:/models/m.gguf").resolved_direct_answers()
    assert not Settings(model="openai:gpt-4o-mini").resolved_direct_answers()
    assert not Settings(model="offline").resolved_direct_answers()
    assert not Settings(model="local:/models/m.gguf", direct_answers="off").resolved_direct_answers()
    assert Settings(model="openai:gpt-4o-mini", direct_answers="on").resolved_direct_answers()
    fake = FakeListChatModel(responses=["-"])
    assert model_policy(Settings(model="local:/models/m.gguf"), fake).direct_answers
    assert not model_policy(Settings(model="offline"), OfflineChatModel()).direct_answers
    # cassettes record it as used, so a replay treats the model as the recording did
    assert run_settings_of(Settings(model="local:/models/m.gguf"))["direct_answers"] == "on"


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("can the role ci-deployer delete prod/app.zip in the bucket acme-deploy?", False),
        ("Can the role order-reader write an item (PutItem) to the DynamoDB table orders?", False),
        ("explain the policy in policy.json", False),
        ("validate policy.json and repair it", True),
        ("update policy.json so the analyst can read the bucket", True),
    ],
)
def test_what_asks_for_a_change_in_iam(text: str, change: bool) -> None:
    assert asks_for_change(text, change_words(build_tools(ToolContext()))) is change


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("list the pods in namespace default", False),
        ("Why is my pod checkout-7f9c crashlooping?", False),
        ("What image is the mysql statefulset using?", False),
        ("find the crashing pod in shop and delete it", True),
        ("scale deployment web to 5 replicas", True),
        ("drain node worker-2 for maintenance", True),
        ("Can you restart the orders deployment?", True),
    ],
)
def test_what_asks_for_a_change_in_kubernetes(text: str, change: bool) -> None:
    from tools.kubernetes import build_tools as kubernetes_tools

    assert asks_for_change(text, change_words(kubernetes_tools(ToolContext()))) is change


def test_a_call_that_works_after_one_that_failed_is_the_answer(tmp_path: Path) -> None:
    broken = {**CHECK, "arguments": {**CHECK["arguments"], "policy": "missing.json"}}
    (tmp_path / "policy.json").write_text(json.dumps(POLICY))
    steps_sent: list[int] = []

    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return Reply(json.dumps({"agents": ["iam"], "reply": None}))
        steps_sent.append(1)
        return Reply(json.dumps(broken if len(steps_sent) == 1 else CHECK))

    with ScriptedOpenAIServer(script) as server:
        settings = Settings(
            model="scripted-model", base_url=server.base_url, checkpoint_url="memory", tool_calls="json",
            direct_answers="on",
        )  # fmt: skip
        with Runtime(settings, tool_context=ToolContext(workdir=tmp_path)) as runtime:
            result = runtime.run(QUESTION, thread_id="t")
    assert len(steps_sent) == 2 and "Allowed" in (result.answer or "")


WRITE = "Write an IAM policy that lets a role read q1.csv in the bucket acme-reports, and nothing else."
SYNTHESIZE = {
    "name": "synthesize_policy",
    "arguments": {
        "spec": json.dumps(
            {"must_allow": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-reports/q1.csv"}]}
        )
    },
}


def test_a_policy_to_write_ends_with_the_proven_policy_rendered(tmp_path: Path) -> None:
    # "write" names the changing write_repaired_policy, yet synthesize_policy changes nothing and its
    # result is what the request asks for: the answer is the proven policy, with no model call after
    result, steps = _run(tmp_path, WRITE, "on", SYNTHESIZE)
    assert len(steps) == 1
    answer = result.answer or ""
    assert "Policy written, proven by Z3" in answer and "```json" in answer
    policy = json.loads(answer.split("```json", 1)[1].split("```", 1)[0])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-reports/q1.csv"}
    ]
    # a change request answered by a look still goes back to the model
    fixed, steps = _run(tmp_path, "Repair policy.json so the analyst can read q1.csv", "on", CHECK)
    assert len(steps) == 2 and fixed.answer == "Yes, the analyst may read it."


def test_a_policy_written_from_an_allow_list_keeps_its_pattern(tmp_path: Path) -> None:
    """The structured `allow` argument (what the json schema makes a small model fill): the policy shown
    allows every object of the bucket, as asked, with the proofs."""
    call = {
        "name": "synthesize_policy",
        "arguments": {"allow": [{"action": "s3:GetObject", "resource": "arn:aws:s3:::acme-reports/*"}]},
    }
    result, steps = _run(tmp_path, WRITE, "on", call)
    assert len(steps) == 1
    answer = result.answer or ""
    policy = json.loads(answer.split("```json", 1)[1].split("```", 1)[0])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-reports/*"}
    ]
    assert "allows nothing beyond them" in answer


def test_a_failed_iam_call_reads_as_its_message_not_its_json(tmp_path: Path) -> None:
    missing = {"name": "check_request", "arguments": {**CHECK["arguments"], "policy": "missing.json"}}  # type: ignore[dict-item]
    result, _ = _run(tmp_path, QUESTION, "on", missing)
    assert result.status == "error" and result.error is not None
    assert result.error.startswith("check_request: ") and "cannot read policy file" in result.error
    assert '{"error"' not in result.error and '"pointer"' not in result.error
