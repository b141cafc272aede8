"""Whatever a thread holds, each agent's model call gets a history strict chat templates accept."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage

from agents.conversation import agent_view, prior_turns, shape_problems
from tests.scripted_openai_server import strict_template_problems

AGENTS = ("kubernetes", "iam", "cost")


@st.composite
def threads(draw: st.DrawFn) -> tuple[list[AnyMessage], str]:
    """A thread of earlier requests plus a current one that `agent` is in the middle of handling."""
    messages: list[AnyMessage] = []
    n = 0
    turns = draw(st.integers(0, 4))
    for turn in range(turns + 1):
        messages.append(HumanMessage(f"request {turn}"))
        route = draw(st.lists(st.sampled_from(AGENTS), min_size=0, max_size=3, unique=True))
        current = turn == turns
        if current and not route:
            route = [draw(st.sampled_from(AGENTS))]
        for position, agent in enumerate(route):
            last = current and position == len(route) - 1
            for _ in range(draw(st.integers(0, 3))):
                n += 1
                call = {"name": "tool", "args": {"n": n}, "id": f"c{n}", "type": "tool_call"}
                messages.append(AIMessage("", name=agent, tool_calls=[call]))
                messages.append(ToolMessage(f"result {n}", tool_call_id=f"c{n}", name="tool"))
            if not last and draw(st.booleans()):
                messages.append(AIMessage(f"answer of {agent}", name=agent))
        if not current and len(route) > 1 and draw(st.booleans()):
            messages.append(AIMessage("combined", name="supervisor"))
    return messages, route[-1]


@settings(max_examples=300, deadline=None)
@given(threads(), st.booleans())
def test_every_view_is_well_formed_and_ends_with_the_request_or_own_results(
    thread: tuple[list[AnyMessage], str], text_tools: bool
) -> None:
    messages, agent = thread
    view = agent_view(messages, agent, text_tools=text_tools)
    assert shape_problems(view.messages) == []
    last_human = [m for m in view.messages if isinstance(m, HumanMessage)][-1 if not text_tools else 0]
    if not text_tools:
        assert last_human.text == messages[max(i for i, m in enumerate(messages) if m.type == "human")].text
    own_results = [m for m in view.messages if isinstance(m, ToolMessage)]
    assert all(m.tool_call_id.startswith("c") for m in own_results)
    assert not any(isinstance(m, AIMessage) and m.name not in (agent, None) for m in view.messages)


def test_the_second_agent_gets_the_first_agents_answer_as_context_not_as_a_turn() -> None:
    messages: list[AnyMessage] = [
        HumanMessage("list pods and explain policy p.json"),
        AIMessage("", name="kubernetes", tool_calls=[{"name": "list_pods", "args": {}, "id": "a"}]),
        ToolMessage("web-1 Running", tool_call_id="a", name="list_pods"),
        AIMessage("One pod, web-1.", name="kubernetes"),
    ]
    view = agent_view(messages, "iam")
    assert [m.type for m in view.messages] == ["human"]
    assert view.others == [("kubernetes", "One pod, web-1.")] and "One pod, web-1." in view.context_note()


def test_earlier_turns_keep_only_requests_and_final_answers_in_alternation() -> None:
    messages: list[AnyMessage] = [
        HumanMessage("first"),
        AIMessage("", name="iam", tool_calls=[{"name": "explain", "args": {}, "id": "a"}]),
        ToolMessage("x", tool_call_id="a"),
        AIMessage("It allows reads.", name="iam"),
        HumanMessage("second"),  # ended without an answer (a model error)
        HumanMessage("third"),
    ]
    assert [(m.type, m.text) for m in prior_turns(messages)] == [
        ("human", "first"),
        ("ai", "It allows reads."),
        ("human", "second"),
        ("ai", "(this request ended without an answer)"),
    ]


def test_shape_rules_agree_with_the_scripted_servers_strict_template() -> None:
    bad: list[AnyMessage] = [HumanMessage("q"), AIMessage("a"), AIMessage("b")]
    as_dicts = [{"role": {"human": "user", "ai": "assistant"}[m.type], "content": m.text} for m in bad]
    assert shape_problems(bad) and strict_template_problems(as_dicts)
