"""`opsgraph eval ...`: the offline eval suite (datasets, runs, comparisons).

Only typer is imported at module level; everything heavy loads inside the commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["app"]

app = typer.Typer(help="The offline eval suite: datasets, suite runs and reports.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


@app.command("datasets")
def datasets() -> None:
    """List the datasets shipped with opsgraph, with counts and licences."""
    from rich.console import Console
    from rich.table import Table

    from eval.datasets import list_datasets

    table = Table("dataset", "count", "licence", "detail")
    for info in list_datasets():
        table.add_row(info.name, f"{info.count} {info.unit}", info.licence, info.detail)
    Console().print(table)


@app.command("suites")
def suites() -> None:
    """List the suites and whether each can run here."""
    from eval.suite import RunOptions
    from eval.suites import SUITE_NAMES, get_suite

    for name in SUITE_NAMES:
        suite = get_suite(name)
        reason = suite.unavailable_reason(RunOptions())
        state = "ready" if reason is None else f"cannot run: {reason}"
        typer.echo(f"{name:14} {state}\n{'':14} {suite.description}")


@app.command("run")
def run(
    suite: str = typer.Argument(..., help="Suite name (see `opsgraph eval suites`)."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Restrict to one dataset or slice of the suite."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Model for suites that use one (default: settings)."
    ),
    workers: int = typer.Option(1, "--workers", min=1, help="Parallel worker processes."),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: out/SUITE)."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Run only the first K cases."),
    time_limit: float = typer.Option(120.0, "--time-limit", min=0.1, help="Per-case limit in seconds."),
    replay: Path | None = typer.Option(None, "--replay", help="Answer model calls from this cassette."),
    replay_in_order: bool = typer.Option(
        False,
        "--replay-in-order",
        help="With --replay: a request the cassette does not hold gets the next recorded answer (prompts changed).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Skip cases already in OUT/results.jsonl."),
    backend: str = typer.Option("local", "--backend", help="`local` (process pool) or `ray`."),
    address: str | None = typer.Option(
        None, "--address", help="Ray cluster for --backend ray, e.g. ray://HOST:10001 (default: RAY_ADDRESS)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for generated cases."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Run a suite and write results.jsonl, summary.json, report.md and report.html to OUT."""
    import json

    from eval.ray_backend import RayBackendError
    from eval.runner import SuiteUnavailableError, run_suite
    from eval.suite import RunOptions

    if backend not in ("local", "ray"):
        raise _fail(f"--backend must be `local` or `ray`, not {backend!r}")
    if address is not None and backend != "ray":
        raise _fail("--address names a Ray cluster: use it with --backend ray")
    if replay is not None and not replay.is_file():
        raise _fail(f"--replay {replay}: no such file")
    options = RunOptions(
        dataset=dataset,
        model=model,
        workers=workers,
        limit=limit,
        time_limit_s=time_limit,
        replay=replay,
        replay_in_order=replay_in_order,
        resume=resume,
        backend=backend,
        seed=seed,
        address=address,
    )
    out = out or Path("out") / suite
    try:
        outcome = run_suite(suite, options, out, progress=not quiet)
    except KeyError as exc:
        raise _fail(str(exc.args[0])) from None
    except (SuiteUnavailableError, ValueError, ImportError, RayBackendError) as exc:
        raise _fail(str(exc)) from None
    summary = outcome.summary
    typer.echo(
        json.dumps(
            {k: summary[k] for k in ("suite", "cases", "status", "pass_rate", "wall_s", "metrics")},
            default=str,
        )
    )
    typer.echo(f"reports: {out / 'report.md'}, {out / 'report.html'}")


@app.command("compare")
def compare(
    runs: list[Path] = typer.Argument(..., help="Output folders of two or more runs (e.g. one per model)."),
    json_output: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Compare runs: for two, the headline figures and cases that differ; for more, the figures side by side."""
    import json

    from eval.compare_runs import compare_runs, compare_table, format_comparison, format_table

    if len(runs) < 2:
        raise _fail("compare needs at least two run folders")
    try:
        if len(runs) == 2:
            diff = compare_runs(runs[0], runs[1])
            text = format_comparison(diff)
        else:
            diff = compare_table(runs)
            text = format_table(diff)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(diff, indent=1, default=str) if json_output else text)
