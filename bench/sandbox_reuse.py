"""What the shared sandbox saves a process: starting the data directory's sandbox vs reusing the running one.

    .venv/bin/python bench/sandbox_reuse.py [--rounds 5]

In a temporary data directory: `SandboxRegistry.ensure()` when none runs (a start: spawn, load the
scenario, write the kubeconfig and record) and when one runs (a reuse: the record, a process check and one
authenticated HTTP request); then the wall time of a whole `opsgraph ask "list pods in shop"` process, the
first (which starts the sandbox) and the next ones (which reuse it). Medians; the machine may be shared, so
compare the figures of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `sandbox`, not bench/sandbox.py

from opsgraph.sandbox_registry import SandboxRegistry

__all__ = ["main"]


def _ask(data_dir: Path) -> float:
    env = {**os.environ, "OPSGRAPH_DATA_DIR": str(data_dir), "OPSGRAPH_MODEL": "offline"}
    for name in ("KUBECONFIG", "OPSGRAPH_KUBECONFIG", "OPSGRAPH_CHECKPOINT_URL", "OPENAI_API_KEY"):
        env.pop(name, None)
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "opsgraph", "ask", "list pods in shop"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode(errors="replace"))
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-") as tmp:
        registry = SandboxRegistry(Path(tmp) / "registry" / "sandbox")
        starts, reuses = [], []
        try:
            for _ in range(args.rounds):
                began = time.perf_counter()
                registry.ensure()
                starts.append((time.perf_counter() - began) * 1000)
                for _ in range(5):
                    began = time.perf_counter()
                    registry.ensure()
                    reuses.append((time.perf_counter() - began) * 1000)
                registry.stop()
            print(
                f"ensure(), starting the sandbox: median {statistics.median(starts):7.1f} ms ({args.rounds} starts)"
            )
            print(
                f"ensure(), reusing it:           median {statistics.median(reuses):7.1f} ms ({len(reuses)} reuses)"
            )
            data = Path(tmp) / "cli"
            first = _ask(data)
            later = [_ask(data) for _ in range(args.rounds)]
            print(f"`opsgraph ask`, starting it:    {first:7.0f} ms")
            print(
                f"`opsgraph ask`, reusing it:     median {statistics.median(later):7.0f} ms ({args.rounds} runs)"
            )
            print(f"load average: {os.getloadavg()[0]:.1f}")
        finally:
            registry.stop()
            SandboxRegistry(Path(tmp) / "cli" / "sandbox").stop()


if __name__ == "__main__":
    main()
