"""`StepLimit`: an agent gets a bounded number of model calls per request, and its last one is an answer.

When the agent has one call left, or has just repeated a tool call it already made for this request (same
tool, same arguments: small models loop like that), the call is made without tools and with an instruction
to answer from the results it has. The instruction is the last user turn (`final_note`), never a change
to the system message: what the model has read so far stays a prefix a prompt cache can serve. A model
that still does not stop ends the run with one clear line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agents.errors import StepLimitError

__all__ = ["FINAL_NOTE", "FINAL_STEP_NOTE", "StepLimit", "final_note"]

FINAL_STEP_NOTE = (
    "You have the tool results you need (or cannot get more): do not call tools now. Answer the "
    "user's request in a few sentences from the results above, and say plainly what is missing."
)
FINAL_NOTE = "opsgraph_final_note"
"""Key of `additional_kwargs` that marks the final step's instruction among a call's messages."""


def final_note() -> HumanMessage:
    """The final step's instruction, which `ConversationView` puts at the end of the agent's view."""
    return HumanMessage(FINAL_STEP_NOTE, additional_kwargs={FINAL_NOTE: True})


def _repeated_call(own: Sequence[AIMessage]) -> bool:
    """True when the latest step only repeats calls made earlier for the same request."""
    if len(own) < 2 or not own[-1].tool_calls:
        return False
    seen = {(c["name"], json.dumps(c["args"], sort_keys=True)) for m in own[:-1] for c in m.tool_calls}
    return all((c["name"], json.dumps(c["args"], sort_keys=True)) in seen for c in own[-1].tool_calls)


def _own_steps(messages: Sequence[BaseMessage], agent: str) -> list[AIMessage]:
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    return [m for m in messages[start + 1 :] if isinstance(m, AIMessage) and m.name == agent]


class StepLimit(AgentMiddleware):
    """At most `max_steps` model calls of `agent` per request, the last one without tools.

    The count comes from the thread itself (the agent's messages since the request), so it holds across
    an approval pause and a resume in another process.
    """

    def __init__(self, agent: str, max_steps: int, where: str) -> None:
        super().__init__()
        self.agent, self.max_steps, self.where = agent, max_steps, where

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        own = _own_steps(request.messages, self.agent)
        if len(own) >= self.max_steps:
            raise StepLimitError(
                f"the {self.agent} agent stopped after {len(own)} model calls without an answer "
                f"(model {self.where}); raise OPSGRAPH_AGENT_MAX_STEPS or rephrase the request"
            )
        if not request.tools or not (len(own) >= self.max_steps - 1 or _repeated_call(own)):
            return handler(request)
        response = handler(request.override(tools=[], messages=[*request.messages, final_note()]))
        if any(isinstance(m, AIMessage) and m.tool_calls for m in response.result):
            raise StepLimitError(
                f"the {self.agent} agent kept calling tools after {len(own) + 1} model calls instead of "
                f"answering (model {self.where}); raise OPSGRAPH_AGENT_MAX_STEPS or rephrase the request"
            )
        return response
