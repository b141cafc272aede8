"""`routing`: the supervisor's choice of agents on the project's own corpus of 180 requests.

Each request goes through the product's own routing path (`agents.routing.route_request`: JSON-schema
output where the server supports it, the router's token limit, one retry, the words fallback). A case
passes when the chosen agents are exactly the expected set; the order of a cross-domain choice is scored
separately (`order_ok`), as are per-agent precision and recall. A case that errors or times out counts as
a miss in every accuracy figure (it is a request the product could not route). Decisions the model's
output could not make, so that the request's words decided, are counted (`by_words`). `--limit K` takes K
requests spread over the kinds and expected agents, not the first K. `--dataset holdout` runs the 40
requests written after the router's prompt and guard were tuned on the corpus.
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
            for r in load_routing_requests(holdout=options.dataset == "holdout")
        ]

    def stratum(self, case: Case) -> str | None:
        return f"{case.data['kind']}:{'+'.join(sorted(case.data['expected']))}"

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from agents.routing import route_request

        settings = env.settings()
        decision = route_request(env.chat_model(), case.data["text"], max_tokens=settings.router_max_tokens)
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
                "by_words": decision.source == "words",
            },
            detail={"summary": f"chose {chosen or 'none'}, expected {expected or 'none'}"},
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        from agents.models import AGENTS

        known = {c.id: c.data for c in self.cases(options)}

        def facts(r: CaseResult) -> tuple[str, list[str], list[str]]:
            data = known.get(r.id, {})
            kind = str(r.metrics.get("kind", data.get("kind", "?")))
            expected = list(r.metrics.get("expected", data.get("expected", [])))
            return kind, expected, list(r.metrics.get("chosen", []))

        rows = []
        accuracy: dict[str, float] = {}
        for kind in ("single", "cross", "none", "all"):
            group = [r for r in results if kind == "all" or facts(r)[0] == kind]
            if not group:
                continue
            acc = sum(r.status == "pass" for r in group) / len(group)
            order = sum(bool(r.metrics.get("order_ok")) for r in group) / len(group)
            errors = sum(r.status not in ("pass", "fail") for r in group)
            accuracy[kind] = round(acc, 4)
            rows.append([kind, len(group), round(acc, 4), round(order, 4), errors])
        per_agent = []
        for agent in AGENTS:
            tp = fp = fn = 0
            for r in results:
                _, expected, chosen = facts(r)
                tp += agent in chosen and agent in expected
                fp += agent in chosen and agent not in expected
                fn += agent not in chosen and agent in expected
            precision = tp / (tp + fp) if tp + fp else None
            recall = tp / (tp + fn) if tp + fn else None
            per_agent.append([agent, tp, fp, fn, precision, recall])
        misses = [
            [
                r.id,
                facts(r)[1],
                facts(r)[2] if r.status == "fail" else r.status,
                known.get(r.id, {}).get("text", ""),
            ]
            for r in results
            if r.status != "pass"
        ]
        return SuiteSummary(
            metrics={
                "accuracy": accuracy,
                "errors": sum(r.status not in ("pass", "fail") for r in results),
                "by_words": sum(bool(r.metrics.get("by_words")) for r in results),
            },
            tables=[
                Table(
                    title="Accuracy by kind",
                    headers=["kind", "cases", "set accuracy", "order accuracy", "errors"],
                    rows=rows,
                    note="Errors and timeouts count as misses.",
                ),
                Table(
                    title="Per agent",
                    headers=["agent", "true pos", "false pos", "false neg", "precision", "recall"],
                    rows=per_agent,
                ),
                Table(
                    title="Misrouted requests",
                    headers=["case", "expected", "chosen", "request"],
                    rows=misses,
                ),
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
