"""`KubernetesAgentTestModel`: the base of the scripted test doubles that drive the Kubernetes agent.

Each answers the supervisor's routing call with the Kubernetes agent, and every call of that agent with its
own `step`: one fixed tool, an exec and its echo, an audit answer, or obeying text in tool output.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agents.models.tool_binding import ToolBindingChatModel

__all__ = ["KubernetesAgentTestModel"]


class KubernetesAgentTestModel(ToolBindingChatModel):
    """Routes every request to the Kubernetes agent, then answers that agent with `step(messages)`."""

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        names = {t["function"]["name"] for t in kwargs.get("tools") or []}
        if "RouteDecision" in names:
            route = {
                "name": "RouteDecision",
                "args": {"agents": ["kubernetes"]},
                "id": "route",
                "type": "tool_call",
            }
            message = AIMessage(content="", tool_calls=[route])
        else:
            message = self.step(messages)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def step(self, messages: list[BaseMessage]) -> AIMessage:
        """The Kubernetes agent's next message."""
        raise NotImplementedError
