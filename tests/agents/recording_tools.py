"""Small recording tools for testing the graph's mechanics (gate, checkpoints, audit) on every checkpointer.

They carry the names the offline model emits, but act on an in-memory dict instead of a cluster: the
mechanics under test do not depend on what a tool does. End-to-end tests with the real Kubernetes tools
against the sandbox live in tests/test_end_to_end.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from tools.base import mark_mutating

__all__ = ["RecordingCluster"]


@dataclass
class RecordingCluster:
    replicas: dict[str, int] = field(default_factory=lambda: {"shop/web": 1})
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def tools(self) -> dict[str, list[BaseTool]]:
        def list_pods(namespace: str = "default") -> str:
            """List the pods of a namespace."""
            self.calls.append(("list_pods", {"namespace": namespace}))
            return f"{namespace}: web-1 Running"

        def scale_deployment(name: str, replicas: int, namespace: str = "default") -> str:
            """Scale a deployment."""
            self.calls.append(
                ("scale_deployment", {"name": name, "replicas": replicas, "namespace": namespace})
            )
            self.replicas[f"{namespace}/{name}"] = replicas
            return f"deployment {namespace}/{name} scaled to {replicas}"

        def explain_policy(policy: str) -> str:
            """Explain a policy."""
            self.calls.append(("explain_policy", {"policy": policy}))
            return f"{policy}: allows s3:GetObject on arn:aws:s3:::b/*"

        def preview(args: dict[str, Any]) -> dict[str, Any]:
            key = f"{args.get('namespace', 'default')}/{args['name']}"
            return {"diff": f"spec.replicas: {self.replicas.get(key)} -> {args['replicas']}"}

        scale = mark_mutating(StructuredTool.from_function(scale_deployment), preview)
        return {
            "kubernetes": [StructuredTool.from_function(list_pods), scale],
            "iam": [StructuredTool.from_function(explain_policy)],
            "cost": [],
        }
