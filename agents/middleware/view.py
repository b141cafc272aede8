"""`ConversationView`: each model call sends the agent's view of the thread (see `agents.conversation`).

The final step's instruction (`StepLimit`) goes at the end of the view: into the last user turn (a tool
result, in the text modes) or as a user turn after the last tool result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import HumanMessage, SystemMessage

from agents.conversation import agent_view
from agents.middleware.limits import FINAL_NOTE

__all__ = ["ConversationView"]


class ConversationView(AgentMiddleware):
    """Replace the call's messages with `agent`'s view; other agents' answers go into the system message."""

    def __init__(self, agent: str, *, text_tools: bool = False) -> None:
        super().__init__()
        self.agent, self.text_tools = agent, text_tools

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        messages = list(request.messages)
        final = messages.pop() if messages and messages[-1].additional_kwargs.get(FINAL_NOTE) else None
        view = agent_view(messages, self.agent, text_tools=self.text_tools)
        system = request.system_message
        note = view.context_note()
        if note:
            system = SystemMessage(f"{system.text if system else ''}{note}".strip())
        shown = view.messages
        if final is not None:
            last = shown[-1] if shown else None
            if type(last) is HumanMessage:  # a tool result sent as a user turn: the note joins it
                shown = [
                    *shown[:-1],
                    HumanMessage(f"{last.text}\n\n{final.text}", additional_kwargs=last.additional_kwargs),
                ]
            else:
                shown = [*shown, HumanMessage(final.text)]
        return handler(request.override(messages=shown, system_message=system))
