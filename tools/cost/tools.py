"""LangChain tools of the cost agent. Every figure they return comes from the engine, never from the model."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, Field

from tools.base import PreconditionFailedError, ToolContext, expected_state, mark_mutating, observe

__all__ = ["build_tools"]


class NamespaceArgs(BaseModel):
    namespace: str | None = Field(
        default=None, description="Limit to this namespace; all namespaces when empty."
    )


class PriceArgs(BaseModel):
    instance_type: str = Field(description="e.g. m7i.large, n2-standard-8, Standard_D4s_v5")
    capacity_type: str = Field(default="on-demand", description="on-demand or spot")
    cloud: str = Field(default="aws", description="aws, gcp or azure")
    region: str = Field(default="us-east-1")


class ApplyArgs(BaseModel):
    namespace: str | None = Field(
        default=None, description="Namespace of the workload (may be left out when workload is ns/Kind/name)."
    )
    workload: str = Field(
        description="The workload as rightsize names it (ns/Kind/name, e.g. shop/Deployment/cart), "
        "or a Deployment or StatefulSet name in namespace."
    )


def _error(exc: Exception) -> str:
    return json.dumps({"error": f"{type(exc).__name__}: {exc}"})


def build_tools(ctx: ToolContext) -> list[BaseTool]:
    from tools.cost.catalog import CatalogError

    def _report(namespace: str | None, reconcile: bool = False, inputs: Any = None) -> Any:
        from tools.cost.calls import cluster_inputs
        from tools.cost.connect import catalog_for
        from tools.cost.engine import optimize

        snapshot, source, api = inputs or cluster_inputs(ctx)
        report = optimize(
            snapshot, source, catalog_for(ctx), namespace=namespace or None, reconcile=reconcile
        )
        return report, snapshot, api

    def optimize_cost(namespace: str | None = None) -> tuple[str, dict[str, Any] | None]:
        """Optimize cluster cost: right-size every container from its usage (krr strategy), plan the cheapest
        nodes with a solver (proven lower bound and gap), estimate spot risk, and report current vs recommended
        monthly cost with each saving counted once. Read-only: nothing is changed."""
        try:
            report, _, _ = _report(namespace, reconcile=True)
        except Exception as exc:  # a tool answers with an error the model can read, never a traceback
            return _error(exc), None
        out = report.model_dump(
            exclude={"current_allocation", "recommended_allocation", "rightsizing", "nodepool", "migration"}
        )
        m = report.migration
        out["migration"] = m and {
            "waves": len(m.waves), "evictions": sum(len(w.evict) for w in m.waves),
            "launch": m.launch, "pdb_budgets": m.budgets, "blocked": m.blocked, "notes": m.notes,
        }  # fmt: skip
        out["rightsizing"] = [
            {"workload": r.workload, "container": r.container, "confidence": r.confidence, "notes": r.notes,
             "current": r.current.model_dump(), "recommended": r.recommended.model_dump()}
            for r in report.rightsizing if r.changed() or r.notes
        ]  # fmt: skip
        out["cost_by_namespace"] = {
            "current": {
                k: round(v * 730, 2)
                for k, v in report.current_allocation.by_namespace.items()
                if not namespace or k == namespace
            },
            "current_idle": round(report.current_allocation.idle_usd_per_hour * 730, 2),
            "recommended": {
                k: round(v * 730, 2) for k, v in report.recommended_allocation.by_namespace.items()
            },
            "recommended_idle": round(report.recommended_allocation.idle_usd_per_hour * 730, 2),
        }
        out["nodepool_proposal"] = report.nodepool.yaml() if report.nodepool else None
        text = json.dumps(out, default=str)  # people read the artifact (tools/cost/present.py)
        return text, {"kind": "cost.report", "namespace": namespace or None, **json.loads(text)}

    def rightsize(namespace: str | None = None) -> tuple[str, dict[str, Any] | None]:
        """Right-sizing recommendations (CPU/memory requests and limits per container) with confidence notes;
        read-only. Use apply_rightsizing to change a workload."""
        try:
            report, _, _ = _report(namespace)
        except Exception as exc:
            return _error(exc), None
        text = json.dumps([r.model_dump() for r in report.rightsizing])
        return text, {
            "kind": "cost.rightsizing",
            "namespace": namespace or None,
            "recommendations": json.loads(text),
        }

    def price_lookup(
        instance_type: str, capacity_type: str = "on-demand", cloud: str = "aws", region: str = "us-east-1"
    ) -> tuple[str, dict[str, Any] | None]:
        """Hourly price of an instance type from the shipped catalogs (with user overrides); spot prices on AWS
        are estimates from the Spot Advisor."""
        from tools.cost.connect import catalog_for

        if capacity_type not in ("on-demand", "spot"):
            return _error(ValueError(f"capacity_type: {capacity_type!r} is not on-demand or spot")), None
        try:
            quote = catalog_for(ctx, cloud, region).quote(instance_type, capacity_type)  # type: ignore[arg-type]
        except CatalogError as exc:
            return _error(exc), None
        text = quote.model_dump_json()
        return text, {"kind": "cost.price", "cloud": cloud, "region": region, **json.loads(text)}

    def _plan_change(namespace: str | None, workload: str) -> dict[str, Any]:
        from tools.cost.apply import cost_delta_monthly, find_workload, resource_diff, resource_patch
        from tools.cost.calls import cluster_inputs
        from tools.cost.connect import catalog_for

        inputs = cluster_inputs(ctx)
        target = find_workload(inputs[0].workloads, namespace, workload)  # a bad id fails before the solver
        report, _, api = _report(target.namespace, inputs=inputs)
        recs = [r for r in report.rightsizing if r.workload == target.key]
        return {
            "target": target, "api": api, "patch": resource_patch(recs), "diff": resource_diff(recs),
            "cost_delta_monthly_usd": cost_delta_monthly(recs, target.replicas, catalog_for(ctx)),
        }  # fmt: skip

    def preview_apply(args: dict[str, Any]) -> dict[str, Any]:
        from tools.cost.apply import apply_patch

        change = _plan_change(args.get("namespace"), args["workload"])
        t = change["target"]
        precondition = None
        if change["api"] is not None:
            dry = apply_patch(change["api"], t.namespace, t.kind, t.name, change["patch"], dry_run=True)
            # the approved write applies exactly this patch, to the workload as it is now
            precondition = {
                "objects": [
                    {"kind": t.kind, "namespace": t.namespace, "name": t.name,
                     "resourceVersion": dry.metadata.resource_version}
                ],
                "patch": change["patch"],
                "diff": change["diff"],
            }  # fmt: skip
        return {
            "summary": f"patch requests/limits of {t.kind} {t.namespace}/{t.name}",
            "diff": change["diff"],
            "cost_delta_monthly_usd": change["cost_delta_monthly_usd"],
            "dry_run": "accepted (dryRun=All)" if change["api"] is not None else "offline snapshot: not run",
            "precondition": precondition,
        }

    def apply_rightsizing(workload: str, namespace: str | None = None) -> tuple[str, dict[str, Any] | None]:
        """Patch one workload's container requests/limits to the right-sizing recommendation (a server-side
        dry run first). Changes the cluster: needs approval."""
        from tools.cost.apply import apply_patch

        expect = expected_state()  # the approved preview: its patch, at its resourceVersion
        try:
            change = _plan_change(namespace, workload)
            t = change["target"]
            if expect is not None:
                change |= {"patch": expect["patch"], "diff": expect["diff"]}
            if not change["diff"]:
                out = {"workload": t.key, "changed": False, "reason": "already right-sized or no usage data"}
                return json.dumps(out), {"kind": "cost.apply", **out}
            if change["api"] is None:
                raise ValueError("offline snapshot: there is no cluster to patch")
            rv = expect["objects"][0]["resourceVersion"] if expect is not None else None
            apply_patch(change["api"], t.namespace, t.kind, t.name, change["patch"], True, rv)
            done = apply_patch(change["api"], t.namespace, t.kind, t.name, change["patch"], False, rv)
            if expect is not None:
                written = {"written_resourceVersion": done.metadata.resource_version}
                observe(objects=[{**expect["objects"][0], "previewed_resourceVersion": rv, **written}])
        except PreconditionFailedError:
            raise
        except Exception as exc:
            return _error(exc), None
        out = {
            "workload": t.key,
            "changed": True,
            "diff": change["diff"],
            "cost_delta_monthly_usd": change["cost_delta_monthly_usd"],
        }
        return json.dumps(out), {"kind": "cost.apply", **out}

    tools: list[BaseTool] = [
        StructuredTool.from_function(
            optimize_cost, args_schema=NamespaceArgs, response_format="content_and_artifact"
        ),
        StructuredTool.from_function(
            rightsize, args_schema=NamespaceArgs, response_format="content_and_artifact"
        ),
        StructuredTool.from_function(
            price_lookup, args_schema=PriceArgs, response_format="content_and_artifact"
        ),
    ]
    apply_tool = StructuredTool.from_function(
        apply_rightsizing, args_schema=ApplyArgs, response_format="content_and_artifact"
    )
    if not ctx.read_only:
        tools.append(mark_mutating(apply_tool, preview_apply))
    return tools
