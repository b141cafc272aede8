"""The Python SDK through its public names: the contract users code against."""

from __future__ import annotations

import json
from pathlib import Path

import opsgraph
from opsgraph import Answer, Assistant
from sandbox.testing import SandboxCluster

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "policies"


def test_public_names() -> None:
    assert sorted(opsgraph.__all__) == ["Answer", "Assistant", "Client", "Settings", "__version__"]
    for name in opsgraph.__all__:
        assert getattr(opsgraph, name) is not None
    from opsgraph import sdk

    assert set(sdk.__all__) >= {"Answer", "Assistant", "ApprovalDecision", "ApprovalRequest", "AuditEntry"}


def test_ask_with_a_model_name_and_a_memory_checkpointer() -> None:
    with Assistant(
        model="offline", checkpoint_url="memory", start_sandbox=False, workdir=EXAMPLES
    ) as assistant:
        answer = assistant.ask("explain policy s3-read.json")
        assert isinstance(answer, Answer)
        assert answer.status == "done" and answer.route == ["iam"]
        assert assistant.settings.resolved_model() == "offline"


def test_typed_iam_calls() -> None:
    with Assistant(checkpoint_url="memory", start_sandbox=False, workdir=EXAMPLES) as assistant:
        comparison = assistant.iam.diff("s3-read.json", "s3-read-write.json")
        assert comparison.relation == "less_permissive"
        assert {c.request.action for c in comparison.counterexamples} == {"s3:PutObject"}
        inline = json.loads((EXAMPLES / "s3-read.json").read_text())
        assert assistant.iam.diff(inline, "s3-read.json").relation == "equivalent"
        result = assistant.iam.repair("s3-too-broad.json", "s3-requests.json")
        assert result.status == "repaired"
        assert result.spec_check is not None and result.spec_check.ok


def test_typed_cost_plan_on_the_sandbox(sandbox_cluster: SandboxCluster) -> None:
    with Assistant(kubeconfig=sandbox_cluster.kubeconfig, checkpoint_url="memory") as assistant:
        report = assistant.cost.plan(namespace="analytics", effort=0.25)
    assert report.recommended_monthly <= report.current_monthly
    assert report.current_monthly > 0
