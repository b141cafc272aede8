"""`ConversationView`: each model call sends the agent's view of the thread (see `agents.conversation`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import SystemMessage

from agents.conversation import agent_view

__all__ = ["ConversationView"]


class ConversationView(AgentMiddleware):
    """Replace the call's messages with `agent`'s view; other agents' answers go into the system message."""

    def __init__(self, agent: str, *, text_tools: bool = False) -> None:
        super().__init__()
        self.agent, self.text_tools = agent, text_tools

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        view = agent_view(request.messages, self.agent, text_tools=self.text_tools)
        system = request.system_message
        note = view.context_note()
        if note:
            system = SystemMessage(f"{system.text if system else ''}{note}".strip())
        return handler(request.override(messages=view.messages, system_message=system))
