"""What opsgraph sends a real OpenAI-compatible server, and how it copes with what comes back.

Every test runs the real client path (ChatOpenAI over HTTP, streaming) against `ScriptedOpenAIServer`,
which rejects message lists that strict chat templates reject, as llama.cpp and vLLM do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.tools import BaseTool, StructuredTool

from agents.errors import ModelError, ModelOutputError, StepLimitError
from agents.events import InterruptEvent, TokenEvent, ToolCallEvent
from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from opsgraph.settings import Settings
from tests.agents.recording_tools import RecordingCluster
from tests.scripted_openai_server import Reply, ScriptedOpenAIServer, tool_call

Script = Callable[[dict[str, Any]], Reply]


def route(*agents: str) -> Reply:
    return Reply(content=json.dumps({"agents": list(agents), "reply": None}))


def is_routing(body: dict[str, Any]) -> bool:
    return "response_format" in body


def agent_of(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""
    for agent, words in (
        ("kubernetes", "Kubernetes operations agent"),
        ("iam", "IAM agent"),
        ("cost", "cost"),
    ):
        if words in system:
            return agent
    return "router"


def results_so_far(body: dict[str, Any]) -> list[str]:
    """The tool results after the last user message (what this agent has done for the request)."""
    messages = body["messages"]
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    return [m["content"] for m in messages[last_user + 1 :] if m["role"] == "tool"]


def last_user(body: dict[str, Any]) -> str:
    return str(next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user"))


def runtime_for(server: ScriptedOpenAIServer, cluster: RecordingCluster, **settings: Any) -> Runtime:
    tools: dict[str, list[BaseTool]] = cluster.tools()  # type: ignore[assignment]
    config = Settings(model="scripted-model", base_url=server.base_url, checkpoint_url="memory", **settings)
    return Runtime(config, tools=tools)  # type: ignore[arg-type]


def test_a_cross_domain_request_sends_every_agent_a_well_formed_history() -> None:
    request = "list the pods in shop and explain policy p.json"

    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes", "iam")
        agent, done = agent_of(body), results_so_far(body)
        if agent == "kubernetes":
            return (
                Reply("One pod, web-1, is running.")
                if done
                else Reply(tool_calls=[tool_call("list_pods", {"namespace": "shop"})])
            )
        return (
            Reply("It allows reading one bucket.")
            if done
            else Reply(tool_calls=[tool_call("explain_policy", {"policy": "p.json"})])
        )

    cluster = RecordingCluster()
    with ScriptedOpenAIServer(script) as server, runtime_for(server, cluster) as runtime:
        first = runtime.run(request, thread_id="t1")
        second = runtime.run("and again, list the pods in shop and explain policy p.json", thread_id="t1")
    assert server.rejected == []  # no request a strict template would refuse
    assert first.status == second.status == "done" and first.route == ["kubernetes", "iam"]
    assert "web-1" in (first.answer or "") and "one bucket" in (first.answer or "")
    agent_calls = [b for b in server.requests if not is_routing(b)]
    assert len(agent_calls) == 8
    for body in agent_calls:  # each agent sees the user's request as its last user turn
        assert last_user(body).startswith(("list the pods", "and again"))
    iam_call = next(b for b in agent_calls if agent_of(b) == "iam")
    assert "web-1" in iam_call["messages"][0]["content"]  # the kubernetes answer is context, not a turn
    assert [c[0] for c in cluster.calls] == ["list_pods", "explain_policy"] * 2


def test_every_call_sends_the_token_limit_and_temperature() -> None:
    def script(body: dict[str, Any]) -> Reply:
        return route("kubernetes") if is_routing(body) else Reply("fine")

    with ScriptedOpenAIServer(script) as server, runtime_for(server, RecordingCluster()) as runtime:
        runtime.run("list the pods in shop", thread_id="t")
    routing = [b for b in server.requests if is_routing(b)]
    # langchain-openai sends the limit as max_completion_tokens, which llama.cpp, vLLM and Ollama accept
    assert routing and all((b.get("max_completion_tokens") or b.get("max_tokens")) == 160 for b in routing)


def test_a_tool_call_written_as_text_runs_and_stops_at_the_gate() -> None:
    written = (
        'I will scale it.\n```json\n{"name": "scale_deployment", "arguments": '
        '{"name": "web", "replicas": 3, "namespace": "shop"}}\n```'
    )

    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        return Reply("Scaled web to 3.") if results_so_far(body) else Reply(written)

    cluster = RecordingCluster()
    with ScriptedOpenAIServer(script) as server, runtime_for(server, cluster) as runtime:
        events = list(runtime.stream("scale deploy web to 3 in shop", thread_id="t"))
        assert [e.tool for e in events if isinstance(e, ToolCallEvent)] == ["scale_deployment"]
        assert any(isinstance(e, InterruptEvent) for e in events) and cluster.calls == []
        assert not any("scale_deployment" in e.text for e in events if isinstance(e, TokenEvent))
        done = runtime.resume("t", ApprovalDecision(decision="approve"))
    assert done.status == "done" and done.answer == "Scaled web to 3."
    assert cluster.calls == [("scale_deployment", {"name": "web", "replicas": 3, "namespace": "shop"})]
    assert server.rejected == []


@pytest.mark.parametrize(
    "broken",
    ['{"namespace": "sh', "{namespace: shop}", "null", "[]", '{"namespace": "shop"} trailing'],
)
def test_malformed_arguments_go_back_to_the_model_and_never_run(broken: str) -> None:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        if results_so_far(body):
            return Reply("One pod.")
        if "cannot run" in last_user(body):  # the model read the problem and corrects itself
            return Reply(tool_calls=[tool_call("list_pods", {"namespace": "shop"})])
        return Reply(tool_calls=[tool_call("list_pods", broken)])

    cluster = RecordingCluster()
    with ScriptedOpenAIServer(script) as server, runtime_for(server, cluster) as runtime:
        result = runtime.run("list the pods in shop", thread_id="t")
    assert result.answer == "One pod."
    assert cluster.calls == [("list_pods", {"namespace": "shop"})]  # never namespace "default"
    feedback = next(last_user(b) for b in server.requests if "cannot run" in last_user(b))
    assert "list_pods" in feedback and ("JSON" in feedback or "object" in feedback)


def test_a_model_that_never_writes_valid_arguments_ends_the_run_with_one_line() -> None:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        return Reply(tool_calls=[tool_call("scale_deployment", '{"name": "web", "replicas": "many"}')])

    cluster = RecordingCluster()
    with (
        ScriptedOpenAIServer(script) as server,
        runtime_for(server, cluster, tool_retries=1) as runtime,
        pytest.raises(ModelOutputError) as caught,
    ):
        runtime.run("scale web in shop", thread_id="t")
    message = str(caught.value)
    assert "\n" not in message and "kubernetes agent" in message and "scripted-model at" in message
    assert "replicas" in message and cluster.calls == []
    assert len([b for b in server.requests if not is_routing(b)]) == 2  # one try and one retry


def test_an_unknown_tool_gets_the_list_of_tools() -> None:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        if results_so_far(body):
            return Reply("done")
        if "there is no tool" in last_user(body):
            return Reply(tool_calls=[tool_call("list_pods", {"namespace": "shop"})])
        return Reply(tool_calls=[tool_call("kubectl_get_pods", {"namespace": "shop"})])

    cluster = RecordingCluster()
    with ScriptedOpenAIServer(script) as server, runtime_for(server, cluster) as runtime:
        assert runtime.run("list the pods in shop", thread_id="t").answer == "done"
    feedback = next(last_user(b) for b in server.requests if "there is no tool" in last_user(b))
    assert "list_pods" in feedback and "scale_deployment" in feedback


def test_a_tool_call_loop_stops_at_the_step_limit_and_the_thread_goes_on() -> None:
    state = {"loop": True}

    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        if state["loop"]:
            return Reply(tool_calls=[tool_call("list_pods", {"namespace": "shop"})])
        return Reply("Here are the pods.")

    cluster = RecordingCluster()
    with ScriptedOpenAIServer(script) as server, runtime_for(server, cluster, agent_max_steps=3) as runtime:
        with pytest.raises(StepLimitError, match="kubernetes agent kept calling tools after 3 model calls"):
            runtime.run("list the pods in shop", thread_id="t")
        assert len(cluster.calls) == 2  # the third call had no tools to offer, and its call never ran
        steps = [b for b in server.requests if not is_routing(b)]
        final = steps[2]
        assert "tools" not in final and "do not call tools now" in final["messages"][-1]["content"]
        assert final["messages"][-1]["role"] == "user"
        # the system message is the one the earlier steps sent: a prompt cache keeps serving it
        assert final["messages"][0] == steps[1]["messages"][0] == steps[0]["messages"][0]
        assert final["messages"][: len(steps[1]["messages"])] == steps[1]["messages"]
        state["loop"] = False
        again = runtime.run("list the pods in shop, please", thread_id="t")
    assert again.status == "done" and again.answer == "Here are the pods."
    assert server.rejected == []


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(status=500, error="CUDA out of memory"), "answered HTTP 500 (the kubernetes agent): CUDA"),
        (Reply(status=400, error="context length exceeded"), "HTTP 400 (the kubernetes agent)"),
        (Reply(content="", finish_reason="length"), None),
    ],
)
def test_server_errors_are_one_line_naming_model_endpoint_and_agent(
    reply: Reply, expected: str | None
) -> None:
    def script(body: dict[str, Any]) -> Reply:
        return route("kubernetes") if is_routing(body) else reply

    with ScriptedOpenAIServer(script) as server, runtime_for(server, RecordingCluster()) as runtime:
        if expected is None:  # a cut-off empty answer is answered from the (absent) tool results
            result = runtime.run("list the pods in shop", thread_id="t")
            assert result.status == "done" and "no answer" in (result.answer or "")
            return
        with pytest.raises(ModelError) as caught:
            runtime.run("list the pods in shop", thread_id="t")
    message = str(caught.value)
    assert expected in message and server.base_url in message and "\n" not in message


def test_no_answer_after_a_tool_is_answered_from_the_tool_results() -> None:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        if results_so_far(body):
            return Reply('{"name": "list_pods", "result": "shop: web-1 Running"}')  # raw JSON, no answer
        return Reply(tool_calls=[tool_call("list_pods", {"namespace": "shop"})])

    with ScriptedOpenAIServer(script) as server, runtime_for(server, RecordingCluster()) as runtime:
        events = list(runtime.stream("list the pods in shop", thread_id="t"))
    answer = events[-1].answer  # type: ignore[union-attr]
    assert "shop: web-1 Running" in answer and "list_pods" in answer and not answer.startswith("{")
    shown = "".join(e.text for e in events if isinstance(e, TokenEvent))
    assert '{"name"' not in shown and "web-1 Running" in shown
    assert server.rejected == []


def test_a_huge_answer_is_cut() -> None:
    def script(body: dict[str, Any]) -> Reply:
        return route("kubernetes") if is_routing(body) else Reply("word " * 200_000)

    with ScriptedOpenAIServer(script) as server, runtime_for(server, RecordingCluster()) as runtime:
        result = runtime.run("list the pods in shop", thread_id="t")
    assert result.answer is not None and len(result.answer) <= 12_100 and "answer cut" in result.answer
    assert server.rejected == []


def test_only_the_tools_a_request_needs_are_bound() -> None:
    def extra(name: str, doc: str) -> BaseTool:
        def fn(namespace: str = "default") -> str:
            return name

        fn.__doc__ = doc
        return StructuredTool.from_function(fn, name=name)

    cluster = RecordingCluster()
    tools = cluster.tools()
    noise = [extra(f"noise_{i}", f"Unrelated tool number {i} about widgets.") for i in range(20)]
    tools["kubernetes"] = [*noise, *tools["kubernetes"]]

    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        return Reply("ok")

    with ScriptedOpenAIServer(script) as server:
        settings = Settings(
            model="scripted-model", base_url=server.base_url, checkpoint_url="memory", max_tools=4
        )
        with Runtime(settings, tools=tools) as runtime:  # type: ignore[arg-type]
            runtime.run("scale the deployment web to 3 replicas in shop", thread_id="t")
    (agent_call,) = [b for b in server.requests if not is_routing(b)]
    names = [t["function"]["name"] for t in agent_call["tools"]]
    assert len(names) == 4 and "scale_deployment" in names


def test_routing_output_that_does_not_parse_is_retried_then_routed_by_words() -> None:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return Reply("I think the kubernetes agent should do this!")
        return Reply("Two pods.")

    with ScriptedOpenAIServer(script) as server, runtime_for(server, RecordingCluster()) as runtime:
        result = runtime.run("how many pods run in shop?", thread_id="t")
    assert result.route == ["kubernetes"] and result.answer == "Two pods."
    assert len([b for b in server.requests if is_routing(b)]) == 2  # one retry with the error, then words
    assert server.rejected == []


def test_a_single_domain_request_runs_one_agent_even_if_the_model_lists_several() -> None:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes", "iam", "cost")
        return Reply("Two pods.")

    with ScriptedOpenAIServer(script) as server, runtime_for(server, RecordingCluster()) as runtime:
        result = runtime.run("how many pods run in namespace shop?", thread_id="t")
    assert result.route == ["kubernetes"]
    assert server.rejected == []


def test_an_answer_cut_at_the_token_limit_says_so() -> None:
    def script(body: dict[str, Any]) -> Reply:
        if is_routing(body):
            return route("kubernetes")
        return Reply("There are three pods and the first one", finish_reason="length")

    with ScriptedOpenAIServer(script) as server, runtime_for(server, RecordingCluster()) as runtime:
        result = runtime.run("list the pods in shop", thread_id="t")
    assert result.answer is not None and result.answer.startswith("There are three pods and the first one")
    assert "cut at its token limit, OPSGRAPH_MAX_TOKENS" in result.answer


@pytest.mark.parametrize(
    ("request_text", "needed"),
    [
        ("scale deploy web to 3 in shop", "scale_deployment"),
        ("show me the logs of pod api-0", "pod_logs"),
        ("can the service account ci deploy to prod", "can_i"),
        ("what is the cpu usage of node n1", "node_usage"),
        ("restart the checkout deployment", "rollout_restart"),
        ("drain node n2", "drain_node"),
        ("what is wrong with my cluster", "diagnose_cluster"),
    ],
)
def test_the_kubernetes_subset_keeps_the_tool_a_request_needs(request_text: str, needed: str) -> None:
    from pathlib import Path

    from agents.middleware.subset import select_tools
    from tools.base import ToolContext
    from tools.kubernetes import build_tools

    tools = build_tools(ToolContext(kubeconfig=Path("/nonexistent")))
    chosen = [t.name for t in select_tools(tools, request_text, 8, set())]
    assert len(tools) > 20 and len(chosen) == 8 and needed in chosen


@pytest.mark.parametrize(
    ("request_text", "context", "repair_offered"),
    [
        ("Write an IAM policy that lets a role read objects in the S3 bucket acme-logs", None, False),
        ("repair policy.json so it denies s3:DeleteObject", None, True),
        ("fix arn:aws:iam::123456789012:policy/Uploader so it cannot delete", None, True),
        ("now repair it so the role cannot delete", "what does team.json allow? ... now repair it", True),
    ],
)
def test_the_iam_subset_offers_the_repair_tools_only_for_a_policy_the_conversation_names(
    request_text: str, context: str | None, repair_offered: bool
) -> None:
    from agents.middleware.subset import offered, select_tools
    from tools.base import ToolContext
    from tools.iam import build_tools

    tools = {t.name: t for t in build_tools(ToolContext())}
    for name in ("repair_policy", "write_repaired_policy"):
        assert offered(tools[name], context or request_text) is repair_offered
    chosen = [t.name for t in select_tools(list(tools.values()), request_text, 8, set(), context)]
    assert repair_offered or ("synthesize_policy" in chosen and "write_repaired_policy" not in chosen)
    # a tool the model already called for the request stays, offered or not
    kept = select_tools(list(tools.values()), "write a policy", 8, {"repair_policy"})
    assert "repair_policy" in [t.name for t in kept]
