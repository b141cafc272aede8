"""A process the crash-recovery tests kill with SIGKILL in the middle of a tool call.

`python -m tests.agents.crash_worker URL THREAD MODE MARKER`: a runtime on the checkpoint database `URL`
whose tools, once called, write `MARKER` and then hang; MODE `read` asks "list pods in payments", MODE
`approve` answers the approval THREAD waits for (so the approved write is the call that hangs).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from agents.gate import ApprovalDecision
from agents.runtime import Runtime
from opsgraph.settings import Settings
from tools.base import mark_mutating


def hanging_tools(marker: Path) -> dict[str, list[BaseTool]]:
    def hang(what: str) -> str:
        marker.write_text(what)
        time.sleep(3600)
        return "unreachable"

    def list_pods(namespace: str = "default") -> str:
        """List the pods of a namespace."""
        return hang(f"list_pods {namespace}")

    def scale_deployment(name: str, replicas: int, namespace: str = "default") -> str:
        """Scale a deployment."""
        return hang(f"scale_deployment {namespace}/{name} {replicas}")

    def preview(args: dict[str, Any]) -> dict[str, Any]:
        return {"diff": f"spec.replicas: 1 -> {args['replicas']}"}

    scale = mark_mutating(StructuredTool.from_function(scale_deployment), preview)
    return {"kubernetes": [StructuredTool.from_function(list_pods), scale], "iam": [], "cost": []}


def main(url: str, thread_id: str, mode: str, marker: str) -> None:
    tools = hanging_tools(Path(marker))
    with Runtime(Settings(checkpoint_url=url), tools=tools) as runtime:  # type: ignore[arg-type]
        if mode == "read":
            runtime.run("list pods in payments", thread_id=thread_id)
        else:
            runtime.resume(thread_id, ApprovalDecision(decision="approve", user="olga"))


if __name__ == "__main__":
    main(*sys.argv[1:5])
