"""The eval suites on a real local model: routing accuracy, failures, one-tool latency, k8s-tasks solved.

Runs `routing` (the 180 requests, the router's own path), `iam-questions` and `k8s-tasks` on a GGUF file
through `OPSGRAPH_MODEL=local:PATH` (llama.cpp with the provider's default threads), once per tool-call
mode for the suites whose agents call tools (the router does not depend on the mode), records every model
call to each run's cassette, and writes `figures.json` and `figures.md`:

- routing accuracy, overall and by kind (errors count as misses), and how many decisions fell back to
  the request's words;
- over every run: crashes (a case that raised something other than opsgraph's one-line model errors, or
  whose worker died), clean model errors, timeouts, HTTP 400 answers (from the cassettes), and tool JSON
  shown as an answer (a raw tool result or a tool call written as text);
- the median time of a one-tool request (an `iam-questions` check: route, one `check_request`, answer);
- k8s-tasks solved, iam-questions passed.

A run folder that already holds a `summary.json` is read, not run again (`--fresh` reruns), so an
interrupted benchmark continues where it stopped. Long: on 2 shared cores, hours for the 1.5B model;
run it under `nice`, in the background, with a log.

    nice .venv/bin/python bench/real_model.py /work/models/qwen2.5-coder-1.5b-instruct-q4.gguf \\
        --out out/real-model [--modes auto json native] [--iam-limit 31] [--k8s-limit 12]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `sandbox`, not bench/sandbox.py

from eval.answers import is_tool_json
from eval.cassette import load_cassette
from eval.runner import read_results, run_suite
from eval.suite import RunOptions

__all__ = ["failures", "main", "model_figures", "tool_names"]

_MODEL_ERRORS = ("ModelError", "ModelOutputError", "StepLimitError", "ModelUnavailableError")


def tool_names() -> list[str]:
    """Every tool of every domain agent (built over an empty context: nothing connects)."""
    from agents.domains import DOMAINS
    from tools.base import ToolContext

    return [t.name for domain in DOMAINS.values() for t in domain.tools(ToolContext())]


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", flush=True)


def _run(
    suite: str,
    out: Path,
    env: dict[str, str],
    limit: int | None,
    fresh: bool,
    time_limit: float,
    dataset: str | None = None,
) -> Path:
    if (out / "summary.json").is_file() and not fresh:
        _progress(f"{suite}: reading {out} (already run)")
        return out
    _progress(f"{suite}: running into {out} ({limit or 'all'} cases)")
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        run_suite(suite, RunOptions(dataset=dataset, limit=limit, time_limit_s=time_limit, resume=True), out)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    summary = json.loads((out / "summary.json").read_text())
    _progress(f"{suite}: done in {summary['wall_s']:.0f} s: {json.dumps(summary['status'])}")
    return out


def _answers(run: Path) -> Iterator[str]:
    for r in read_results(run):
        answer = r.detail.get("answer")
        if isinstance(answer, str):
            yield answer


def failures(run: Path) -> dict[str, int]:
    """Crashes, clean model errors, timeouts, HTTP 400 answers and tool JSON shown as answers in one run."""
    results = read_results(run)
    errors = [r for r in results if r.status in ("error", "crashed")]
    model_errors = [r for r in errors if (r.error or "").split(":")[0] in _MODEL_ERRORS]
    cassette = run / "cassette.jsonl"
    entries = [e for group in load_cassette(cassette).values() for e in group] if cassette.is_file() else []
    tools = tool_names()
    return {
        "cases": len(results),
        "crashes": len(errors) - len(model_errors),
        "model_errors": len(model_errors),
        "timeouts": sum(r.status == "timeout" for r in results),
        "http_400": sum(e.error is not None and e.error.status_code == 400 for e in entries),
        "tool_json_answers": sum(is_tool_json(a, tools) for a in _answers(run)),
        "model_calls": len(entries),
    }


def model_figures(runs: dict[str, Path]) -> dict[str, Any]:
    """The headline figures of one model's runs (`runs`: label -> run folder)."""
    figures: dict[str, Any] = {"runs": {}}
    totals = dict.fromkeys(
        ("cases", "crashes", "model_errors", "timeouts", "http_400", "tool_json_answers"), 0
    )
    for label, run in runs.items():
        summary = json.loads((run / "summary.json").read_text())
        row = {
            **failures(run),
            "pass_rate": summary["pass_rate"],
            "wall_s": summary["wall_s"],
            "metrics": summary["metrics"],
            "model": summary.get("model", {}),
        }
        figures["runs"][label] = row
        for key in totals:
            totals[key] += row[key]
        suite = summary["suite"]
        if suite == "routing":
            holdout = summary["options"].get("dataset") == "holdout"
            key = "routing_holdout_accuracy" if holdout else "routing_accuracy"
            figures[key] = summary["metrics"]["accuracy"]
            if not holdout:
                figures["routing_by_words"] = summary["metrics"].get("by_words")
                figures["routing_median_s"] = summary["durations"].get("median_s")
        elif suite == "k8s-tasks":
            figures.setdefault("k8s_tasks_solved", {})[label] = (
                f"{summary['status']['pass']}/{summary['cases']}"
            )
        elif suite == "iam-questions":
            figures.setdefault("iam_questions_passed", {})[label] = (
                f"{summary['status']['pass']}/{summary['cases']}"
            )
            one_tool = [
                r.metrics["run_s"]
                for r in read_results(run)
                if r.metrics.get("kind") == "check" and "run_s" in r.metrics
            ]
            if one_tool:
                figures.setdefault("one_tool_median_s", {})[label] = round(statistics.median(one_tool), 1)
    figures["totals"] = totals
    return figures


def _markdown(name: str, figures: dict[str, Any]) -> str:
    lines = [f"### {name}", ""]
    acc = figures.get("routing_accuracy", {})
    if acc:
        lines.append(
            "routing accuracy: "
            + ", ".join(f"{k} {v:.1%}" for k, v in acc.items())
            + f" (decided by the request's words: {figures.get('routing_by_words')}; "
            f"median decision {figures.get('routing_median_s')} s)"
        )
    held = figures.get("routing_holdout_accuracy", {})
    if held:
        lines.append(
            "routing accuracy, held-out requests: " + ", ".join(f"{k} {v:.1%}" for k, v in held.items())
        )
    for key, title in (
        ("iam_questions_passed", "iam-questions passed"),
        ("k8s_tasks_solved", "k8s-tasks solved"),
        ("one_tool_median_s", "median one-tool request (s)"),
    ):
        if key in figures:
            lines.append(f"{title}: " + ", ".join(f"{k} {v}" for k, v in figures[key].items()))
    lines += [
        "",
        "| run | cases | passed | crashes | model errors | timeouts | HTTP 400 | tool JSON as answer | calls | wall (s) |",
    ]
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for label, row in figures["runs"].items():
        passed = round((row["pass_rate"] or 0) * row["cases"])
        lines.append(
            f"| {label} | {row['cases']} | {passed} | {row['crashes']} | {row['model_errors']} | {row['timeouts']} "
            f"| {row['http_400']} | {row['tool_json_answers']} | {row['model_calls']} | {row['wall_s']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="GGUF model file")
    parser.add_argument("--out", type=Path, default=Path("out/real-model"))
    parser.add_argument(
        "--modes", nargs="+", default=["auto", "json", "native"], choices=["auto", "json", "native", "text"]
    )
    parser.add_argument("--suites", nargs="+", default=["routing", "iam-questions", "k8s-tasks"])
    parser.add_argument("--routing-limit", type=int, default=None, help="routing requests (default: all 180)")
    parser.add_argument("--iam-limit", type=int, default=None, help="iam-questions cases (default: all)")
    parser.add_argument(
        "--k8s-limit", type=int, default=12, help="k8s-tasks tasks, spread over core and audits"
    )
    parser.add_argument(
        "--model-timeout", type=float, default=600.0, help="OPSGRAPH_MODEL_TIMEOUT_S for the runs"
    )
    parser.add_argument("--time-limit", type=float, default=1800.0, help="per-case limit in seconds")
    parser.add_argument(
        "--fresh", action="store_true", help="run again even where a run folder has a summary"
    )
    args = parser.parse_args(argv)
    model = args.model.expanduser().resolve()
    if not model.is_file():
        parser.error(f"{model}: no such file")
    root = args.out / model.stem
    base = {"OPSGRAPH_MODEL": f"local:{model}", "OPSGRAPH_MODEL_TIMEOUT_S": str(args.model_timeout)}
    limits = {"routing": args.routing_limit, "iam-questions": args.iam_limit, "k8s-tasks": args.k8s_limit}
    runs: dict[str, Path] = {}
    for suite in args.suites:
        if suite == "routing":
            runs["routing"] = _run(suite, root / "routing", base, limits[suite], args.fresh, args.time_limit)
            runs["routing (held out)"] = _run(
                suite, root / "routing-holdout", base, None, args.fresh, args.time_limit, "holdout"
            )
            continue
        for mode in args.modes:
            env = {**base, "OPSGRAPH_TOOL_CALLS": mode}
            out = root / mode / suite
            runs[f"{suite} ({mode})"] = _run(suite, out, env, limits.get(suite), args.fresh, args.time_limit)
    figures = model_figures(runs)
    figures["model"] = {"file": model.name, "bytes": model.stat().st_size, "cpus": os.cpu_count()}
    (root / "figures.json").write_text(json.dumps(figures, indent=1, default=str) + "\n")
    text = _markdown(model.name, figures)
    (root / "figures.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
