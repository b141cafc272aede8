"""`k8s-tasks`: setup on a real sandbox, the supervisor's answer graded by upstream's checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage

from eval.runner import run_suite
from eval.suite import RunOptions
from eval.suites.k8s_tasks import grade_expect, same_egress
from tests.kubernetes.agent_test_model import KubernetesAgentTestModel


class FakeAuditModel(KubernetesAgentTestModel):
    """Test double: routes to the kubernetes agent, then answers with a fixed audit result."""

    answer: str

    @property
    def _llm_type(self) -> str:
        return "fake-audit"

    def step(self, messages: list[BaseMessage]) -> AIMessage:
        return AIMessage(content=self.answer)


def test_gatekeeper_audit_graded_on_the_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import agents.models

    answer = "Checked every Service.\nVIOLATING: resource-002"
    monkeypatch.setattr(agents.models, "make_chat_model", lambda settings: FakeAuditModel(answer=answer))
    outcome = run_suite("k8s-tasks", RunOptions(dataset="gatekeeper/allowed-ip"), tmp_path / "good")
    (result,) = outcome.results
    assert result.status == "pass", result.detail
    assert result.metrics["route"] == ["kubernetes"]

    wrong = "VIOLATING: resource-001\nVIOLATING: resource-002"
    monkeypatch.setattr(agents.models, "make_chat_model", lambda settings: FakeAuditModel(answer=wrong))
    outcome = run_suite("k8s-tasks", RunOptions(dataset="gatekeeper/allowed-ip"), tmp_path / "bad")
    assert outcome.results[0].status == "fail"
    assert "must not say 'VIOLATING: resource-001'" in outcome.results[0].detail["summary"]


def test_offline_model_runs_the_tasks_and_fails_them_honestly(tmp_path: Path) -> None:
    outcome = run_suite("k8s-tasks", RunOptions(limit=1), tmp_path)
    assert [r.status for r in outcome.results] == ["fail"]
    assert outcome.summary["metrics"]["not_graded"] == [
        "debug-app-logs",
        "fix-oomkilled",
        "setup-dev-cluster",
    ]


def test_grading_helpers() -> None:
    expect = [{"contains": "VIOLATING: a"}, {"notContains": "VIOLATING: b"}]
    assert grade_expect("VIOLATING: a", expect) == []
    assert len(grade_expect("VIOLATING: b", expect)) == 2
    desired = [{"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]
    actual = [{"ports": [{"port": "53", "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}], "to": None}]
    assert same_egress(actual, desired)
    assert not same_egress([{"ports": [{"protocol": "TCP", "port": 53}]}], desired)
