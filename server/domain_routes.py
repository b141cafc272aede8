"""`/v1/iam/diff`, `/v1/iam/repair`, `/v1/cost/plan`: the typed domain calls over HTTP.

They run the same code as `Assistant.iam` / `Assistant.cost` (`tools.iam.calls`, `tools.cost.calls`) and
answer with the same pydantic models. A policy or spec arrives as its content (an object, or JSON text), or
as a path inside the server's workspace (`OPSGRAPH_WORKSPACE`, links resolved): the server's context is
confined, so with no workspace every path is refused and no server file is ever read for a caller. The
solvers run in a worker thread; the calls change nothing, so every authenticated role may make them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from policies import Policy, parse_policy
from policies.parse import PolicyParseError, load_json
from server.models import Problem, ProblemField
from server.problems import PROBLEM_RESPONSES, problem_response
from server.state import CurrentPrincipal, CurrentState
from tools.base import PathRefusedError, ToolContext
from tools.cost.engine import CostReport
from verifiers.iam import Comparison
from verifiers.iam.checks import CheckResult
from verifiers.iam.lint import Finding
from verifiers.iam.repair import RepairOptions, RepairResult, Spec, parse_spec

__all__ = [
    "CostPlanIn",
    "DomainInputError",
    "IamAccessNotGrantedIn",
    "IamDiffIn",
    "IamLintIn",
    "IamLintOut",
    "IamNoNewAccessIn",
    "IamNoPublicAccessIn",
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
_WHAT = "a JSON object, JSON text, or a path in the server's workspace"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IamDiffIn(_Input):
    """Two IAM policies to compare, each as a JSON object or JSON text."""

    policy_a: PolicyDocument = Field(description=f"The first policy ({_WHAT}).")
    policy_b: PolicyDocument = Field(description="The policy to compare it with.")
    timeout_ms: int = Field(default=10_000, ge=1, le=60_000, description="The solver's time limit.")


class IamRepairIn(_Input):
    """A policy and the spec its repair must meet (requests, a reference policy, properties)."""

    policy: PolicyDocument = Field(description=f"The policy to repair ({_WHAT}).")
    spec: SpecDocument = Field(description="The spec: an object, a list of requests, JSON text, or a path.")
    time_budget_s: float = Field(default=60.0, gt=0, le=120, description="The repair search's time limit.")


class IamLintIn(_Input):
    """A policy to validate as IAM Access Analyzer does; as JSON text its findings get lines and columns."""

    policy: PolicyDocument = Field(description=f"The policy ({_WHAT}).")
    policy_type: Literal["identity", "resource", "scp"] | None = Field(
        default=None, description="The policy's type (default: resource when a statement names a principal)."
    )


class IamLintOut(BaseModel):
    findings: list[Finding]


class IamNoNewAccessIn(_Input):
    """Does `policy` grant any request `existing` does not?"""

    policy: PolicyDocument = Field(description=f"The new policy ({_WHAT}).")
    existing: PolicyDocument = Field(description="The policy it must not grant more than.")
    timeout_ms: int = Field(default=10_000, ge=1, le=60_000, description="The check's time budget.")


class IamAccessNotGrantedIn(_Input):
    """Does `policy` grant any of `actions` (on any of `resources`)?"""

    policy: PolicyDocument = Field(description=f"The policy ({_WHAT}).")
    actions: list[str] = Field(
        default_factory=list, max_length=100, description="Actions (wildcards allowed)."
    )
    resources: list[str] = Field(
        default_factory=list, max_length=100, description="Resource ARNs (wildcards allowed)."
    )
    timeout_ms: int = Field(default=10_000, ge=1, le=60_000, description="The check's time budget.")


class IamNoPublicAccessIn(_Input):
    """Does the resource policy grant anything to a caller outside the principals and sources it names?"""

    policy: PolicyDocument = Field(description=f"The resource policy ({_WHAT}).")
    resource_type: str = Field(description="The resource type, e.g. AWS::S3::Bucket or AWS::KMS::Key.")
    timeout_ms: int = Field(default=10_000, ge=1, le=60_000, description="The check's time budget.")


class CostPlanIn(_Input):
    namespace: str | None = Field(default=None, max_length=253, description="Report one namespace only.")
    effort: float = Field(
        default=1.0,
        gt=0,
        le=3,
        description="The node planner's work limit, scaled (plans do not depend on load).",
    )


class DomainInputError(ValueError):
    """A policy or spec in the body is not valid; `pointer` is the JSON pointer into the request."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(f"{pointer}: {message}")
        self.pointer, self.message = pointer, message


def _path(raw: str, pointer: str, ctx: ToolContext, base: Path | None = None) -> Path:
    """A file a caller named: inside the server's workspace, or refused (the context is confined)."""
    try:
        return ctx.resolve(raw, base=base)
    except PathRefusedError as exc:
        raise DomainInputError(pointer, str(exc)) from None


def _read(path: Path, pointer: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:  # the reason only: the workspace's own path stays on the server
        raise DomainInputError(
            pointer, f"cannot read the file: {exc.strerror or type(exc).__name__}"
        ) from None


def _policy(doc: PolicyDocument, field: str, ctx: ToolContext) -> Policy:
    pointer = f"/body/{field}"
    if isinstance(doc, str) and not doc.lstrip().startswith("{"):
        doc = _read(_path(doc, pointer, ctx), pointer)
    try:
        return parse_policy(doc, source=field)
    except PolicyParseError as exc:
        raise DomainInputError(f"{pointer}{exc.pointer}", exc.reason) from None


def _spec(doc: SpecDocument, ctx: ToolContext) -> Spec:
    base = None
    if isinstance(doc, str) and not doc.lstrip().startswith(("{", "[")):
        path = _path(doc, "/body/spec", ctx)
        doc, base = _read(path, "/body/spec"), path.parent
    try:
        decoded = load_json(doc, "spec") if isinstance(doc, str) else doc
        if isinstance(decoded, dict) and isinstance(decoded.get("reference"), str):
            reference = _path(decoded["reference"], "/body/spec/reference", ctx, base)
            decoded = {
                **decoded,
                "reference": load_json(_read(reference, "/body/spec/reference"), "reference"),
            }
        return parse_spec(decoded, source="spec")
    except PolicyParseError as exc:
        raise DomainInputError(f"/body/spec{exc.pointer}", exc.reason) from None


def _diff(body: IamDiffIn, ctx: ToolContext) -> Comparison:
    from tools.iam.calls import diff

    a, b = _policy(body.policy_a, "policy_a", ctx), _policy(body.policy_b, "policy_b", ctx)
    return diff(a, b, ctx, timeout_ms=body.timeout_ms)  # the engine serialises its Z3 calls itself


def _repair(body: IamRepairIn, ctx: ToolContext) -> RepairResult:
    from tools.iam.calls import repair_policy

    policy, spec = _policy(body.policy, "policy", ctx), _spec(body.spec, ctx)
    return repair_policy(policy, spec, ctx, RepairOptions(time_budget_s=body.time_budget_s))


def _lint(body: IamLintIn, ctx: ToolContext) -> IamLintOut:
    from verifiers.iam.lint import lint, lint_text

    doc = body.policy
    if isinstance(doc, str) and not doc.lstrip().startswith("{"):
        doc = _read(_path(doc, "/body/policy", ctx), "/body/policy")
    if isinstance(doc, str):  # text: a policy that does not parse is a finding, and findings get lines
        return IamLintOut(findings=lint_text(doc, path="policy", kind=body.policy_type))
    return IamLintOut(findings=lint(_policy(doc, "policy", ctx), kind=body.policy_type))


def _checked(run: Any) -> CheckResult:
    try:
        result: CheckResult = run()
    except ValueError as exc:  # the engine's refusal of the input (an unsupported resource type ...)
        raise DomainInputError("/body", str(exc)) from None
    return result


def _no_new_access(body: IamNoNewAccessIn, ctx: ToolContext) -> CheckResult:
    from verifiers.iam.checks import check_no_new_access

    new, old = _policy(body.policy, "policy", ctx), _policy(body.existing, "existing", ctx)
    return check_no_new_access(new, old, timeout_ms=body.timeout_ms)


def _access_not_granted(body: IamAccessNotGrantedIn, ctx: ToolContext) -> CheckResult:
    from verifiers.iam.checks import check_access_not_granted

    policy = _policy(body.policy, "policy", ctx)
    return _checked(
        lambda: check_access_not_granted(
            policy, actions=body.actions, resources=body.resources, timeout_ms=body.timeout_ms
        )
    )


def _no_public_access(body: IamNoPublicAccessIn, ctx: ToolContext) -> CheckResult:
    from verifiers.iam.checks import check_no_public_access

    policy = _policy(body.policy, "policy", ctx)
    return _checked(
        lambda: check_no_public_access(policy, resource_type=body.resource_type, timeout_ms=body.timeout_ms)
    )


def _plan(body: CostPlanIn, ctx: ToolContext) -> CostReport:
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError

    from tools.cost.calls import plan

    try:
        return plan(ctx, namespace=body.namespace or None, effort=body.effort)
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


@router.post("/iam/lint", tags=["iam"], summary="Validate an IAM policy as IAM Access Analyzer does")
async def iam_lint(body: IamLintIn, state: CurrentState, _principal: CurrentPrincipal) -> IamLintOut:
    """Findings with severity (error, security_warning, warning, suggestion), code, JSON pointer, and line
    and column when the policy came as text; a policy that does not parse is one finding."""
    return await run_in_threadpool(_lint, body, state.tool_context)


@router.post(
    "/iam/checks/no-new-access", tags=["iam"], summary="Does a policy grant access another does not?"
)
async def iam_no_new_access(
    body: IamNoNewAccessIn, state: CurrentState, _principal: CurrentPrincipal
) -> CheckResult:
    """PASS (proven), FAIL with a counterexample request and the statements that grant it, or UNKNOWN."""
    return await run_in_threadpool(_no_new_access, body, state.tool_context)


@router.post(
    "/iam/checks/access-not-granted", tags=["iam"], summary="Does a policy grant any of these actions?"
)
async def iam_access_not_granted(
    body: IamAccessNotGrantedIn, state: CurrentState, _principal: CurrentPrincipal
) -> CheckResult:
    """PASS (proven), FAIL with a counterexample request and the statements that grant it, or UNKNOWN."""
    return await run_in_threadpool(_access_not_granted, body, state.tool_context)


@router.post(
    "/iam/checks/no-public-access", tags=["iam"], summary="Does a resource policy grant public access?"
)
async def iam_no_public_access(
    body: IamNoPublicAccessIn, state: CurrentState, _principal: CurrentPrincipal
) -> CheckResult:
    """PASS (proven), FAIL with an outsider's request and the statements that grant it, or UNKNOWN."""
    return await run_in_threadpool(_no_public_access, body, state.tool_context)


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
