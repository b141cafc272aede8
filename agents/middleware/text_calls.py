"""Tool calls that a model wrote as text, found and turned into real tool calls.

Small and older models often know which tool to call and with what, but write the call into their answer
instead of the API's `tool_calls` field: a ```json block, Hermes/Qwen `<tool_call>` tags, Mistral's
`[TOOL_CALLS]`, Llama's `<|python_tag|>`, llama.cpp's generic `{"tool_call": ...}`, a ReAct-style
`{"action": ..., "action_input": ...}`, or a Python-like `name(key="value")` line. kubectl-ai's
`--enable-tool-use-shim` is the model for this: opsgraph finds such a call only when it names a tool the
agent has, and hands the arguments on as written (the strict argument check decides whether they are valid).
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["TextCall", "find_text_calls", "looks_like_call_start", "tool_catalog"]

_ARG_KEYS = ("arguments", "args", "parameters", "input", "tool_input", "action_input", "kwargs")
_NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
_PREFIXES = ("{", "[", "```", "<tool_call>", "[TOOL_CALLS]", "<|python_tag|>", "<function", "<|tool")


@dataclass(frozen=True)
class TextCall:
    """A call found in text. `args` is what the model wrote: a dict, or a string when it was not one."""

    name: str
    args: Any
    id: str

    @property
    def raw_args(self) -> str:
        return self.args if isinstance(self.args, str) else json.dumps(self.args, ensure_ascii=False)


def looks_like_call_start(text: str) -> bool:
    """True when an answer begins the way text tool calls begin (used to hold back such streamed text)."""
    head = text.lstrip()
    return any(head.startswith(p) or p.startswith(head) for p in _PREFIXES) if head else True


def _json_values(text: str) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    i = 0
    while i < len(text):
        if text[i] in "{[":
            try:
                value, end = decoder.raw_decode(text, i)
            except json.JSONDecodeError:
                i += 1
                continue
            yield value
            i = end
        else:
            i += 1


def _as_call(value: Any, tools: Collection[str]) -> TextCall | None:
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("tool_call"), dict):  # llama.cpp's generic format
        value = value["tool_call"]
    if isinstance(value.get("function"), dict):  # an OpenAI tool-call object written out
        value = {**value["function"], "id": value.get("id")}
    name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
    key = next((k for k in _ARG_KEYS if k in value), None)
    if name not in tools or key is None:  # a call names its arguments, even when there are none: {}
        return None
    return TextCall(name=str(name), args=value[key], id=f"text_{uuid.uuid4().hex[:12]}")


_PY_CALL = re.compile(r"^\s*`?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\((?P<args>.*)\)`?\s*$")


def _python_calls(text: str, tools: Collection[str]) -> Iterator[TextCall]:
    for line in text.splitlines():
        m = _PY_CALL.match(line)
        if not m or m.group("name") not in tools:
            continue
        try:
            call = ast.parse(f"f({m.group('args')})", mode="eval").body
            if not isinstance(call, ast.Call) or call.args:
                continue
            args = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
        except (SyntaxError, ValueError):
            args_text: Any = m.group("args")
            yield TextCall(m.group("name"), args_text, f"text_{uuid.uuid4().hex[:12]}")
            continue
        yield TextCall(m.group("name"), args, f"text_{uuid.uuid4().hex[:12]}")


def find_text_calls(text: str, tools: Collection[str]) -> list[TextCall]:
    """The calls of known `tools` written in `text`, in order; empty when there is none."""
    calls: list[TextCall] = []
    for value in _json_values(text):
        items = value if isinstance(value, list) else [value]
        calls.extend(c for c in (_as_call(item, tools) for item in items) if c is not None)
    if not calls:
        calls.extend(_python_calls(text, tools))
    return calls


def tool_catalog(tools: list[dict[str, Any]], *, answer_as_json: bool = False) -> str:
    """The system-message text that describes `tools` (OpenAI schemas) to a model that gets no tool API."""
    lines = []
    for tool in tools:
        fn = tool.get("function", tool)
        params = fn.get("parameters", {})
        props = params.get("properties", {})
        required = set(params.get("required", []))
        args = ", ".join(
            f"{k}{'' if k in required else '?'}: {v.get('type', 'any')}" for k, v in props.items()
        )
        lines.append(f"- {fn['name']}({args}): {fn.get('description', '').strip().splitlines()[0]}")
    then = (
        'or answer the user with {"answer": "..."}.'
        if answer_as_json
        else "or answer the user in plain text."
    )
    return (
        "\n\nYou can call these tools:\n" + "\n".join(lines) + "\n"
        "To call a tool, answer with only one JSON object and nothing else, for example:\n"
        '{"name": "TOOL_NAME", "arguments": {"ARG": "VALUE"}}\n'
        f"After the tool result arrives, call another tool the same way {then}"
    )
