"""`iam-questions`: IAM requests in plain words, through the whole product, graded by the Z3 engine.

Each case is one chat request (`eval/data/iam-questions`), run by the supervisor and its agents with the
run's model, in a folder holding the case's `policy.json`; mutating calls are approved, as an unattended
harness would. Nothing is graded by matching expected text:

- `check` ("can role X read bucket Y under the policy in policy.json?"): the truth is the Z3 engine's
  decision on the question's concrete request (`verifiers.iam.decide`, checked against the concrete
  evaluator; a solver `unknown` makes the case an error, never a verdict). The answer passes when the
  claim it makes (`eval.answers.verdict`: its first yes or no) is that truth; an answer that makes no
  claim fails as `unclear`. `grounded` says whether an IAM tool was called for it.
- `write` ("write a policy that ..., and nothing else"): the policy shown in the answer must parse, allow
  every `must_allow` request (Z3), and be proven no more permissive than the reference policy
  (`compare`: equivalent or less permissive). The relation is reported.

Every case also reports whether the answer was tool JSON shown as an answer (`tool_json_answer`) and how
long the run took (`run_s`); `--limit K` spreads over both kinds.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from eval.answers import is_tool_json, policies_in, verdict
from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_iam_questions
from eval.iam_engine import engine_unavailable, parse
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table, missing_modules

__all__ = ["IamQuestionsSuite"]

_MAX_APPROVALS = 3
_IAM_TOOLS = (
    "check_request",
    "explain_policy",
    "compare_policies",
    "validate_policy",
    "repair_policy",
    "write_repaired_policy",
    "synthesize_policy",
    "summarize_policy",
)


def _truth(policy: dict[str, Any], request: dict[str, Any]) -> str:
    from policies import parse_request
    from verifiers.iam import decide, evaluate

    parsed, query = parse(policy), parse_request(request)
    solved = decide(parsed, query)
    if solved.status not in ("sat", "unsat"):
        raise RuntimeError(f"the Z3 engine could not decide the request ({solved.status}: {solved.reason})")
    allowed = solved.status == "sat"
    if allowed != (evaluate(parsed, query).decision == "Allowed"):
        raise RuntimeError("the Z3 engine and the concrete evaluator disagree on this request")
    return "allow" if allowed else "deny"


def _grade_write(
    answer: str, reference: dict[str, Any], must_allow: list[dict[str, Any]]
) -> tuple[bool, str, str]:
    """(passed, relation or what went wrong, summary) of the policy shown in `answer`."""
    from policies import parse_request
    from verifiers.iam import compare, decide

    docs = policies_in(answer)
    if not docs:
        return False, "no_policy", "the answer shows no policy"
    try:
        candidate = parse(docs[-1])
    except ValueError as exc:
        return False, "invalid_policy", f"the answer's policy does not parse: {str(exc).splitlines()[0]}"
    refused = [r for r in must_allow if decide(candidate, parse_request(r)).status != "sat"]
    comparison = compare(candidate, parse(reference))
    relation = str(getattr(comparison.relation, "value", comparison.relation))
    if refused:
        first = refused[0]
        return False, relation, f"does not allow {first['action']} on {first['resource']} ({relation})"
    if relation not in ("equivalent", "less_permissive"):
        return False, relation, f"allows more than asked ({relation} to the reference)"
    return True, relation, f"allows what was asked and no more ({relation})"


class IamQuestionsSuite(Suite):
    name = "iam-questions"
    description = (
        "IAM requests in plain words (can X do Y under this policy; write a policy that ...), run through "
        "the supervisor and agents, graded by the Z3 engine."
    )
    datasets = ("iam-questions",)
    uses_model = True

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return missing_modules("agents.runtime", "tools.iam") or engine_unavailable(
            "parse_policy", "parse_request", "evaluate", "compare"
        )

    def cases(self, options: RunOptions) -> list[Case]:
        questions = load_iam_questions()
        if options.dataset:
            questions = [
                q for q in questions if options.dataset in (q.kind, q.policy_name) or q.id == options.dataset
            ]
        return [Case(id=q.id, data=q.model_dump()) for q in questions]

    def stratum(self, case: Case) -> str | None:
        return str(case.data["kind"])

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from agents.gate import ApprovalDecision
        from agents.runtime import Runtime
        from tools.base import ToolContext

        q = case.data
        truth = _truth(q["policy"], q["request"]) if q["kind"] == "check" else None
        with tempfile.TemporaryDirectory(prefix="opsgraph-eval-iamq-") as tmp:
            folder = Path(tmp)
            if q["policy"] is not None:
                (folder / "policy.json").write_text(
                    json.dumps(q["policy"], indent=2) + "\n", encoding="utf-8"
                )
            settings = env.settings(checkpoint_url="memory", data_dir=folder / "data", sandbox=False)
            started = time.perf_counter()
            with Runtime(
                settings, model=env.chat_model(), tool_context=ToolContext(workdir=folder)
            ) as runtime:
                result = runtime.run(q["text"], user="eval")
                approvals = 0
                while (
                    result.status == "interrupted"
                    and result.approval is not None
                    and approvals < _MAX_APPROVALS
                ):
                    approvals += 1
                    result = runtime.resume(
                        result.thread_id, ApprovalDecision(decision="approve", user="eval"), user="eval"
                    )
                calls = [
                    c["name"]
                    for m in runtime.messages(result.thread_id, user="eval")
                    for c in getattr(m, "tool_calls", None) or []
                ]
            run_s = time.perf_counter() - started
        answer = result.answer or ""
        metrics: dict[str, Any] = {
            "kind": q["kind"],
            "route": result.route,
            "tools": calls,
            "grounded": any(c in _IAM_TOOLS for c in calls),
            "tool_json_answer": is_tool_json(answer, _IAM_TOOLS),
            "run_s": round(run_s, 3),
            "status": result.status,
        }
        if q["kind"] == "check":
            said = verdict(answer, q["text"])
            metrics.update(truth=truth, said=said)
            passed = said == truth
            summary = f"truth {truth}, the answer says {said}"
        else:
            passed, relation, summary = _grade_write(answer, q["reference"], q["must_allow"])
            metrics["relation"] = relation
        return CaseOutcome(
            passed=passed,
            score=1.0 if passed else 0.0,
            metrics=metrics,
            detail={"summary": summary, "answer": answer[:2000], "error": result.error},
        )

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        kinds = {c.id: str(c.data["kind"]) for c in self.cases(options)}
        rows: list[list[Any]] = []
        rates: dict[str, float] = {}
        for kind in ("check", "write", "all"):
            group = [r for r in results if kind == "all" or kinds.get(r.id) == kind]
            if not group:
                continue
            passed = sum(r.status == "pass" for r in group)
            rates[kind] = round(passed / len(group), 4)
            rows.append(
                [
                    kind,
                    len(group),
                    passed,
                    rates[kind],
                    sum(bool(r.metrics.get("grounded")) for r in group),
                    sum(r.status not in ("pass", "fail") for r in group),
                ]
            )
        checks = [r for r in results if r.metrics.get("kind") == "check"]
        said = Counter((r.metrics["truth"], r.metrics["said"]) for r in checks)
        relations = Counter(
            str(r.metrics.get("relation")) for r in results if r.metrics.get("kind") == "write"
        )
        run_times = sorted(r.metrics["run_s"] for r in results if "run_s" in r.metrics)
        metrics: dict[str, Any] = {
            "pass_rate": rates,
            "grounded": sum(bool(r.metrics.get("grounded")) for r in results),
            "tool_json_answers": sum(bool(r.metrics.get("tool_json_answer")) for r in results),
            "errors": sum(r.status not in ("pass", "fail") for r in results),
            "unclear": sum(r.metrics.get("said") == "unclear" for r in checks),
            "write_relations": dict(relations),
            "median_run_s": run_times[len(run_times) // 2] if run_times else None,
        }
        return SuiteSummary(
            metrics=metrics,
            tables=[
                Table(
                    title="Pass rate by kind",
                    headers=["kind", "cases", "passed", "pass rate", "grounded in an IAM tool", "errors"],
                    rows=rows,
                    note="Errors and timeouts count as failures.",
                ),
                Table(
                    title="Check questions: the engine's truth against the answer's claim",
                    headers=["truth", "answer says", "cases"],
                    rows=[[t, s, n] for (t, s), n in sorted(said.items())],
                ),
                Table(
                    title="Written policies: relation to the reference (Z3)",
                    headers=["relation", "cases"],
                    rows=[[k, n] for k, n in sorted(relations.items())],
                ),
            ],
            charts=[
                Chart(
                    title="iam-questions pass rate",
                    labels=list(rates),
                    series={"pass rate": list(rates.values())},
                )
            ],
        )
