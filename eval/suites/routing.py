"""`routing`: the supervisor's choice of agents on the project's own corpus of 180 requests.

A case passes when the chosen agents are exactly the expected set; the order of a cross-domain choice is
scored separately (`order_ok`), as are per-agent precision and recall.
"""

from __future__ import annotations

from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_routing_requests
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table, missing_modules

__all__ = ["RoutingSuite"]


class RoutingSuite(Suite):
    name = "routing"
    description = (
        "Supervisor routing accuracy on opsgraph's own corpus of requests (single, cross-domain, none)."
    )
    datasets = ("routing",)
    uses_model = True

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return missing_modules("agents.routing", "agents.models")

    def cases(self, options: RunOptions) -> list[Case]:
        return [
            Case(id=r.id, data={"text": r.text, "expected": list(r.expected), "kind": r.kind})
            for r in load_routing_requests()
        ]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from agents.routing import route_request

        decision = route_request(env.chat_model(), case.data["text"])
        chosen = [str(a) for a in decision.agents]
        expected = list(case.data["expected"])
        set_ok = set(chosen) == set(expected)
        return CaseOutcome(
            passed=set_ok,
            score=1.0 if set_ok else 0.0,
            metrics={
                "kind": case.data["kind"],
                "expected": expected,
                "chosen": chosen,
                "order_ok": chosen == expected,
            },
            detail={"summary": f"chose {chosen or 'none'}, expected {expected or 'none'}"},
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        from agents.models import AGENTS

        ran = [r for r in results if r.status in ("pass", "fail")]
        rows = []
        accuracy: dict[str, float] = {}
        for kind in ("single", "cross", "none", "all"):
            group = [r for r in ran if kind == "all" or r.metrics.get("kind") == kind]
            if not group:
                continue
            acc = sum(r.status == "pass" for r in group) / len(group)
            order = sum(bool(r.metrics.get("order_ok")) for r in group) / len(group)
            accuracy[kind] = round(acc, 4)
            rows.append([kind, len(group), round(acc, 4), round(order, 4)])
        per_agent = []
        for agent in AGENTS:
            tp = sum(agent in r.metrics["chosen"] and agent in r.metrics["expected"] for r in ran)
            fp = sum(agent in r.metrics["chosen"] and agent not in r.metrics["expected"] for r in ran)
            fn = sum(agent not in r.metrics["chosen"] and agent in r.metrics["expected"] for r in ran)
            precision = tp / (tp + fp) if tp + fp else None
            recall = tp / (tp + fn) if tp + fn else None
            per_agent.append([agent, tp, fp, fn, precision, recall])
        misses = [[r.id, r.metrics["expected"], r.metrics["chosen"]] for r in ran if r.status == "fail"]
        return SuiteSummary(
            metrics={"accuracy": accuracy, "errors": sum(r.status not in ("pass", "fail") for r in results)},
            tables=[
                Table(
                    title="Accuracy by kind",
                    headers=["kind", "cases", "set accuracy", "order accuracy"],
                    rows=rows,
                ),
                Table(
                    title="Per agent",
                    headers=["agent", "true pos", "false pos", "false neg", "precision", "recall"],
                    rows=per_agent,
                ),
                Table(title="Misrouted requests", headers=["case", "expected", "chosen"], rows=misses),
            ],
            charts=[
                Chart(
                    title="Routing accuracy",
                    labels=list(accuracy),
                    series={"set accuracy": list(accuracy.values())},
                    ylabel="accuracy",
                )
            ],
        )
