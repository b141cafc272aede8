"""Tool calls written as text, in the forms small models use, become calls; prose and data do not."""

from __future__ import annotations

import pytest

from agents.middleware.text_calls import find_text_calls, looks_like_call_start, tool_catalog

TOOLS = {"list_pods", "scale_deployment"}


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"name": "list_pods", "arguments": {"namespace": "shop"}}\n```',
        'Sure.\n<tool_call>\n{"name": "list_pods", "arguments": {"namespace": "shop"}}\n</tool_call>',
        '[TOOL_CALLS] [{"name": "list_pods", "arguments": {"namespace": "shop"}}]',
        '<|python_tag|>{"name": "list_pods", "parameters": {"namespace": "shop"}}',
        '{"tool_call": {"name": "list_pods", "arguments": {"namespace": "shop"}}}',
        '{"action": "list_pods", "action_input": {"namespace": "shop"}}',
        '{"type": "function", "function": {"name": "list_pods", "arguments": {"namespace": "shop"}}}',
        'list_pods(namespace="shop")',
    ],
)
def test_each_written_form_becomes_the_call(text: str) -> None:
    (call,) = find_text_calls(text, TOOLS)
    assert call.name == "list_pods" and call.args == {"namespace": "shop"}


def test_arguments_written_as_a_string_are_kept_as_written_for_the_strict_check() -> None:
    (call,) = find_text_calls('{"name": "list_pods", "arguments": "{\\"namespace\\": \\"shop\\"}"}', TOOLS)
    assert call.args == '{"namespace": "shop"}' and call.raw_args == '{"namespace": "shop"}'


def test_several_calls_keep_their_order() -> None:
    text = (
        '[{"name": "list_pods", "arguments": {}}, {"name": "scale_deployment", "arguments": {"replicas": 2}}]'
    )
    assert [c.name for c in find_text_calls(text, TOOLS)] == ["list_pods", "scale_deployment"]


@pytest.mark.parametrize(
    "text",
    [
        "There are two pods: web-1 and web-2.",
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}',
        '{"name": "list_pods", "result": "web-1 Running"}',  # an echo of a result names no arguments
        '{"name": "delete_everything", "arguments": {}}',  # not a tool of this agent
        "Use list_pods to see them.",
    ],
)
def test_prose_policies_echoes_and_unknown_names_are_not_calls(text: str) -> None:
    assert find_text_calls(text, TOOLS) == []


def test_streamed_text_that_starts_like_a_call_is_recognised_early() -> None:
    assert looks_like_call_start("```") and looks_like_call_start("  {") and looks_like_call_start("<tool")
    assert not looks_like_call_start("There are")


def test_the_catalog_names_each_tool_with_its_arguments() -> None:
    schema = {
        "type": "function",
        "function": {
            "name": "scale_deployment",
            "description": "Scale a deployment.\nMore text.",
            "parameters": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "replicas": {"type": "integer"}},
                "required": ["name"],
            },
        },
    }
    text = tool_catalog([schema])
    assert "- scale_deployment(name: string, replicas?: integer): Scale a deployment." in text
    assert '{"name": "TOOL_NAME", "arguments": {"ARG": "VALUE"}}' in text
