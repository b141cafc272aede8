"""The cassette layer: what is recorded, and how a replay matches requests."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from eval.cassette import CassetteEntry, CassetteMissError, RecordingChatModel, ReplayChatModel


def _conversation(tool_output: str, question: str = "how many pods?") -> list[object]:
    call = {"name": "list_pods", "args": {}, "id": "c1", "type": "tool_call"}
    return [
        HumanMessage(question),
        AIMessage(content="", tool_calls=[call]),
        ToolMessage(content=tool_output, tool_call_id="c1"),
    ]


def _recorded() -> list[CassetteEntry]:
    inner = GenericFakeChatModel(
        messages=iter(
            [
                AIMessage(
                    content="3 pods",
                    usage_metadata={"input_tokens": 12, "output_tokens": 2, "total_tokens": 14},
                )
            ]
        )
    )
    model = RecordingChatModel(inner=inner, model_label="gpt-4o-mini", case_id="c")
    assert model.invoke(_conversation("pods at 10:00:01")).text == "3 pods"
    return model.entries


def test_recording_keeps_tokens_latency_and_cost() -> None:
    (entry,) = _recorded()
    assert (entry.input_tokens, entry.output_tokens) == (12, 2)
    assert entry.latency_s >= 0
    usage = entry.usage()
    assert usage.cost_usd == pytest.approx((12 * 0.15 + 2 * 0.60) / 1_000_000)


def test_replay_tolerates_changed_tool_output_but_not_a_changed_request() -> None:
    entries = _recorded()
    replay = ReplayChatModel(case_id="c", recorded=entries)
    assert replay.invoke(_conversation("pods at 10:07:55")).text == "3 pods"
    fresh = ReplayChatModel(case_id="c", recorded=entries)
    with pytest.raises(CassetteMissError, match="no recorded response"):
        fresh.invoke(_conversation("pods at 10:00:01", question="how many nodes?"))


def test_unknown_model_has_no_cost() -> None:
    entry = _recorded()[0].model_copy(update={"model": "some-local-model"})
    assert entry.usage().cost_usd is None
