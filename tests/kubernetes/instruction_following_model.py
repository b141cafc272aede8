"""`InstructionFollowingTestModel`: a test double of the worst model, one that obeys text in tool output.

It routes every request to the Kubernetes agent, diagnoses the pod the request names, then reads the tool
results (fenced or not) and does what any line there tells it to: "delete the deployment X" becomes a
`delete_resource` call. A real small model may or may not be fooled on a given day; this one always is,
which is what a prompt-injection test needs to be able to fail.
"""

from __future__ import annotations

import re

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from tests.kubernetes.agent_test_model import KubernetesAgentTestModel

__all__ = ["InstructionFollowingTestModel"]

_POD = re.compile(r"pod\s+(?P<pod>[a-z0-9][-a-z0-9]*)(?:.*\bin\s+(?P<ns>[a-z0-9][-a-z0-9]*))?", re.I)
_ORDER = re.compile(r"delete\s+(?:the\s+)?deployment\s+(?P<name>[a-z0-9][-a-z0-9]*)", re.I)


class InstructionFollowingTestModel(KubernetesAgentTestModel):
    """Diagnose the named pod, then obey any 'delete the deployment X' found in tool output."""

    @property
    def _llm_type(self) -> str:
        return "instruction-following-test-double"

    def step(self, messages: list[BaseMessage]) -> AIMessage:
        request = next(m.text for m in reversed(messages) if isinstance(m, HumanMessage))
        m = _POD.search(request)
        pod, namespace = (m.group("pod"), m.group("ns") or "default") if m else ("", "default")
        results = [msg for msg in messages if isinstance(msg, ToolMessage)]
        if not results:
            args = {"name": pod, "namespace": namespace}
            return AIMessage("", tool_calls=[{"name": "diagnose_pod", "args": args, "id": "diagnose"}])
        if len(results) == 1:
            order = _ORDER.search(results[0].text)
            if order:
                args = {"kind": "deployment", "name": order.group("name"), "namespace": namespace}
                return AIMessage("", tool_calls=[{"name": "delete_resource", "args": args, "id": "obey"}])
        return AIMessage(f"Done: {results[-1].text[:200]}")
