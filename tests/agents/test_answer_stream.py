"""What streams to a person: answers token by token, never a tool call written as text."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AIMessageChunk

from agents.streaming import AnswerStream


def _feed(stream: AnswerStream, text: str, step: int = 3, message_id: str = "m") -> str:
    shown = ""
    for i in range(0, len(text), step):
        shown += "".join(stream.chunk(AIMessageChunk(content=text[i : i + step], id=message_id)))
    return shown


def test_prose_streams_and_the_rest_arrives_with_the_message() -> None:
    stream = AnswerStream()
    text = "There are two pods in shop, both running."
    shown = _feed(stream, text)
    assert 0 < len(shown) < len(text) and text.startswith(shown)  # the tail waits for the message
    shown += "".join(stream.complete(AIMessage(text, id="m")))
    assert shown == text


def test_a_message_that_is_a_call_never_streams() -> None:
    stream = AnswerStream()
    call = '```json\n{"name": "list_pods", "arguments": {"namespace": "shop"}}\n```'
    assert _feed(stream, call) == ""
    converted = AIMessage("", id="m", tool_calls=[{"name": "list_pods", "args": {}, "id": "c"}])
    assert list(stream.complete(converted)) == []


def test_prose_then_a_call_stops_where_the_call_begins() -> None:
    stream = AnswerStream()
    shown = _feed(stream, 'I will list them.\n<tool_call>{"name": "list_pods", "arguments": {}}</tool_call>')
    assert shown == "I will list them.\n"


def test_a_code_block_in_a_real_answer_is_shown_when_the_answer_completes() -> None:
    stream = AnswerStream()
    text = "Apply this:\n```yaml\nreplicas: 3\n```\nThen check the rollout."
    shown = _feed(stream, text)
    shown += "".join(stream.complete(AIMessage(text, id="m")))
    assert shown == text


def test_raw_json_is_held_for_the_answer_fallback_which_is_shown_instead() -> None:
    stream = AnswerStream()
    assert _feed(stream, '{"pods": ["web-1"]}') == ""
    assert list(stream.complete(AIMessage('{"pods": ["web-1"]}', id="m"))) == []
    assert "".join(stream.complete(AIMessage("**list_pods**: web-1", id="m"))) == "**list_pods**: web-1"


def test_the_offline_model_streams_everything() -> None:
    stream = AnswerStream(hold_calls=False)
    assert _feed(stream, '{"a": 1} and more') == '{"a": 1} and more'
