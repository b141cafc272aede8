"""`python -m sandbox`: serve a sandbox cluster until interrupted (what `opsgraph sandbox` runs)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="A local Kubernetes API sandbox.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument(
        "--scenario", default="default", help="initial state: default (demo shop), kagent or empty"
    )
    parser.add_argument("--kubeconfig", type=Path, required=True, help="where to write the kubeconfig")
    parser.add_argument(
        "--state", type=Path, default=None, help="SQLite file: loaded at start if present, saved at exit"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    from sandbox.app import build_server
    from sandbox.kubeconfig import write_kubeconfig
    from sandbox.server import serve_in_thread

    try:
        server = build_server(args.scenario, args.port, args.state, verbose=args.verbose)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    api_url = server.https_url if server.ca_pem else server.url
    path = write_kubeconfig(args.kubeconfig, api_url, server.api.authenticator.tokens, ca_pem=server.ca_pem)
    serve_in_thread(server)
    print(
        f"sandbox ready url={server.url} kubeconfig={path} startup_ms={(time.perf_counter() - started) * 1000:.0f}",
        flush=True,
    )
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    last_tick = time.monotonic()
    while not stop["now"]:
        time.sleep(0.2)
        if time.monotonic() - last_tick > 15:
            server.api.cluster.tick()
            last_tick = time.monotonic()
    server.shutdown()
    if args.state is not None:
        server.api.cluster.store.save(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
