"""`opsgraph iam check-no-new-access`, `check-access-not-granted`, `check-no-public-access`: IAM Access
Analyzer's custom policy checks, proven with Z3, with exit codes for a CI gate.

`register(app)` adds the commands to the `iam` typer app. Only typer is imported at module level.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from verifiers.iam.checks import CheckResult

__all__ = ["EXIT_CODES", "register", "render_check"]

EXIT_CODES = {"PASS": 0, "FAIL": 1, "UNKNOWN": 3}
"""A failed check exits 1; an undecided one 3; unreadable input 2 (as typer's usage errors)."""
_EPILOG = "Exit codes: 0 PASS, 1 FAIL, 2 unreadable input or bad options, 3 UNKNOWN (not proven either way)."
_JSON = typer.Option(False, "--json", help="Machine-readable output.")
_TIMEOUT = typer.Option(
    10_000, "--timeout-ms", help="Time budget for the whole check (UNKNOWN when it runs out)."
)


def _load(spec: str) -> Any:
    from policies import PolicyParseError, load_policy

    try:
        return load_policy(spec)
    except PolicyParseError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def render_check(result: CheckResult, subject: str) -> str:
    """The result for a person: the verdict, then the counterexample and the statements that grant it."""
    lines = [f"{result.result}: {result.message}" + (f" ({result.reason})" if result.reason else "")]
    if result.counterexample is not None:
        lines.append(f"  counterexample: {json.dumps(result.counterexample.to_json())}")
        if result.check == "no-public-access":
            lines.append(f"  caller: {result.counterexample.principal or 'anonymous (no principal)'}")
    for m in result.statements:
        sid = f" ({m.sid})" if m.sid else ""
        lines.append(
            f"  granted by {subject} Statement[{m.statement}]{sid} at /Statement/{m.statement}: {m.why}"
        )
    return "\n".join(lines)


def _finish(result: CheckResult, subject: str, as_json: bool) -> None:
    _show(result, subject, as_json)
    raise typer.Exit(EXIT_CODES[result.result])


def _show(result: CheckResult, subject: str, as_json: bool) -> None:
    typer.echo(
        json.dumps({"policy": subject, **result.to_json()}) if as_json else render_check(result, subject)
    )


def _finish_all(results: list[tuple[CheckResult, str]], as_json: bool) -> None:
    """Several policies (a pre-commit hook passes every changed file): each result, then the worst code."""
    for result, subject in results:
        if not as_json and len(results) > 1:
            typer.echo(f"{subject}:")
        _show(result, subject, as_json)
    outcomes = {r.result for r, _ in results}
    raise typer.Exit(1 if "FAIL" in outcomes else 3 if "UNKNOWN" in outcomes else 0)


def check_no_new_access(
    new: str = typer.Argument(..., help="The new policy (file or inline JSON)."),
    existing: str = typer.Option(..., "--existing", help="The policy it must not grant more than."),
    as_json: bool = _JSON,
    timeout_ms: int = _TIMEOUT,
) -> None:
    """PASS when NEW grants no request EXISTING does not; FAIL shows one it grants, and the statements."""
    from verifiers.iam.budget import time_budget
    from verifiers.iam.checks import check_no_new_access as run

    with time_budget(timeout_ms):
        result = run(_load(new), _load(existing), timeout_ms=timeout_ms)
    _finish(result, new, as_json)


def check_access_not_granted(
    policies: list[str] = typer.Argument(..., help="Policy files (or inline JSON)."),
    action: list[str] = typer.Option([], "--action", help="An action that must not be granted (repeatable)."),
    resource: list[str] = typer.Option(
        [], "--resource", help="A resource it must not be granted on (repeatable)."
    ),
    as_json: bool = _JSON,
    timeout_ms: int = _TIMEOUT,
) -> None:
    """PASS when each policy grants none of the actions (on any of the resources, when given)."""
    from verifiers.iam.budget import time_budget
    from verifiers.iam.checks import check_access_not_granted as run

    if not action and not resource:
        typer.echo("error: give at least one --action or --resource", err=True)
        raise typer.Exit(2)
    results = []
    for policy in policies:
        with time_budget(timeout_ms):
            results.append(
                (run(_load(policy), actions=action, resources=resource, timeout_ms=timeout_ms), policy)
            )
    _finish_all(results, as_json)


def check_no_public_access(
    policies: list[str] = typer.Argument(..., help="Resource policy files (or inline JSON)."),
    resource_type: str = typer.Option(..., "--resource-type", help="e.g. AWS::S3::Bucket, AWS::KMS::Key."),
    as_json: bool = _JSON,
    timeout_ms: int = _TIMEOUT,
) -> None:
    """PASS when each resource policy grants nothing to anyone outside the principals and sources it names."""
    from verifiers.iam.budget import time_budget
    from verifiers.iam.checks import PUBLIC_RESOURCE_TYPES
    from verifiers.iam.checks import check_no_public_access as run

    if resource_type not in PUBLIC_RESOURCE_TYPES:
        typer.echo(f"error: --resource-type takes one of {', '.join(PUBLIC_RESOURCE_TYPES)}", err=True)
        raise typer.Exit(2)
    results = []
    for policy in policies:
        with time_budget(timeout_ms):
            try:
                results.append(
                    (run(_load(policy), resource_type=resource_type, timeout_ms=timeout_ms), policy)
                )
            except ValueError as exc:
                typer.echo(f"error: {policy}: {exc}", err=True)
                raise typer.Exit(2) from None
    _finish_all(results, as_json)


def register(app: typer.Typer) -> None:
    for fn in (check_no_new_access, check_access_not_granted, check_no_public_access):
        app.command(name=fn.__name__.replace("_", "-"), epilog=_EPILOG)(fn)
