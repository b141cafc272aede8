"""`StepLimit`: an agent gets a bounded number of model calls per request, then the run stops clearly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, HumanMessage

from agents.errors import StepLimitError

__all__ = ["StepLimit"]


class StepLimit(AgentMiddleware):
    """Refuse the model call that would exceed `max_steps` calls of `agent` for the current request.

    The count comes from the thread itself (the agent's messages since the request), so it holds across
    an approval pause and a resume in another process.
    """

    def __init__(self, agent: str, max_steps: int, where: str) -> None:
        super().__init__()
        self.agent, self.max_steps, self.where = agent, max_steps, where

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        messages = request.messages
        start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        steps = sum(isinstance(m, AIMessage) and m.name == self.agent for m in messages[start + 1 :])
        if steps >= self.max_steps:
            raise StepLimitError(
                f"the {self.agent} agent stopped after {steps} model calls without an answer "
                f"(model {self.where}); raise OPSGRAPH_AGENT_MAX_STEPS or rephrase the request"
            )
        return handler(request)
