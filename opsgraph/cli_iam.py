"""`opsgraph iam ...`: IAM policies: check requests, compare, lint, explain (proven with Z3).

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

__all__ = ["app"]

app = typer.Typer(
    help="IAM policies: validate, compare, explain, repair, synthesize (proven with Z3).",
    no_args_is_help=True,
)

_JSON = typer.Option(False, "--json", help="Machine-readable output.")
_TIMEOUT = typer.Option(
    10_000,
    "--timeout-ms",
    help="Time budget for the whole command, reading and encoding the policies included "
    "(the answer is `unknown` when it runs out).",
)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _load(path: str) -> Any:
    from policies import PolicyParseError, load_policy

    try:
        return load_policy(path)
    except PolicyParseError as exc:
        raise _fail(str(exc)) from None


@app.command()
def check(
    policy: str = typer.Argument(..., help="Identity policy file (or inline JSON)."),
    request: Path = typer.Option(
        ..., "--request", "-r", help="Request JSON, a CloudFix suite, or JSON Lines."
    ),
    resource_policy: list[str] = typer.Option(
        [], "--resource-policy", help="Resource-based policy (repeatable)."
    ),
    boundary: list[str] = typer.Option([], "--boundary", help="Permissions boundary (repeatable)."),
    session_policy: list[str] = typer.Option([], "--session-policy", help="Session policy (repeatable)."),
    scp: list[str] = typer.Option([], "--scp", help="Service control policy (repeatable)."),
    as_json: bool = _JSON,
) -> None:
    """Decide each request: Allowed / ExplicitlyDenied / ImplicitlyDenied, with the statements that matched
    and the condition keys the policies consult that the request does not supply."""
    from policies import PolicyParseError, PolicySet, parse_requests
    from verifiers.iam import evaluate
    from verifiers.iam.evaluate import missing_keys

    pset = PolicySet(
        identity=(_load(policy),),
        resource=tuple(_load(p) for p in resource_policy),
        boundary=tuple(_load(p) for p in boundary),
        session=tuple(_load(p) for p in session_policy),
        scp=tuple(_load(p) for p in scp),
    )
    try:
        requests = parse_requests(request.read_text(encoding="utf-8"), source=str(request))
    except OSError as exc:
        raise _fail(f"{request}: {exc.strerror or exc}") from None
    except PolicyParseError as exc:
        raise _fail(str(exc)) from None
    failures = 0
    for n, req in enumerate(requests, 1):
        decision = evaluate(pset, req)
        ok = None if req.expected is None else (decision.allowed == (req.expected == "Allow"))
        failures += ok is False
        matched = [m.describe() for m in decision.matched]
        missing = missing_keys(pset, req)
        if as_json:
            row = {
                "id": req.id or str(n),
                "decision": decision.decision,
                "expected": req.expected,
                "ok": ok,
                "matched": matched,
                "missing_keys": missing,
            }
            typer.echo(json.dumps(row))
            continue
        mark = "" if ok is None else ("  ok" if ok else f"  MISMATCH (expected {req.expected})")
        typer.echo(f"{req.id or n}: {req.action} on {req.resource}: {decision.decision}{mark}")
        for m in decision.matched:
            typer.echo(f"    {m.describe()}: {m.why}")
        for key, where in missing.items():
            typer.echo(f"    not supplied: {key} (consulted by {'; '.join(where)})")
    if not as_json and any(r.expected for r in requests):
        typer.echo(f"{len(requests) - failures}/{len(requests)} requests as expected")


@app.command()
def diff(
    policy_a: str = typer.Argument(..., help="First policy."),
    policy_b: str = typer.Argument(..., help="Second policy."),
    as_json: bool = _JSON,
    timeout_ms: int = _TIMEOUT,
) -> None:
    """How permissive A is relative to B, with counterexample requests (proven with Z3)."""
    from verifiers.iam import compare
    from verifiers.iam.budget import time_budget

    with time_budget(timeout_ms):
        result = compare(_load(policy_a), _load(policy_b), timeout_ms=timeout_ms)
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    typer.echo(
        f"{policy_a} is {result.relation.replace('_', ' ')}"
        + ("" if result.relation in ("equivalent", "unknown", "incomparable") else f" than {policy_b}")
        + ("" if result.relation != "equivalent" else f" to {policy_b}")
    )
    if result.reason:
        typer.echo(f"  unverified: {result.reason}")
    for ce in result.counterexamples:
        who, other = (policy_a, policy_b) if ce.allowed_by == "first" else (policy_b, policy_a)
        typer.echo(f"  allowed by {who}, denied by {other}: {json.dumps(ce.request.to_json())}")


_LINT_EXIT = """Exit codes: 0 no finding at or above --fail-on; 1 some finding at or above it (a policy that
does not parse is an error finding); 2 a file could not be read."""


@app.command(epilog=_LINT_EXIT)
def lint(
    policies: list[str] = typer.Argument(..., help="Policy files (or inline JSON)."),
    as_json: bool = _JSON,
    sarif: bool = typer.Option(False, "--sarif", help="SARIF 2.1.0 output, for code-scanning tools."),
    policy_type: str = typer.Option(
        "auto",
        "--policy-type",
        help="identity, resource or scp (auto: resource when a statement names a principal).",
    ),
    fail_on: str = typer.Option(
        "error",
        "--fail-on",
        help="The least severe finding that fails: error, security_warning, warning, suggestion.",
    ),
) -> None:
    """Validate policies as IAM Access Analyzer does: located findings with severities and codes."""
    from verifiers.iam.lint import SEVERITIES, Finding, lint_text, to_sarif

    if fail_on not in SEVERITIES:
        raise _fail(f"--fail-on takes one of {', '.join(SEVERITIES)}, not {fail_on!r}")
    if policy_type not in ("auto", "identity", "resource", "scp"):
        raise _fail(f"--policy-type takes identity, resource, scp or auto, not {policy_type!r}")
    kind = None if policy_type == "auto" else policy_type
    findings: list[Finding] = []
    unreadable = False
    for spec in policies:
        inline = spec.strip().startswith("{")
        try:
            text = spec if inline else Path(spec).read_text(encoding="utf-8")
        except OSError as exc:
            typer.echo(f"error: {spec}: cannot read policy file: {exc.strerror or exc}", err=True)
            unreadable = True
            continue
        findings.extend(lint_text(text, path="<inline>" if inline else spec, kind=kind))  # type: ignore[arg-type]
    if sarif:
        typer.echo(json.dumps(to_sarif(findings), indent=1))
    elif as_json:
        typer.echo(json.dumps({"findings": [f.model_dump(exclude_none=True) for f in findings]}))
    else:
        for f in findings:
            typer.echo(f.text())
        counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
        summary = ", ".join(
            f"{n} {s.replace('_', ' ')}{'s' if n != 1 else ''}" for s, n in counts.items() if n
        )
        typer.echo(f"{len(findings)} finding(s){': ' + summary if summary else ''}")
    if unreadable:
        raise typer.Exit(2)
    worst = SEVERITIES.index(fail_on)  # type: ignore[arg-type]
    if any(SEVERITIES.index(f.severity) <= worst for f in findings):
        raise typer.Exit(1)


@app.command()
def explain(
    policy: str = typer.Argument(..., help="Policy file (or inline JSON)."),
    as_json: bool = _JSON,
    timeout_ms: int = _TIMEOUT,
) -> None:
    """What the policy allows and denies, by regions of actions × resources × conditions."""
    from verifiers.iam import explain as run_explain
    from verifiers.iam.budget import time_budget

    with time_budget(timeout_ms):
        result = run_explain(_load(policy), timeout_ms=timeout_ms)
    if as_json:
        typer.echo(result.model_dump_json())
        return
    typer.echo(result.text)


from opsgraph.cli_iam_agent import register as _register_agent_commands  # noqa: E402

_register_agent_commands(app)

from opsgraph.cli_iam_checks import register as _register_check_commands  # noqa: E402

_register_check_commands(app)
