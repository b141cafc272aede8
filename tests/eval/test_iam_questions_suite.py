"""`iam-questions`: plain-words IAM requests through the product, graded by the Z3 engine, never by text.

The model is `ScriptedOpenAIServer` over real HTTP: it routes to the IAM agent, calls `check_request` the
way a capable model does and answers from the tool's decision, except where a test makes it wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.answers import is_tool_json, policies_in, verdict
from eval.datasets import load_iam_questions
from eval.runner import run_suite
from eval.suite import RunOptions
from eval.suites.iam_questions import _grade_write
from tests.scripted_openai_server import Reply, ScriptedOpenAIServer, tool_call

QUESTIONS = {q.text: q for q in load_iam_questions()}
BROAD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def _user_request(body: dict[str, Any]) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user" and m["content"] in QUESTIONS)


def _script(wrong: set[str]) -> Any:
    def script(body: dict[str, Any]) -> Reply:
        if "response_format" in body:
            return Reply(content=json.dumps({"agents": ["iam"], "reply": None}))
        q = QUESTIONS[_user_request(body)]
        results = [m["content"] for m in body["messages"] if m["role"] == "tool"]
        if q.kind == "write":
            policy = BROAD if q.id in wrong else q.reference
            return Reply(content=f"Here is the policy:\n```json\n{json.dumps(policy, indent=1)}\n```")
        if not results:
            args = {"policy": "policy.json", "request": json.dumps(q.request)}
            return Reply(tool_calls=[tool_call("check_request", args)])
        allowed = '"decision": "Allowed"' in results[-1]
        if q.id in wrong:
            allowed = not allowed
        return Reply(content="Yes, that is allowed." if allowed else "No: the policy does not allow it.")

    return script


def test_answers_are_graded_against_the_engines_decision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = {"check-09", "write-04"}
    with ScriptedOpenAIServer(_script(wrong)) as server:
        monkeypatch.setenv("OPSGRAPH_BASE_URL", server.base_url)
        monkeypatch.setenv("OPSGRAPH_MODEL", "scripted-iam")
        outcome = run_suite(
            "iam-questions", RunOptions(dataset="check-01"), tmp_path / "one"
        )  # a dataset filter by id
        assert [r.id for r in outcome.results] == ["check-01"]
        outcome = run_suite("iam-questions", RunOptions(limit=8, workers=2), tmp_path / "run")
    assert server.rejected == []
    by_id = {r.id: r for r in outcome.results}
    assert {r.metrics["kind"] for r in outcome.results} == {"check", "write"}
    for case_id, result in by_id.items():
        assert result.status == ("fail" if case_id in wrong else "pass"), (case_id, result.detail)
        assert result.metrics["tool_json_answer"] is False
    checks = [r for r in outcome.results if r.metrics["kind"] == "check"]
    assert all(r.metrics["grounded"] and r.metrics["tools"] == ["check_request"] for r in checks)
    assert {r.metrics["truth"] for r in checks} == {"allow", "deny"}
    assert by_id["write-04"].metrics["relation"] == "incomparable" and "check-09" in by_id
    summary = outcome.summary["metrics"]
    assert summary["pass_rate"]["all"] == round(sum(r.status == "pass" for r in outcome.results) / 8, 4)


def test_writing_is_graded_by_proof_against_the_reference() -> None:
    q = next(q for q in load_iam_questions() if q.id == "write-01")
    assert q.reference is not None
    ok, relation, _ = _grade_write(f"```json\n{json.dumps(q.reference)}\n```", q.reference, q.must_allow)
    assert (ok, relation) == (True, "equivalent")
    get_only = {"Version": "2012-10-17", "Statement": [dict(q.reference["Statement"][0])]}
    ok, relation, summary = _grade_write(json.dumps(get_only), q.reference, q.must_allow)
    assert (ok, relation) == (False, "less_permissive") and "s3:ListBucket" in summary
    ok, relation, _ = _grade_write(json.dumps(BROAD), q.reference, q.must_allow)
    assert (ok, relation) == (False, "more_permissive")
    assert _grade_write("I would allow s3:GetObject.", q.reference, q.must_allow)[:2] == (False, "no_policy")
    broken = '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}'
    assert _grade_write(broken, q.reference, q.must_allow)[:2] == (False, "invalid_policy")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("Yes, the role analyst can read q1.csv.", "allow"),
        ("No. The policy only allows s3:GetObject and s3:ListBucket.", "deny"),
        ("The request is not allowed: no statement matches it.", "deny"),
        ("It is ExplicitlyDenied by the statement KeepProd.", "deny"),
        ("The role cannot delete it.", "deny"),
        (
            'The model gave no answer of its own; here is what the tools returned.\n\n{"decision": "Allowed"}',
            "allow",
        ),
        ("The model returned no answer and called no tool for this request.", "unclear"),
        (
            'The model gave no answer of its own; here is what the tools returned.\n\n{"error": "No such file"}',
            "unclear",
        ),
        ("I looked at the policy file.", "unclear"),
    ],
)
def test_the_claim_an_answer_makes(answer: str, said: str) -> None:
    assert verdict(answer) == said


def test_a_copy_of_the_question_is_not_a_claim() -> None:
    question = "Can the role dev launch EC2 instances?"
    assert verdict(f"I did not understand {question!r}.", question) == "unclear"


def test_policies_and_tool_json_in_answers() -> None:
    nested = json.dumps({"status": "proven", "policy": BROAD})
    assert policies_in(f"Done: {nested} and more") == [BROAD]
    assert policies_in("no JSON here {not json}") == []
    assert is_tool_json('```json\n{"results": []}\n```', ["check_request"])
    assert is_tool_json('{"name": "check_request", "arguments": {"policy": "p.json"}}', ["check_request"])
    assert not is_tool_json("The request is allowed.", ["check_request"])
