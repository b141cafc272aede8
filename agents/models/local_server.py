"""The llama.cpp server process: `python -m agents.models.local_server --model PATH ...`.

Loads the GGUF model with `xllamacpp`, serves llama.cpp's OpenAI-compatible HTTP API on 127.0.0.1 with the
model's own chat template (jinja, so tool calls are parsed where the template defines them; JSON-schema
`response_format` is enforced by a grammar), writes a ready record, and runs until SIGTERM/SIGINT, or, for
a shared server (`--leases`), until no leaseholder has been alive for `--keep-alive` seconds; an owned one
also stops when the process that started it is gone.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.models.local import LocalServerSpec
from agents.models.local_shared import live_leases, locked, process_token

__all__ = ["main", "serve"]

PROMPT_CACHE_MIB = 1024
"""RAM for llama.cpp's prompt cache: an agent alternates a few long system prompts (router, agents), and
each one's KV state kept here is prompt processing not done again (a 1.5B model's 4k tokens ≈ 115 MiB)."""


def _params(spec: LocalServerSpec) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(spec.model)
    params.n_ctx = spec.context_size
    params.n_parallel = 1  # one request at a time, each with the whole context; requests queue
    params.cpuparams.n_threads = spec.threads
    params.cpuparams_batch.n_threads = spec.threads
    params.hostnames = ["127.0.0.1"]
    params.port = spec.port
    params.use_jinja = True
    params.ctx_shift = False  # an overflowing request is an error, never silently truncated
    params.cache_ram_mib = PROMPT_CACHE_MIB
    params.ui = False
    return params


def serve(
    spec: LocalServerSpec, on_ready: Callable[[str], None], idle: Callable[[], bool] | None = None
) -> None:
    """Serve `spec` until SIGTERM/SIGINT (or `idle()` says so, checked every second); `on_ready(base_url)`
    once the model is loaded."""
    import xllamacpp

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    server: Any = xllamacpp.Server(_params(spec))
    on_ready(f"{server.listening_address}/v1")
    while not stop.wait(1.0):
        if idle is not None and idle():
            break
    server = None  # the server's destructor stops its threads


def _idle_check(leases: Path, lock: Path, record: Path, keep_alive_s: float) -> Callable[[], bool]:
    last_used = time.monotonic()

    def idle() -> bool:
        nonlocal last_used
        with locked(lock, wait=False) as held:
            if not held:  # a process is starting, reusing or stopping us: look again in a second
                return False
            if live_leases(leases):
                last_used = time.monotonic()
                return False
            if time.monotonic() - last_used < keep_alive_s:
                return False
            record.unlink(missing_ok=True)  # under the lock: nobody picks up a server that is stopping
            return True

    return idle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a GGUF model with llama.cpp on 127.0.0.1.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--context-size", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True, help="JSON record written once serving")
    parser.add_argument("--leases", type=Path, help="shared server: the folder of leaseholders")
    parser.add_argument("--lock", type=Path, help="shared server: the lock file")
    parser.add_argument("--keep-alive", type=float, default=0.0, help="seconds to serve with no leaseholder")
    args = parser.parse_args(argv)
    spec = LocalServerSpec(args.model, args.context_size, args.threads, args.port)
    ready: Path = args.ready_file

    def on_ready(base_url: str) -> None:
        record = {
            "pid": os.getpid(),
            "token": process_token(os.getpid()),
            "key": ready.stem,
            "base_url": base_url,
            "model": str(spec.model),
            "context_size": spec.context_size,
            "threads": spec.threads,
            "started_at": time.time(),
        }
        partial = ready.with_name(ready.name + ".partial")
        partial.write_text(json.dumps(record))
        partial.replace(ready)
        print(f"serving {spec.model} at {base_url}", flush=True)

    if args.leases is not None and args.lock is not None:
        idle = _idle_check(args.leases, args.lock, ready, args.keep_alive)
    else:  # a server its starter owns: it goes when the starter goes, even one killed without a goodbye
        parent = os.getppid()

        def idle() -> bool:
            return os.getppid() != parent

    try:
        serve(spec, on_ready, idle)
    except Exception as exc:  # the log's last line is what the starting process shows
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        _forget(ready)
    return 0


def _forget(ready: Path) -> None:
    """Remove the ready record if it is still this process's (a SIGTERM, `opsgraph model stop` or the idle
    check end a server; only the last one removed the record itself)."""
    try:
        mine = json.loads(ready.read_text()).get("pid") == os.getpid()
    except (OSError, ValueError):
        return
    if mine:
        ready.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
