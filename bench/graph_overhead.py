"""Graph overhead: a supervisor → agent → tool → answer round trip on the offline model, on SQLite.

Reports the median wall time per request and the median time of one checkpoint write (SqliteSaver.put,
timed by wrapping it). Targets (issue 2): <= 50 ms per round trip, <= 5 ms per checkpoint write.

    .venv/bin/python bench/graph_overhead.py [--requests 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from langchain_core.tools import StructuredTool

from agents.runtime import Runtime
from opsgraph.settings import Settings


def list_pods(namespace: str = "default") -> str:
    """A trivial tool: no I/O, so the measurement is the framework's own overhead."""
    return f"{namespace}: web-1 Running"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(checkpoint_url=f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        tools = {"kubernetes": [StructuredTool.from_function(list_pods)], "iam": [], "cost": []}
        with Runtime(settings, tools=tools) as runtime:
            saver: Any = runtime.store.checkpointer
            put_times: list[float] = []
            real_put = saver.put

            def timed_put(*a: Any, **kw: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return real_put(*a, **kw)
                finally:
                    put_times.append(time.perf_counter() - t0)

            saver.put = timed_put
            for i in range(10):  # warm-up: imports, prepared statements, page cache
                runtime.run("list pods in warmup", thread_id=f"warm-{i}")
            put_times.clear()
            request_times: list[float] = []
            for i in range(args.requests):
                t0 = time.perf_counter()
                result = runtime.run("list pods in payments", thread_id=f"bench-{i}")
                request_times.append(time.perf_counter() - t0)
                assert result.status == "done" and result.answer
    per_request = len(put_times) / args.requests
    print(f"requests: {args.requests}, checkpoints written per request: {per_request:.1f}")
    print(
        f"round trip: median {statistics.median(request_times) * 1000:.1f} ms, "
        f"p90 {statistics.quantiles(request_times, n=10)[-1] * 1000:.1f} ms (target <= 50 ms)"
    )
    print(
        f"checkpoint write: median {statistics.median(put_times) * 1000:.2f} ms, "
        f"p90 {statistics.quantiles(put_times, n=10)[-1] * 1000:.2f} ms (target <= 5 ms)"
    )


if __name__ == "__main__":
    main()
