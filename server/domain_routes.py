"""`/v1/iam/diff`, `/v1/iam/repair`, `/v1/cost/plan`: the typed domain calls over HTTP.

They run the same code as `Assistant.iam` / `Assistant.cost` (`tools.iam.calls`, `tools.cost.calls`) and
answer with the same pydantic models. Over HTTP a policy or spec is only ever inline JSON (an object, or JSON
text): a string that looks like a file path is refused, since reading the server's files for a caller would
leak them. The solvers run in a worker thread; the calls change nothing, so every authenticated role may
make them.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.concurrency import run_in_threadpool

from policies import Policy, parse_policy
from policies.parse import PolicyParseError, load_json
from server.models import Problem, ProblemField
from server.problems import PROBLEM_RESPONSES, problem_response
from server.state import CurrentPrincipal, CurrentState
from tools.base import ToolContext
from tools.cost.engine import CostReport
from verifiers.iam import Comparison
from verifiers.iam.repair import RepairOptions, RepairResult, Spec, parse_spec

__all__ = [
    "CostPlanIn",
    "DomainInputError",
    "IamDiffIn",
    "IamRepairIn",
    "install_domain_routes",
    "router",
]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **{code: PROBLEM_RESPONSES[code] for code in (401, 422)},
    503: {
        "model": Problem,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "description": "No cluster is reachable (cost plan)",
    },
}

log = logging.getLogger("opsgraph.server")

router = APIRouter(prefix="/v1", responses=_RESPONSES)

PolicyDocument = dict[str, Any] | str
SpecDocument = dict[str, Any] | list[Any] | str


def _inline_only(value: Any, openers: tuple[str, ...]) -> Any:
    if isinstance(value, str) and not value.lstrip().startswith(openers):
        raise ValueError(
            "expected a JSON object or JSON text; file paths are not read over HTTP "
            "(opsgraph.Client reads a local file and sends its JSON)"
        )
    return value


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IamDiffIn(_Input):
    """Two IAM policies to compare, each as a JSON object or JSON text."""

    policy_a: PolicyDocument = Field(description="The first policy (a JSON object or JSON text).")
    policy_b: PolicyDocument = Field(description="The policy to compare it with.")
    timeout_ms: int = Field(default=10_000, ge=1, le=60_000, description="The solver's time limit.")

    @field_validator("policy_a", "policy_b")
    @classmethod
    def _no_paths(cls, value: Any) -> Any:
        return _inline_only(value, ("{",))


class IamRepairIn(_Input):
    """A policy and the spec its repair must meet (requests, a reference policy, properties)."""

    policy: PolicyDocument = Field(description="The policy to repair (a JSON object or JSON text).")
    spec: SpecDocument = Field(description="The spec: an object, a list of requests, or JSON text.")
    time_budget_s: float = Field(default=60.0, gt=0, le=120, description="The repair search's time limit.")

    @field_validator("policy")
    @classmethod
    def _no_policy_path(cls, value: Any) -> Any:
        return _inline_only(value, ("{",))

    @field_validator("spec")
    @classmethod
    def _no_spec_path(cls, value: Any) -> Any:
        return _inline_only(value, ("{", "["))


class CostPlanIn(_Input):
    namespace: str | None = Field(default=None, max_length=253, description="Report one namespace only.")
    time_limit_s: float = Field(default=20.0, gt=0, le=60, description="The node planner's time limit.")


class DomainInputError(ValueError):
    """A policy or spec in the body is not valid; `pointer` is the JSON pointer into the request."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer}: {message}")
        self.pointer, self.message = pointer, message


def _policy(doc: PolicyDocument, field: str) -> Policy:
    try:
        return parse_policy(doc, source=field)
    except PolicyParseError as exc:
        raise DomainInputError(f"/body/{field}{exc.pointer}", exc.reason) from None


def _spec(doc: SpecDocument) -> Spec:
    try:
        decoded = load_json(doc, "spec") if isinstance(doc, str) else doc
        if isinstance(decoded, dict) and isinstance(decoded.get("reference"), str):
            raise PolicyParseError(
                "/reference", "expected the reference policy inline; file paths are not read over HTTP"
            )
        return parse_spec(decoded, source="spec")
    except PolicyParseError as exc:
        raise DomainInputError(f"/body/spec{exc.pointer}", exc.reason) from None


def _diff(body: IamDiffIn, ctx: ToolContext) -> Comparison:
    from tools.iam.calls import diff

    a, b = _policy(body.policy_a, "policy_a"), _policy(body.policy_b, "policy_b")
    return diff(a, b, ctx, timeout_ms=body.timeout_ms)  # the engine serialises its Z3 calls itself


def _repair(body: IamRepairIn, ctx: ToolContext) -> RepairResult:
    from tools.iam.calls import repair_policy

    policy, spec = _policy(body.policy, "policy"), _spec(body.spec)
    return repair_policy(policy, spec, ctx, RepairOptions(time_budget_s=body.time_budget_s))


def _plan(body: CostPlanIn, ctx: ToolContext) -> CostReport:
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError

    from tools.cost.calls import plan

    try:
        return plan(ctx, namespace=body.namespace or None, time_limit_s=body.time_limit_s)
    except (ConfigException, HTTPError, ApiException, OSError) as exc:
        # the details (kubeconfig paths, addresses) stay in the server's log, not in the answer
        log.warning("cost plan: no cluster is reachable: %s: %s", type(exc).__name__, exc)
        raise HTTPException(
            503, f"no cluster is reachable ({type(exc).__name__}); see the server log"
        ) from None


@router.post("/iam/diff", tags=["iam"], summary="Compare two IAM policies (proven by Z3)")
async def iam_diff(body: IamDiffIn, state: CurrentState, _principal: CurrentPrincipal) -> Comparison:
    """Equivalent, less or more permissive, incomparable, or unknown (a solver timeout, never a proof),
    with counterexample requests confirmed by the concrete evaluator."""
    return await run_in_threadpool(_diff, body, state.tool_context)


@router.post("/iam/repair", tags=["iam"], summary="Repair an IAM policy against a spec")
async def iam_repair(body: IamRepairIn, state: CurrentState, _principal: CurrentPrincipal) -> RepairResult:
    """The fewest edits that make the policy meet the spec, least permissive first, with the proofs."""
    return await run_in_threadpool(_repair, body, state.tool_context)


@router.post("/cost/plan", tags=["cost"], summary="Right-sizing and the cheapest node plan for the cluster")
async def cost_plan(body: CostPlanIn, state: CurrentState, _principal: CurrentPrincipal) -> CostReport:
    """The server's cluster: current vs recommended monthly cost, the node plan with its proven lower bound
    and gap, spot risk and right-sizing. Reads only; 503 when no cluster is reachable."""
    return await run_in_threadpool(_plan, body, state.tool_context)


def _input_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainInputError)
    errors = [ProblemField(pointer=exc.pointer, message=exc.message)]
    return problem_response(422, str(exc), instance=request.url.path, errors=errors)


def install_domain_routes(app: FastAPI) -> None:
    app.add_exception_handler(DomainInputError, _input_problem)
    app.include_router(router)
