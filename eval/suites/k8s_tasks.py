"""`k8s-tasks`: the k8s-ai-bench tasks gradable without a kubelet, run by our agents on the sandbox.

Each case starts its own sandbox (about 0.1 s), creates what the task's setup needs (the task's manifests
and their namespaces), runs the supervisor on the task's prompt with the run's model (mutating calls are
approved, as the upstream harness runs kubectl-ai unattended), and grades:

- gatekeeper audits (31): upstream's own `expect` checks on the final answer (`contains` / `notContains`
  of `VIOLATING: <name>` lines);
- `create-network-policy`: the NetworkPolicy `np` in `ns1` must exist and its egress rules equal the
  task's `desired-policy.yaml` (upstream's verify.sh compares the same, normalised);
- `create-simple-rbac`, `fix-rbac-wrong-resource`: access checks as SubjectAccessReviews, after a setup
  written here (`eval/k8s_rbac_tasks.py`; upstream's setup scripts are not shipped).

`setup-dev-cluster` is shipped but not run: its multi-tenant setup and checks (quotas, network policies,
per-user access in six namespaces) are not written yet. The summary lists it as not graded.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from eval.case import Case, CaseOutcome, CaseResult
from eval.datasets import load_k8s_tasks
from eval.k8s_rbac_tasks import RBAC_TASKS, grade_rbac, setup_rbac
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table, missing_modules

__all__ = ["NOT_GRADED", "K8sTasksSuite", "grade_expect", "same_egress"]

NOT_GRADED = ("setup-dev-cluster",)
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


def _apply(api: Any, texts: list[str], extra_namespaces: tuple[str, ...] = ()) -> None:
    """`kubectl apply` of the manifests: namespaces first, then each object created or replaced."""
    import yaml  # type: ignore[import-untyped]
    from kubernetes import client
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ConflictError

    docs = [d for text in texts for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    namespaces = {d.get("metadata", {}).get("namespace") for d in docs} | set(extra_namespaces)
    core: Any = client.CoreV1Api(api)
    existing = {n.metadata.name for n in core.list_namespace().items}
    for ns in sorted(n for n in namespaces if n and n not in existing):
        core.create_namespace({"metadata": {"name": ns}})
    dynamic: Any = DynamicClient(api)  # type: ignore[no-untyped-call]
    for doc in docs:
        if doc.get("kind") == "Namespace":
            continue
        resource = dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        namespace = doc["metadata"].get("namespace")
        try:
            resource.create(body=doc, namespace=namespace)
        except ConflictError:  # the same object twice in the manifests: the later one wins, as with apply
            current = resource.get(name=doc["metadata"]["name"], namespace=namespace)
            doc["metadata"]["resourceVersion"] = current.metadata.resourceVersion
            resource.replace(body=doc, namespace=namespace)


class K8sTasksSuite(Suite):
    name = "k8s-tasks"
    description = "k8s-ai-bench tasks gradable without a kubelet, run by the supervisor on the sandbox."
    datasets = ("k8s-ai-bench",)
    uses_model = True

    def unavailable_reason(self, options: RunOptions) -> str | None:
        return missing_modules("sandbox.process", "agents.runtime", "tools.kubernetes", "kubernetes", "yaml")

    def cases(self, options: RunOptions) -> list[Case]:
        tasks = [t for t in load_k8s_tasks() if t.id not in NOT_GRADED]
        if options.dataset:
            tasks = [t for t in tasks if t.id.startswith(options.dataset) or t.suite == options.dataset]
        return [Case(id=t.id, data=t.model_dump()) for t in tasks]

    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        from kubernetes import client, config

        from agents.gate import ApprovalDecision
        from agents.runtime import Runtime
        from opsgraph.settings import load_settings
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
                _apply(api, [], extra_namespaces=("ns1", "ns2"))
            elif task["id"] in RBAC_TASKS:
                setup_rbac(api, task["id"])
            else:
                _apply(api, artifacts)
            settings = load_settings(
                kubeconfig=sandbox.kubeconfig,
                checkpoint_url="memory",
                data_dir=Path(tmp) / "data",
                sandbox=False,
            )
            with Runtime(settings, model=env.chat_model()) as runtime:
                result = runtime.run(task["prompt"], user="eval")
                approvals = 0
                while result.status == "interrupted" and approvals < _MAX_APPROVALS:
                    approvals += 1
                    result = runtime.resume(
                        result.thread_id, ApprovalDecision(decision="approve", user="eval")
                    )
            answer = result.answer or ""
            if task["expect"]:
                failed = grade_expect(answer, task["expect"])
            elif task["id"] in RBAC_TASKS:
                failed = grade_rbac(api, task["id"])
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
                "not_graded": list(NOT_GRADED),
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
                    rows=[
                        [
                            t,
                            "upstream setup script not shipped; its multi-tenant setup and checks are not written yet",
                        ]
                        for t in NOT_GRADED
                    ],
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
