"""The one-tool request on a local GGUF model: time, model calls and llama.cpp's own token counts.

Runs the `check` cases of the `iam-questions` suite ("can role X read bucket Y under the policy in
policy.json?": route, one `check_request`, answer) through the product with `OPSGRAPH_MODEL=local:PATH`,
one after another in this process, and reads llama.cpp's `timings` from every chat-completion response:
prompt tokens processed (`prompt_n`) and served from the prompt cache (`cache_n`), tokens written
(`predicted_n`), and the milliseconds of each. The counts do not depend on the machine's load; the times
do, so the 1-minute load average is printed with each case. The first case includes loading the model.

    .venv/bin/python bench/one_tool.py /work/models/qwen2.5-coder-1.5b-instruct-q4.gguf \\
        [--cases 10] [--threads 2] [--json out/one-tool.json]

Settings come from the environment as usual (`OPSGRAPH_TOOL_CALLS`, `OPSGRAPH_DIRECT_ANSWERS`, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `sandbox`, not bench/sandbox.py

from agents.models import local_transport
from eval.case import Case
from eval.datasets import load_iam_questions
from eval.suite import CaseEnv
from eval.suites.iam_questions import IamQuestionsSuite

__all__ = ["main"]

_CALLS: list[dict[str, Any]] = []
"""The timings of every model call, in order (filled by the transport below)."""


class _Tee(httpx.SyncByteStream):
    """A response body passed on unchanged, read once it ends for llama.cpp's `timings`."""

    def __init__(self, inner: Any, kind: str) -> None:
        self.inner, self.kind, self.body = inner, kind, bytearray()

    def __iter__(self) -> Iterator[bytes]:
        for part in self.inner:
            self.body.extend(part)
            yield part

    def close(self) -> None:
        self.inner.close()
        timings, written = _read(self.body.decode(errors="replace"))
        if timings is not None:
            _CALLS.append({"kind": self.kind, **timings, "text": written})


def _read(body: str) -> tuple[dict[str, Any] | None, str]:
    """llama.cpp's `timings` of a response (JSON or a server-sent-event stream), and the text written."""
    texts = [line.removeprefix("data: ") for line in body.splitlines() if line.startswith("data: {")]
    timings, written = None, []
    for text in texts or [body]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if not isinstance(value, dict):
            continue
        for choice in value.get("choices") or []:
            part = (choice.get("delta") or choice.get("message") or {}).get("content")
            written.append(part or "")
        if isinstance(value.get("timings"), dict):
            timings = dict(value["timings"])
    return timings, "".join(written)


def _kind(request: httpx.Request) -> str:
    """router, step (tools offered) or answer (a final step), from the request body."""
    try:
        body = json.loads(request.content or b"{}")
    except json.JSONDecodeError:
        return "?"
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "")
    if schema == "RouteDecision" or "RouteDecision" in json.dumps(body.get("tools") or []):
        return "router"
    return "answer" if schema == "agent_answer" else "step"


def _install_tee() -> None:
    original = local_transport.LocalServerTransport.handle_request

    def handle_request(self: Any, request: httpx.Request) -> httpx.Response:
        response = original(self, request)
        if request.url.path.endswith("/chat/completions"):
            response.stream = _Tee(response.stream, _kind(request))
        return response

    local_transport.LocalServerTransport.handle_request = handle_request  # type: ignore[method-assign]


def _sum(calls: list[dict[str, Any]], key: str) -> int:
    return int(sum(c.get(key, 0) for c in calls))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="GGUF model file")
    parser.add_argument("--cases", type=int, default=10, help="cases of --kind, from the first (default 10)")
    parser.add_argument(
        "--kind",
        choices=["check", "write"],
        default="check",
        help="IAM checks (default) or policies to write",
    )
    parser.add_argument("--threads", type=int, default=None, help="OPSGRAPH_LOCAL_THREADS")
    parser.add_argument("--json", type=Path, default=None, help="write every case's figures here")
    args = parser.parse_args(argv)
    model = args.model.expanduser().resolve()
    os.environ["OPSGRAPH_MODEL"] = f"local:{model}"
    os.environ.setdefault("OPSGRAPH_MODEL_TIMEOUT_S", "600")
    if args.threads:
        os.environ["OPSGRAPH_LOCAL_THREADS"] = str(args.threads)
    _install_tee()
    suite = IamQuestionsSuite()
    checks = [q for q in load_iam_questions() if q.kind == args.kind][: args.cases]
    rows = []
    print(
        "case                      run s  calls  prompt_n  cache_n  predicted_n  prompt s  gen s  pass  load"
    )
    for q in checks:
        first = len(_CALLS)
        outcome = suite.run_case(Case(id=q.id, data=q.model_dump()), CaseEnv(case_id=q.id, model=None))
        calls = _CALLS[first:]
        row = {
            "case": q.id,
            "run_s": outcome.metrics["run_s"],
            "passed": outcome.passed,
            "tools": outcome.metrics["tools"],
            "calls": [c["kind"] for c in calls],
            "prompt_n": _sum(calls, "prompt_n"),
            "cache_n": _sum(calls, "cache_n"),
            "predicted_n": _sum(calls, "predicted_n"),
            "prompt_s": round(_sum(calls, "prompt_ms") / 1000, 2),
            "predicted_s": round(_sum(calls, "predicted_ms") / 1000, 2),
            "load": round(os.getloadavg()[0], 1),
            # the policy answer held against the request (tools/iam/request_check.py): what it flagged
            "against_request": [
                line.removeprefix("- ⚠️ ")
                for line in str((outcome.detail or {}).get("answer", "")).splitlines()
                if line.startswith("- ⚠️ the request names") or line.startswith("- ⚠️ the policy's ARNs name")
            ],
            "answer": (outcome.detail or {}).get("answer", ""),
            "timings": calls,
        }
        rows.append(row)
        print(
            f"{q.id[:24]:<24} {row['run_s']:>6.1f}  {len(calls):>5}  {row['prompt_n']:>8}  {row['cache_n']:>7}  "
            f"{row['predicted_n']:>11}  {row['prompt_s']:>8.1f}  {row['predicted_s']:>5.1f}  "
            f"{'yes' if row['passed'] else 'no':>4}  {row['load']:>4}",
            flush=True,
        )
    times = [r["run_s"] for r in rows]
    per_call = {
        key: statistics.median([_sum(r["timings"], key) / max(1, len(r["timings"])) for r in rows])
        for key in ("prompt_n", "cache_n", "predicted_n")
    }
    summary = {
        "model": model.name,
        "cases": len(rows),
        "median_s": round(statistics.median(times), 1),
        "median_s_without_first": round(statistics.median(times[1:]), 1) if len(times) > 1 else None,
        "median_calls": statistics.median(len(r["timings"]) for r in rows),
        "median_prompt_n": statistics.median(r["prompt_n"] for r in rows),
        "median_predicted_n": statistics.median(r["predicted_n"] for r in rows),
        "median_per_call": per_call,
        "passed": sum(r["passed"] for r in rows),
        "flagged_against_request": sum(bool(r["against_request"]) for r in rows),
        "load_1min_end": round(os.getloadavg()[0], 1),
        "settings": {k: v for k, v in os.environ.items() if k.startswith("OPSGRAPH_")},
    }
    print(json.dumps(summary, indent=1))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary, "cases": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
