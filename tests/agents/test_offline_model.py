from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from agents.models import OfflineChatModel
from agents.routing import RouteDecision


@tool
def scale_deployment(name: str, replicas: int, namespace: str = "default") -> str:
    """Scale a deployment."""
    return "ok"


def test_bound_tools_get_the_call_a_real_model_would_make() -> None:
    model = OfflineChatModel().bind_tools([scale_deployment])
    reply = model.invoke([HumanMessage("scale deployment web to 3 replicas in shop")])
    assert isinstance(reply, AIMessage)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("scale_deployment", {"name": "web", "replicas": 3, "namespace": "shop"})
    ]


def test_after_the_tool_result_it_answers_with_it() -> None:
    model = OfflineChatModel().bind_tools([scale_deployment])
    first = model.invoke([HumanMessage("scale deploy web to 3")])
    assert isinstance(first, AIMessage)
    call = first.tool_calls[0]
    result = ToolMessage("scaled default/web to 3", tool_call_id=call["id"] or "")
    final = model.invoke([HumanMessage("scale deploy web to 3"), first, result])
    assert isinstance(final, AIMessage)
    assert not final.tool_calls
    assert "scaled default/web to 3" in final.text


def test_structured_output_routes() -> None:
    decision = OfflineChatModel().with_structured_output(RouteDecision).invoke("optimize cost in shop")
    assert decision == RouteDecision(agents=["cost"], reply=None)


def test_streaming_yields_the_same_text_in_pieces() -> None:
    model = OfflineChatModel()
    chunks = list(model.stream("tell me a joke"))
    assert len(chunks) > 3
    assert "".join(c.text for c in chunks) == model.invoke("tell me a joke").text


def test_a_request_for_another_domain_is_not_answered_with_a_tool_call() -> None:
    reply = OfflineChatModel().bind_tools([scale_deployment]).invoke("explain policy p.json")
    assert isinstance(reply, AIMessage)
    assert reply.tool_calls == []
