"""`StrictArguments`: a tool call runs only with the arguments the model actually wrote, and valid ones.

The raw argument text is parsed as strict JSON (never completed or replaced by `{}`), must be an object,
may name only the tool's own parameters, and must validate against the tool's schema; the tool must exist.
Otherwise the model is told exactly what was wrong (and which tools exist) and asked again, a bounded
number of times, before the run stops with one line naming the agent and the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from agents.errors import ModelOutputError
from agents.models.openai_compat import raw_arguments
from tools.base import tool_failure

__all__ = ["CorrectRejected", "StrictArguments", "argument_problems", "rejected_argument"]


def _fields(tool: BaseTool) -> tuple[set[str], set[str]] | None:
    """The tool's parameter names and required ones, or None when its schema is not known here."""
    schema = tool.args_schema
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        fields = schema.model_fields
        return set(fields), {n for n, f in fields.items() if f.is_required()}
    if isinstance(schema, dict):
        return set(schema.get("properties", {})), set(schema.get("required", []))
    return None


def _validation(tool: BaseTool, args: dict[str, Any]) -> str | None:
    schema = tool.args_schema
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return None
    try:
        schema.model_validate(args)
    except ValidationError as exc:
        parts = [f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()[:3]]
        return "; ".join(parts)
    return None


def _check_call(tool: BaseTool, args: Any, raw: str | None) -> str | None:
    name = tool.name
    fields = _fields(tool)
    if raw is not None:
        if not raw.strip():
            if fields and fields[1]:
                return f"{name} was called with no arguments; it needs {', '.join(sorted(fields[1]))}"
            return None
        try:
            args = json.loads(raw)
        except json.JSONDecodeError as exc:
            return f"the arguments of {name} are not valid JSON ({exc.msg} at character {exc.pos}): {raw[:200]!r}"
    if not isinstance(args, dict):
        return f"the arguments of {name} must be a JSON object, not {json.dumps(args)[:100]}"
    if fields is not None:
        unknown = sorted(set(args) - fields[0])
        if unknown:
            names = ", ".join(sorted(fields[0])) or "none"
            return f"{name} has no parameter {', '.join(unknown)} (its parameters: {names})"
    problem = _validation(tool, args)
    return f"invalid arguments for {name}: {problem}" if problem else None


def argument_problems(message: BaseMessage, tools: Mapping[str, BaseTool]) -> list[str]:
    """What is wrong with the tool calls of `message` (empty when every call may run as written)."""
    if not isinstance(message, AIMessage):
        return []
    raw = raw_arguments(message)
    problems = [
        f"the arguments of {bad.get('name') or 'a tool call'} are not valid JSON: {str(bad.get('args'))[:200]!r}"
        for bad in message.invalid_tool_calls
    ]
    for call in message.tool_calls:
        tool = tools.get(call["name"])
        if tool is None:
            problems.append(f"there is no tool {call['name']!r}; the tools are: {', '.join(tools)}")
            continue
        problem = _check_call(tool, call["args"], raw.get(call["id"] or ""))
        if problem:
            problems.append(problem)
    return problems


def _as_text(message: AIMessage) -> str:
    calls: list[dict[str, Any]] = [{"name": c["name"], "arguments": c["args"]} for c in message.tool_calls]
    calls += [{"name": c.get("name"), "arguments": c.get("args")} for c in message.invalid_tool_calls]
    written = json.dumps(calls, ensure_ascii=False) if calls else ""
    return f"{message.text}\n{written}".strip() or "(empty)"


class StrictArguments(AgentMiddleware):
    """Check every tool call of a response; ask again with the problems, at most `retries` times."""

    def __init__(self, agent: str, tools: Sequence[BaseTool], retries: int, where: str) -> None:
        super().__init__()
        self.agent, self.retries, self.where = agent, retries, where
        self.by_name: dict[str, BaseTool] = {t.name: t for t in tools}

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        attempt = request
        problems: list[str] = []
        for _ in range(self.retries + 1):
            response = handler(attempt)
            message = next((m for m in reversed(response.result) if isinstance(m, AIMessage)), None)
            problems = argument_problems(message, self.by_name) if message is not None else []
            if not problems or message is None:
                return response
            feedback: list[AnyMessage] = [
                AIMessage(_as_text(message), name=self.agent),
                HumanMessage(
                    "That tool call cannot run: " + "; ".join(problems) + ". Call the tool again with "
                    "corrected arguments (a JSON object with only the tool's own parameters), or answer "
                    "in plain text if no tool fits."
                ),
            ]
            attempt = request.override(messages=[*request.messages, *feedback])
        raise ModelOutputError(
            f"the {self.agent} agent: the model {self.where} wrote an invalid tool call "
            f"{self.retries + 1} times ({problems[0]}); try a larger model, or OPSGRAPH_TOOL_CALLS=text"
        )


_EXCEPTION = re.compile(r"^[A-Z]\w*(?:Error|Exception): ")


def rejected_argument(message: BaseMessage, tools: Mapping[str, BaseTool]) -> str | None:
    """The tool's own error when `message` is a tool result rejecting one of the tool's arguments by its
    place (`/allow/0/resource: ... is not an ARN`, `allow` a parameter of the tool), else None. Tools name
    the place of a bad argument with a JSON pointer; other failures (a missing file, a missing resource, a
    refused change) are answers, not arguments to correct."""
    if not isinstance(message, ToolMessage) or message.status != "error":
        return None
    failure = tool_failure(message.text)
    if failure is None and message.text.startswith("/"):
        failure = message.text
    if failure and failure.startswith("error: "):
        failure = tool_failure(failure)
    if not failure:
        return None
    failure = _EXCEPTION.sub("", failure, count=1)  # `ValueError: /allow/0/...` as the IAM tools report it
    tool = tools.get(message.name or "")
    fields = _fields(tool) if tool is not None else None
    head = failure.split(":", 1)[0]
    if fields is None or not head.startswith("/") or head.split("/")[1] not in fields[0]:
        return None
    return failure


class CorrectRejected(AgentMiddleware):
    """A tool rejected an argument (naming its place) and the model answered instead of calling again: ask
    once more, with the tool's error, to call it with corrected arguments; after the first `nudges`
    rejections of a request, the model's answer stands. Small models tend to explain the error back to the
    user ("the ARN needs a region") when the request itself gives what is missing. One by default: the
    1.5B model, asked again, repeated the rejected call as it was (3 of 3), so more only cost time."""

    def __init__(self, agent: str, tools: Sequence[BaseTool], nudges: int = 1) -> None:
        super().__init__()
        self.agent, self.nudges = agent, nudges
        self.by_name: dict[str, BaseTool] = {t.name: t for t in tools}

    def wrap_model_call(
        self, request: ModelRequest[Any], handler: Callable[[ModelRequest[Any]], ModelResponse[Any]]
    ) -> ModelResponse[Any]:
        response = handler(request)
        thread: list[BaseMessage] = list((request.state or {}).get("messages", []))
        error = rejected_argument(thread[-1], self.by_name) if thread else None
        if error is None:
            return response
        start = max((i for i, m in enumerate(thread) if isinstance(m, HumanMessage)), default=-1)
        if sum(rejected_argument(m, self.by_name) is not None for m in thread[start + 1 :]) > self.nudges:
            return response
        message = next((m for m in reversed(response.result) if isinstance(m, AIMessage)), None)
        if message is None or message.tool_calls or message.invalid_tool_calls:
            return response
        tool = thread[-1].name if isinstance(thread[-1], ToolMessage) else None
        feedback: list[AnyMessage] = [
            AIMessage(_as_text(message), name=self.agent),
            HumanMessage(
                f"{tool or 'The tool'} rejected that argument: {error}. Call {tool or 'it'} again with the "
                "argument corrected from what the request says; answer in plain text only if the request "
                "does not give what is needed."
            ),
        ]
        return handler(request.override(messages=[*request.messages, *feedback]))
