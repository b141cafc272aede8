"""`k8s-tasks`: k8s-ai-bench's core tasks and gatekeeper audits, run by our agents on the sandbox.

Each case starts its own sandbox (under a second), creates what the task's setup needs, runs the
supervisor on the task's prompt with the run's model (mutating calls are approved, as the upstream
harness runs kubectl-ai unattended), and grades:

- gatekeeper audits (31) and the core tasks graded on the answer (`list-images-for-pods`): upstream's
  own `expect` checks (`contains` / `notContains`);
- `create-network-policy`: the NetworkPolicy `np` in `ns1` must exist and its egress rules equal the
  task's `desired-policy.yaml` (upstream's verify.sh compares the same, normalised);
- `create-simple-rbac`, `fix-rbac-wrong-resource`: access checks as SubjectAccessReviews
  (`eval/k8s_rbac_tasks.py`);
- the other core tasks: the resulting objects, and inside containers through exec where upstream's
  verify.sh looks there (`eval/k8s_core_tasks.py`; setups and checks written here from each task's
  prompt and verifier summary, since upstream's scripts are not shipped).

Tasks listed in `NOT_GRADED` are shipped but not run; the summary says why.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_k8s_tasks
from eval.k8s_core_tasks import CORE_TASKS, NOT_GRADED, apply_manifests, grade_core, setup_core
from eval.k8s_rbac_tasks import RBAC_TASKS, grade_rbac, setup_rbac
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table, missing_modules

__all__ = ["NOT_GRADED", "K8sTasksSuite", "grade_expect", "same_egress"]

_MAX_APPROVALS = 10


def grade_expect(answer: str, expect: list[dict[str, str]]) -> list[str]:
    """The upstream `expect` checks that fail on `answer` (empty when all hold)."""
    failed = []
    for check in expect:
        if "contains" in check and check["contains"] not in answer:
            failed.append(f"missing {check['contains']!r}")
        if "notContains" in check and check["notContains"] in answer:
            failed.append(f"must not say {check['notContains']!r}")
    return failed


def _normal(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in sorted(value.items()) if v not in (None, [], {})}
    if isinstance(value, list):
        return sorted((_normal(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return str(value) if isinstance(value, int) else value


def same_egress(actual: Any, desired: Any) -> bool:
    """Egress rules equal up to order, empty fields and number-vs-string ports."""
    return bool(_normal(actual) == _normal(desired))


class K8sTasksSuite(Suite):
    name = "k8s-tasks"
    description = "k8s-ai-bench tasks gradable without a kubelet, run by the supervisor on the sandbox."
    datasets = ("k8s-ai-bench",)
    uses_model = True

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return missing_modules("sandbox.process", "agents.runtime", "tools.kubernetes", "kubernetes", "yaml")

    def stratum(self, case: Case) -> str | None:
        return str(case.data["suite"])  # `--limit` takes core tasks and gatekeeper audits alike

    def cases(self, options: RunOptions) -> list[Case]:
        tasks = [t for t in load_k8s_tasks() if t.id not in NOT_GRADED]
        if options.dataset:
            tasks = [t for t in tasks if t.id.startswith(options.dataset) or t.suite == options.dataset]
        return [Case(id=t.id, data=t.model_dump()) for t in tasks]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from kubernetes import client, config

        from agents.gate import ApprovalDecision
        from agents.runtime import Runtime
        from sandbox.process import SandboxProcess

        task = case.data
        with (
            tempfile.TemporaryDirectory(prefix="opsgraph-eval-k8s-") as tmp,
            SandboxProcess(kubeconfig=Path(tmp) / "kubeconfig") as sandbox,
        ):
            api = config.new_client_from_config(str(sandbox.kubeconfig))  # type: ignore[no-untyped-call]
            artifacts = [
                text for name, text in sorted(task["files"].items()) if name.startswith("artifacts/")
            ]
            if task["id"] == "create-network-policy":
                apply_manifests(api, [], extra_namespaces=("ns1", "ns2"))
            elif task["id"] in RBAC_TASKS:
                setup_rbac(api, task["id"])
            elif task["suite"] == "core":
                setup_core(api, task)
            else:
                apply_manifests(api, artifacts)
            settings = env.settings(
                kubeconfig=sandbox.kubeconfig,
                checkpoint_url="memory",
                data_dir=Path(tmp) / "data",
                sandbox=False,
            )
            with Runtime(settings, model=env.chat_model()) as runtime:
                result = runtime.run(task["prompt"], user="eval")
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
            answer = result.answer or ""
            if task["expect"]:
                failed = grade_expect(answer, task["expect"])
            elif task["id"] in RBAC_TASKS:
                failed = grade_rbac(api, task["id"])
            elif task["id"] in CORE_TASKS:
                failed = grade_core(api, task["id"])
            else:
                failed = self._check_network_policy(client.NetworkingV1Api(api), task)
            api.close()
        return CaseOutcome(
            passed=not failed,
            score=1.0 if not failed else 0.0,
            metrics={
                "suite": task["suite"],
                "approvals": approvals,
                "route": result.route,
                "checks_failed": len(failed),
            },
            detail={"summary": "; ".join(failed) or "all checks hold", "answer": answer[:1500]},
        )

    @staticmethod
    def _check_network_policy(net: Any, task: dict[str, Any]) -> list[str]:
        import yaml  # type: ignore[import-untyped]
        from kubernetes.client.exceptions import ApiException

        desired = yaml.safe_load(task["files"]["artifacts/desired-policy.yaml"])
        try:
            actual = net.read_namespaced_network_policy("np", "ns1")
        except ApiException as exc:
            return [f"NetworkPolicy ns1/np not found ({exc.status})"]
        egress = net.api_client.sanitize_for_serialization(actual.spec).get("egress")
        if not same_egress(egress, desired["spec"]["egress"]):
            return [f"egress differs from desired-policy.yaml: {json.dumps(egress)[:300]}"]
        return []

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        groups: dict[str, list[CaseResult]] = {}
        for r in results:
            groups.setdefault(
                str(r.metrics.get("suite", r.id.split("/")[0] if "/" in r.id else "core")), []
            ).append(r)
        rates = {name: round(sum(r.status == "pass" for r in g) / len(g), 4) for name, g in groups.items()}
        rows: list[list[Any]] = [
            [name, len(g), sum(r.status == "pass" for r in g), rates[name]] for name, g in groups.items()
        ]
        rate = round(sum(r.status == "pass" for r in results) / len(results), 4) if results else None
        return SuiteSummary(
            metrics={
                "pass_rate": rate,
                "by_suite": rates,
                "not_graded": sorted(NOT_GRADED),
                "solved": sum(r.status == "pass" for r in results),
            },
            tables=[
                Table(
                    title="Pass rate by task suite",
                    headers=["suite", "tasks", "passed", "pass rate"],
                    rows=rows,
                ),
                Table(
                    title="Shipped but not graded",
                    headers=["task", "why"],
                    rows=[[t, why] for t, why in sorted(NOT_GRADED.items())],
                ),
            ],
            charts=[
                Chart(
                    title="k8s-ai-bench pass rate",
                    labels=list(rates),
                    series={"pass rate": list(rates.values())},
                )
            ],
        )
