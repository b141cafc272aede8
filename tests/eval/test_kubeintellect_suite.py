"""`kubeintellect`: the AGPL corpus read from beside the repository (never shipped), graded on the route and
the group of the Kubernetes agent's first tool call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from eval.runner import SuiteUnavailableError, run_suite
from eval.suite import RunOptions
from eval.suites.kubeintellect import corpus_dir
from tests.kubernetes.agent_test_model import KubernetesAgentTestModel

pytestmark = pytest.mark.skipif(
    not (corpus_dir() / "routing_corpus_v1.jsonl").exists(),
    reason="KubeIntellect corpus not beside the repository",
)


class FakeToolChoiceModel(KubernetesAgentTestModel):
    """Test double: routes to the kubernetes agent, then calls one fixed tool."""

    tool: str
    args: dict[str, Any]

    @property
    def _llm_type(self) -> str:
        return "fake-tool-choice"

    def step(self, messages: list[BaseMessage]) -> AIMessage:
        call = {"name": self.tool, "args": self.args, "id": "c1", "type": "tool_call"}
        return AIMessage(content="", tool_calls=[call])


def test_right_group_solves_wrong_group_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import agents.models

    good = FakeToolChoiceModel(tool="query_metrics", args={"query": "up"})
    monkeypatch.setattr(agents.models, "make_chat_model", lambda settings: good)
    outcome = run_suite("kubeintellect", RunOptions(dataset="Metrics", limit=2), tmp_path / "good")
    assert [r.status for r in outcome.results] == ["pass", "pass"]
    assert outcome.results[0].metrics["group"] == "metrics"
    wrong = FakeToolChoiceModel(tool="list_pods", args={"namespace": "default"})
    monkeypatch.setattr(agents.models, "make_chat_model", lambda settings: wrong)
    outcome = run_suite("kubeintellect", RunOptions(dataset="Metrics", limit=1), tmp_path / "wrong")
    assert outcome.results[0].status == "fail" and "wants ['metrics']" in outcome.results[0].detail["summary"]


def test_offline_model_and_a_missing_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outcome = run_suite("kubeintellect", RunOptions(dataset="Execution", limit=1), tmp_path / "offline")
    assert outcome.results[0].status == "fail" and outcome.summary["metrics"]["solved"] == 0
    monkeypatch.setenv("OPSGRAPH_KUBEINTELLECT_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SuiteUnavailableError, match=r"AGPL-3\.0, not shipped"):
        run_suite("kubeintellect", RunOptions(), tmp_path / "none")
