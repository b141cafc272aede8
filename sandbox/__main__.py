"""`python -m sandbox`: serve a sandbox cluster until interrupted (what `opsgraph sandbox` runs).

With `--state`, the process owns that file while it runs (a lock beside it: a second sandbox on the same
file refuses to start, so no process saves over state it does not own) and saves the cluster into it
within a second of every change, and on exit: a `kill -9` loses at most the last second. With `--record`,
it writes who it is (pid, URL, admin token, files) once it serves, and removes that record on exit.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

__all__ = ["main"]

SAVE_EVERY_S = 1.0
TICK_EVERY_S = 15.0


def _own_state(state: Path) -> IO[str]:
    """Hold `<state>.lock` for as long as this process lives; SystemExit naming the holder when it is busy."""
    state.parent.mkdir(parents=True, exist_ok=True)
    handle = open(f"{state}.lock", "a+")  # noqa: SIM115 - held until the process exits
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        raise SystemExit(f"error: the state file {state} is in use by the sandbox of {holder}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


def _save(store: Any, state: Path) -> None:
    """Save into a fresh file, then swap it in: a kill in the middle of a save leaves the last whole one."""
    fresh = state.with_name(state.name + ".saving")
    fresh.unlink(missing_ok=True)
    store.save(fresh)
    fresh.replace(state)


def _write_record(path: Path, record: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2))
    os.chmod(tmp, 0o600)  # it holds the admin token
    tmp.replace(path)


def _remove_own_record(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="A local Kubernetes API sandbox.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument(
        "--scenario", default="default", help="initial state: default (demo shop), kagent or empty"
    )
    parser.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="SQLite file: loaded at start if present, saved after every change and at exit",
    )
    parser.add_argument("--record", type=Path, default=None, help="where to write this server's record")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from sandbox.app import build_server
    from sandbox.kubeconfig import write_kubeconfig
    from sandbox.server import serve_in_thread

    try:
        lock = _own_state(args.state) if args.state is not None else None
        server = build_server(args.scenario, args.port, args.state, verbose=args.verbose)
    except SystemExit as exc:
        print(exc, file=sys.stderr, flush=True)
        return 1
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    tokens = server.api.authenticator.tokens
    api_url = server.https_url if server.ca_pem else server.url
    path = write_kubeconfig(args.kubeconfig, api_url, tokens, ca_pem=server.ca_pem)
    serve_in_thread(server)
    if args.record is not None:
        _write_record(
            args.record,
            {
                "pid": os.getpid(),
                "url": server.url,
                "https_url": api_url,
                "port": server.server_address[1],
                "token": tokens["admin"],
                "kubeconfig": str(path.resolve()),
                "state": str(args.state.resolve()) if args.state else None,
                "scenario": args.scenario,
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
    print(
        f"sandbox ready url={server.url} kubeconfig={path} startup_ms={(time.perf_counter() - started) * 1000:.0f}",
        flush=True,
    )
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    last_tick = last_save = time.monotonic()
    saved = (id(server.api.cluster.store), server.api.cluster.store.rv)
    while not stop["now"]:
        time.sleep(0.2)
        now = time.monotonic()
        if now - last_tick > TICK_EVERY_S:
            server.api.cluster.tick()
            last_tick = now
        store = server.api.cluster.store  # a reset swaps the cluster, and its store with it
        if args.state is not None and now - last_save > SAVE_EVERY_S and (id(store), store.rv) != saved:
            _save(store, args.state)
            saved, last_save = (id(store), store.rv), now
    server.shutdown()
    if args.state is not None:
        _save(server.api.cluster.store, args.state)
    if args.record is not None:
        _remove_own_record(args.record)
    if lock is not None:
        lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
