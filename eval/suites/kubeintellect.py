"""`kubeintellect`: KubeIntellect's 64-query routing corpus, run through our supervisor on a sandbox.

KubeIntellect (arXiv 2509.02449) routes each query to one of 11 domain agents; we have one Kubernetes
agent whose tools carry groups (read, diagnose, metrics, rbac, write, exec). A case is solved when the
supervisor routes the query to the Kubernetes agent and that agent's first tool call falls in a group
that does the labelled agent's job (Logs → read or diagnose, Metrics → metrics, Execution → exec, ...).
`CodeGenerator` has no counterpart here (we synthesise no tools), so it is graded on the route alone and
counted apart. Writes stop at the approval gate, which is not answered: only the choice is measured.

The corpus is AGPL-3.0 test data and is not shipped: the suite reads it from OPSGRAPH_KUBEINTELLECT_DIR, or
from `../shared/datasets/kubeintellect` beside the repository, and says so when it is absent.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.suite import CaseEnv, RunOptions, Suite, SuiteSummary, Table, missing_modules

__all__ = ["GROUPS_FOR_LABEL", "KubeIntellectSuite", "corpus_dir"]

GROUPS_FOR_LABEL: dict[str, frozenset[str]] = {
    "Lifecycle": frozenset({"write", "read", "diagnose"}),
    "Infrastructure": frozenset({"read", "write"}),
    "Logs": frozenset({"read", "diagnose"}),
    "ConfigMapsSecrets": frozenset({"read", "write"}),
    "RBAC": frozenset({"rbac", "read"}),
    "Metrics": frozenset({"metrics"}),
    "Deletion": frozenset({"write"}),
    "Security": frozenset({"rbac", "diagnose", "read"}),
    "Execution": frozenset({"exec"}),
    "Apply": frozenset({"write"}),
    "CodeGenerator": frozenset(),
}
_CORPUS = "routing_corpus_v1.jsonl"


def corpus_dir() -> Path:
    configured = os.environ.get("OPSGRAPH_KUBEINTELLECT_DIR")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "kubeintellect"


class KubeIntellectSuite(Suite):
    name = "kubeintellect"
    description = (
        "KubeIntellect's 64 routing queries: routed to the Kubernetes agent, first tool in the right group."
    )
    datasets = ()
    uses_model = True

    def unavailable_reason(self, options: RunOptions) -> str | None:
        if not (corpus_dir() / _CORPUS).exists():
            return (
                f"the KubeIntellect corpus (AGPL-3.0, not shipped) is not at {corpus_dir() / _CORPUS}; "
                "set OPSGRAPH_KUBEINTELLECT_DIR to a folder holding it"
            )
        return missing_modules("sandbox.process", "agents.runtime", "tools.kubernetes")

    def cases(self, options: RunOptions) -> list[Case]:
        rows = [
            json.loads(line) for line in (corpus_dir() / _CORPUS).read_text().splitlines() if line.strip()
        ]
        cases = [
            Case(
                id=f"{n:02d}-{row['expected_agent']}",
                data={"query": row["query"], "label": row["expected_agent"]},
            )
            for n, row in enumerate(rows, 1)
        ]
        return [c for c in cases if not options.dataset or c.data["label"] == options.dataset]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from agents.events import RouteEvent, ToolCallEvent
        from agents.runtime import Runtime
        from sandbox.process import SandboxProcess
        from tools.base import ToolContext
        from tools.kubernetes import build_tools

        label = case.data["label"]
        with (
            tempfile.TemporaryDirectory(prefix="opsgraph-eval-ki-") as tmp,
            SandboxProcess(kubeconfig=Path(tmp) / "kubeconfig") as sandbox,
        ):
            groups = {
                t.name: (t.metadata or {}).get("group", "")
                for t in build_tools(ToolContext(kubeconfig=sandbox.kubeconfig))
            }
            settings = env.settings(
                kubeconfig=sandbox.kubeconfig,
                checkpoint_url="memory",
                data_dir=Path(tmp) / "data",
                sandbox=False,
            )
            route: list[str] = []
            first: ToolCallEvent | None = None
            with Runtime(settings, model=env.chat_model()) as runtime:
                for event in runtime.stream(case.data["query"], user="eval"):
                    if isinstance(event, RouteEvent):
                        route = list(event.agents)
                    elif isinstance(event, ToolCallEvent) and event.agent == "kubernetes":
                        first = event
                        break  # the choice is what is measured; writes would stop at the gate anyway
        routed = route == ["kubernetes"]
        group = groups.get(first.tool, "") if first else ""
        wanted = GROUPS_FOR_LABEL.get(label, frozenset())
        solved = routed and (not wanted or group in wanted)
        return CaseOutcome(
            passed=solved,
            score=1.0 if solved else 0.0,
            metrics={"label": label, "route": route, "tool": first.tool if first else "", "group": group},
            detail={
                "summary": f"route {route or 'none'}, first tool {first.tool if first else 'none'} ({group or '-'}); "
                f"{label} wants {sorted(wanted) or 'a route only'}",
                "query": case.data["query"],
            },
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        labels: dict[str, list[CaseResult]] = {}
        for r in results:
            labels.setdefault(str(r.metrics.get("label", "?")), []).append(r)
        rows: list[list[Any]] = []
        for label, group in sorted(labels.items()):
            routed = sum(r.metrics.get("route") == ["kubernetes"] for r in group)
            solved = sum(r.status == "pass" for r in group)
            rows.append([label, len(group), routed, solved])
        ran = [r for r in results if r.status in ("pass", "fail")]
        return SuiteSummary(
            metrics={
                "solved": sum(r.status == "pass" for r in results),
                "routed_to_kubernetes": sum(r.metrics.get("route") == ["kubernetes"] for r in ran),
                "cases": len(results),
            },
            tables=[
                Table(
                    title="By KubeIntellect agent label",
                    headers=["label", "queries", "routed", "solved"],
                    rows=rows,
                )
            ],
        )
