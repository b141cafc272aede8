"""`opsgraph iam repair`, `synthesize` and `summarize`: verified repair, synthesis and summaries (issue 4).

`register(app)` adds the commands to the `iam` typer app. Only typer is imported at module level.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from verifiers.iam.repair.model import Proposer

__all__ = ["register"]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _proposer(with_model: bool) -> Proposer | None:
    """The configured chat model as a policy proposer, when asked for and a real model is configured."""
    if not with_model:
        return None
    from agents.models.factory import ModelConfigError, make_chat_model
    from opsgraph.settings import Settings
    from verifiers.iam.repair.model import chat_proposer

    try:
        settings = Settings()
        if settings.resolved_model() == "offline":
            raise _fail(
                "--with-model needs a real model (OPSGRAPH_MODEL / OPENAI_API_KEY); the offline model cannot write policies"
            )
        return chat_proposer(make_chat_model(settings))
    except (ModelConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None


def _read(kind: str, path: str) -> Any:
    from policies.parse import PolicyParseError, parse_policy
    from verifiers.iam.repair.spec import load_spec

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise _fail(f"cannot read {kind} {path}: {exc.strerror or exc}") from None
    try:
        return parse_policy(text, source=path) if kind == "policy" else load_spec(path, text)
    except PolicyParseError as exc:
        raise _fail(str(exc)) from None


def repair(
    policy: str = typer.Argument(..., help="The policy JSON file to repair."),
    spec: str = typer.Option(
        ..., "--spec", help="Spec: a CloudFix request suite, a list of must-allow requests, or a spec object."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    out: str | None = typer.Option(None, "--out", help="Write the repaired policy to this file."),
    with_model: bool = typer.Option(
        False, "--with-model", help="Let the configured chat model propose candidates too (each is proven)."
    ),
    keep_most: bool = typer.Option(
        False,
        "--keep-most",
        help="Among the fewest-edit repairs, keep the most of the original (not the least permissive).",
    ),
) -> None:
    """Repair a policy to satisfy a spec: fewest edits, least permissive, every claim proven with Z3."""
    from verifiers.iam.repair.render import render_repair
    from verifiers.iam.repair.repair import RepairOptions
    from verifiers.iam.repair.repair import repair as run_repair

    original = _read("policy", policy)
    options = RepairOptions(keep_most=keep_most)
    result = run_repair(original, _read("spec", spec), options, proposer=_proposer(with_model))
    if out and result.policy is not None and result.status in ("repaired", "already_satisfied"):
        Path(out).write_text(json.dumps(result.policy.to_json(), indent=2) + "\n")
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        typer.echo(render_repair(result))
        if out and result.status in ("repaired", "already_satisfied"):
            typer.echo(f"wrote {out}")
    if result.status in ("unsatisfiable", "failed"):
        raise typer.Exit(1)


def _allow_entries(allow: list[str], condition: str | None) -> list[tuple[str, str, dict[str, Any] | None]]:
    """`--allow ACTION=RESOURCE` options and `--condition JSON` as entries; a one-line error naming the
    option otherwise. The entries themselves are checked by `synthesize_allow_list`, which names them."""
    cond: dict[str, Any] | None = None
    if condition:
        try:
            cond = json.loads(condition)
        except json.JSONDecodeError as exc:
            raise _fail(f"--condition: not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(cond, dict):
            raise _fail(
                '--condition: expected an object, operator -> {key: value}, e.g. {"Bool": {"aws:SecureTransport": "true"}}'
            )
    entries = []
    for i, text in enumerate(allow):
        action, sep, resource = text.partition("=")
        if not sep or not action.strip() or not resource.strip():
            raise _fail(
                f"--allow {text!r} (entry {i}): expected ACTION=RESOURCE, e.g. s3:GetObject=arn:aws:s3:::logs/*"
            )
        entries.append((action.strip(), resource.strip(), cond))
    return entries


def synthesize(
    intent: str = typer.Argument("", help="What the policy should allow, in words (needs --with-model)."),
    spec: str | None = typer.Option(
        None, "--spec", help="Requests the policy must allow/deny, a reference, properties."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    out: str | None = typer.Option(None, "--out", help="Write the policy to this file."),
    with_model: bool = typer.Option(
        False, "--with-model", help="Write from the intent with the configured chat model."
    ),
    rounds: int = typer.Option(4, "--rounds", min=1, max=10, help="Counterexample rounds for the model."),
    allow: list[str] = typer.Option(
        [],
        "--allow",
        help="ACTION=RESOURCE the policy allows, and nothing else (repeat it); a * in the resource is a pattern.",
    ),
    condition: str | None = typer.Option(
        None,
        "--condition",
        help='An IAM Condition block for every --allow, e.g. \'{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}\'.',
    ),
) -> None:
    """Write a policy from --allow entries or a spec (least permissive, proven), or from an intent with a
    model (CEGIS)."""
    from verifiers.iam.repair.render import render_synthesis
    from verifiers.iam.repair.synthesize import synthesize as run_synthesis
    from verifiers.iam.repair.synthesize import synthesize_allow_list

    if allow and (spec or with_model):
        raise _fail("give --allow, or --spec / --with-model, not both")
    if condition and not allow:
        raise _fail("--condition applies to --allow entries; give at least one --allow ACTION=RESOURCE")
    if not allow and not spec and not (intent and with_model):
        raise _fail(
            "give --allow ACTION=RESOURCE, --spec (requests to allow and deny), or an intent with --with-model"
        )
    if allow:
        try:
            result = synthesize_allow_list(_allow_entries(allow, condition))
        except ValueError as exc:  # names the entry: /allow/i/action, /allow/i/condition/...
            raise _fail(f"--allow: {exc}") from None
    else:
        parsed = _read("spec", spec) if spec else None
        result = run_synthesis(intent or None, parsed, proposer=_proposer(with_model), rounds=rounds)
    if out and result.policy is not None:
        Path(out).write_text(json.dumps(result.policy.to_json(), indent=2) + "\n")
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else render_synthesis(result))
    if result.status != "synthesized":
        raise typer.Exit(1)


def summarize(
    policy: str = typer.Argument(..., help="The policy JSON file."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """What a policy allows per service and access level, counted against the AWS catalog (checked with Z3)."""
    from verifiers.iam.repair.summarize import summarize as run_summary

    result = run_summary(_read("policy", policy))
    typer.echo(json.dumps(result.to_json(), indent=2) if as_json else result.text)


def register(app: typer.Typer) -> None:
    """Add `repair`, `synthesize` and `summarize` to the `opsgraph iam` app."""
    app.command("repair")(repair)
    app.command("synthesize")(synthesize)
    app.command("summarize")(summarize)
