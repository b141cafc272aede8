"""llama.cpp's prompt cache serves each agent's instructions and tool catalog, on a real server (SmolLM2-135M).

On two CPU cores a 1.5B model processes 25-30 prompt tokens a second, so a prefix the cache does not
serve costs tens of seconds per call. What keeps it served: the agent's system message (instructions and
the catalog of all its tools) is the same bytes on every call of every request, the final step included,
and the router's prompt is too; llama.cpp keeps the states it switches away from in its RAM cache
(`cache_ram_mib`). Asserted from the server's own `timings` (`cache_n`: prompt tokens served from the
cache), which do not depend on the machine's load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from agents.models.local import LocalServer
from agents.runtime import Runtime
from opsgraph.settings import Settings
from tests.scripted_openai_server import RecordingProxy
from tools.base import ToolContext

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-reports/*"}],
}
REQUESTS = (
    "Under the policy in policy.json, can the role analyst read q1.csv in the S3 bucket acme-reports?",
    "Does the IAM policy in policy.json let the role analyst delete q1.csv from the bucket acme-reports?",
    "Explain what the IAM policy in policy.json allows.",
)


def _tokens(server: LocalServer, text: str) -> int:
    url = server.base_url.removesuffix("/v1") + "/tokenize"
    return len(httpx.post(url, json={"content": text}, timeout=60).json()["tokens"])


def _is_routing(body: dict[str, Any]) -> bool:
    return body.get("response_format", {}).get("json_schema", {}).get("name") == "RouteDecision"


def test_the_router_and_each_agent_prefix_are_served_from_the_prompt_cache(
    real_model_server: LocalServer, real_model_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "policy.json").write_text(json.dumps(POLICY))
    with RecordingProxy(real_model_server.base_url) as proxy:
        settings = real_model_settings.model_copy(
            update={"base_url": proxy.base_url, "tool_calls": "json", "agent_max_steps": 2}
        )
        with Runtime(settings, tool_context=ToolContext(workdir=tmp_path)) as runtime:
            for n, text in enumerate(REQUESTS):
                runtime.run(text, thread_id=f"t{n}")
    calls = list(zip(proxy.requests, proxy.timings, strict=True))
    assert all(t is not None for _, t in calls), "llama.cpp sends its timings with every answer"
    routers = [t for b, t in calls if _is_routing(b)]
    router_prompt = _tokens(
        real_model_server, next(b for b, _ in calls if _is_routing(b))["messages"][0]["content"]
    )
    assert len(routers) >= len(REQUESTS)
    assert all(t["cache_n"] >= router_prompt for t in routers[1:] if t)  # after the first, from the cache

    by_prefix: dict[str, list[dict[str, Any]]] = {}
    for body, timings in calls:
        if not _is_routing(body) and timings is not None:
            by_prefix.setdefault(body["messages"][0]["content"], []).append(timings)
    agents = {system.split(":")[0] for system in by_prefix}
    assert len(by_prefix) == len(agents), "an agent's system message is the same on every call"
    repeated = {system: t for system, t in by_prefix.items() if len(t) > 1}
    assert repeated, "some agent was called twice"
    for system, timings in repeated.items():
        prefix = _tokens(real_model_server, system)
        assert all(t["cache_n"] >= prefix for t in timings[1:]), (system[:60], timings)
