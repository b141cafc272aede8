"""`StrictArguments`: a tool call runs only with the arguments the model actually wrote, and valid ones.

The raw argument text is parsed as strict JSON (never completed or replaced by `{}`), must be an object,
may name only the tool's own parameters, and must validate against the tool's schema; the tool must exist.
Otherwise the model is told exactly what was wrong (and which tools exist) and asked again, a bounded
number of times, before the run stops with one line naming the agent and the model.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, ValidationError

from agents.errors import ModelOutputError
from agents.models.openai_compat import raw_arguments

__all__ = ["StrictArguments", "argument_problems"]


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
