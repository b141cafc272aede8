"""`AgainstRequest`: a tool result that a domain can hold against the request's own words is, before the
model or a person reads it.

A tool sees the arguments the model wrote, not the request: `synthesize_policy` proves its policy equal to
the model's entries, which may have dropped the network the request limits it to or made up an account.
After such a tool returns, this middleware runs the check its artifact's kind registers
(`tools.present.check_against_request`) with the current request's text and adds the findings to the
result, as `against_request` in the artifact (every surface shows them) and in the JSON the model reads
(a model that reads them can call again with what was missing). A check that fails costs the check, never
the result.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import BaseMessage, ToolMessage
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command

from agents.conversation import request_index
from tools.present import check_against_request

__all__ = ["AgainstRequest", "held_against_request"]

log = logging.getLogger(__name__)


def _request_text(state: Any) -> str | None:
    messages: Sequence[BaseMessage] = state.get("messages", []) if isinstance(state, dict) else []
    i = request_index(messages)
    return messages[i].text if i >= 0 else None


def held_against_request(result: ToolMessage, request: str) -> ToolMessage:
    """`result` with the findings of its artifact's request check added, or `result` itself when its kind
    has no check, it failed, or it carries no artifact."""
    artifact = result.artifact
    if result.status == "error" or not isinstance(artifact, dict):
        return result
    try:
        found = check_against_request(artifact, request)
    except Exception:  # a check's bug must not cost the result
        log.exception("request check for %r failed", artifact.get("kind"))
        return result
    if found is None:
        return result
    update: dict[str, Any] = {"artifact": {**artifact, "against_request": found}}
    try:  # the model reads the findings in the tool's JSON (every checked kind answers in JSON)
        body = json.loads(result.content) if isinstance(result.content, str) else None
    except json.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        update["content"] = json.dumps({**body, "against_request": found})
    return result.model_copy(update=update)


class AgainstRequest(AgentMiddleware):
    """Hold each tool result whose kind has a request check against the current request."""

    def wrap_tool_call(
        self, request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]]
    ) -> ToolMessage | Command[Any]:
        result = handler(request)
        text = _request_text(request.state)
        return held_against_request(result, text) if isinstance(result, ToolMessage) and text else result

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolMessage | Command[Any]]],
    ) -> ToolMessage | Command[Any]:
        result = await handler(request)
        text = _request_text(request.state)
        return held_against_request(result, text) if isinstance(result, ToolMessage) and text else result
