"""Load on `opsgraph serve`: N concurrent chats, each one message with one tool call against the sandbox.

    .venv/bin/python bench/server_load.py [--clients 10 50 200] [--port 18181]

Starts `opsgraph serve` on 127.0.0.1 (offline model, SQLite in a temporary data directory, the sandbox
cluster it starts itself), then for each N runs N clients at once: each creates a thread and sends
"list pods in payments" (a supervisor route, one `list_pods` call to the sandbox, a streamed answer).
Reports requests per second (thread creations and messages), p50/p99 time from sending the message to
its first streamed event (the server's `start`: the run is accepted, with the number of runs queued ahead of
it), to the supervisor's `route` (the run's own first step) and to the final answer, errors, and the load
average (the machine may be shared: compare figures taken in one run).
Bounded: at most 200 clients per round and 120 s per round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `sandbox`, not bench/sandbox.py

import httpx

from opsgraph.sandbox_registry import SandboxRegistry

__all__ = ["main"]

ROUND_LIMIT_S = 120.0
MAX_CLIENTS = 200


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _chat(http: httpx.AsyncClient, index: int) -> tuple[float, float, float, int]:
    """One chat; returns seconds from sending the message to the first event, the route and the answer."""
    try:
        created = await http.post("/v1/threads", json={"title": f"load {index}"})
    except httpx.HTTPError as exc:
        raise RuntimeError(f"creating the thread: {type(exc).__name__} {exc}") from exc
    created.raise_for_status()
    thread_id = created.json()["thread_id"]
    start = time.perf_counter()  # the chat's clock starts when the message is sent
    first = route = final = None
    body = {"text": "list pods in payments"}
    async with http.stream("POST", f"/v1/threads/{thread_id}/messages", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            now = time.perf_counter() - start
            first = now if first is None else first
            event = json.loads(line[5:])
            if event["type"] == "error":
                raise RuntimeError(event["message"])
            if event["type"] == "route" and route is None:
                route = now
            if event["type"] == "final":
                final = now
    if first is None or route is None or final is None:
        raise RuntimeError("stream ended without a route or a final answer")
    return first, route, final, 2


async def _round(url: str, clients: int) -> dict[str, float]:
    # Each simulated client has its own connection, as separate users do. (One shared httpx pool of N
    # connections costs O(N) per request to find an idle one: at N = 200 that is seconds of the load
    # generator's own CPU, which would show up as server latency.) Idle connections are kept for less
    # than the server keeps them (uvicorn: 5 s, opsgraph serve: 30 s), so a request never races a close.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=2.0)
    tls = ssl.create_default_context()  # unused over http://, but built once instead of once per client
    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, timeout=ROUND_LIMIT_S, limits=limits, verify=tls)
            )
            for _ in range(clients)
        ]
        start = time.perf_counter()
        tasks = [asyncio.create_task(_chat(http, i)) for i, http in enumerate(https)]
        done, pending = await asyncio.wait(tasks, timeout=ROUND_LIMIT_S)
        wall = time.perf_counter() - start
        for task in pending:
            task.cancel()
    ok = [t.result() for t in done if t.exception() is None]
    failures = [t.exception() for t in done if t.exception() is not None]
    for failure in failures[:3]:
        print(f"  error: {type(failure).__name__}: {failure}", file=sys.stderr)
    errors = len(pending) + len(failures)
    firsts, routes, finals = ([o[i] * 1000 for o in ok] for i in range(3))
    return {
        "clients": clients,
        "wall_s": wall,
        "requests_per_s": sum(o[3] for o in ok) / wall,
        "chats_per_s": len(ok) / wall,
        "first_event_p50_ms": _pct(firsts, 0.5),
        "first_event_p99_ms": _pct(firsts, 0.99),
        "route_p50_ms": _pct(routes, 0.5),
        "route_p99_ms": _pct(routes, 0.99),
        "final_p50_ms": _pct(finals, 0.5),
        "final_p99_ms": _pct(finals, 0.99),
        "final_mean_ms": statistics.fmean(finals) if finals else float("nan"),
        "errors": errors,
        "load_average": os.getloadavg()[0],
    }


def _cpu_by_role(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server process, its run workers and the sandbox (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
        names[pid] = cmdline
    totals = {"server": cpu.get(server_pid, 0.0), "workers": 0.0, "sandbox": 0.0}
    for pid, parent in parents.items():
        if parent == server_pid:
            totals["sandbox" if "sandbox" in names[pid] else "workers"] += cpu[pid]
    return totals


def _serve(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "OPSGRAPH_DATA_DIR": str(data_dir),
        "OPSGRAPH_CONFIG_FILE": str(data_dir / "absent.toml"),
        "OPSGRAPH_MODEL": "offline",
    }
    for name in ("OPSGRAPH_CHECKPOINT_URL", "OPSGRAPH_API_TOKENS", "KUBECONFIG", "OPENAI_API_KEY"):
        env.pop(name, None)
    cmd = [sys.executable, "-m", "opsgraph", "serve", "--port", str(port), "--log-level", "warning"]
    cmd += ["--run-threads", os.environ.get("BENCH_RUN_THREADS", "16")]
    cmd += ["--run-processes", os.environ.get("BENCH_RUN_PROCESSES", "2")]
    return subprocess.Popen(cmd, env=env, stderr=open(data_dir / "serve.log", "wb"))


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"opsgraph serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("opsgraph serve did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--port", type=int, default=18181)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory(prefix="opsgraph-bench-") as tmp:
        proc = _serve(args.port, Path(tmp))
        try:
            _wait_ready(url, proc)
            asyncio.run(_round(url, 5))  # warm-up: imports, first checkpoints, sandbox connections
            print(f"{'N':>4} {'req/s':>7} {'chats/s':>7} {'first p50':>10} {'first p99':>10} "
                  f"{'route p50':>10} {'route p99':>10} "
                  f"{'final p50':>10} {'final p99':>10} {'errors':>6} {'load':>5}  CPU ms/chat: server workers sandbox clients")  # fmt: skip
            for clients in args.clients:
                before = _cpu_by_role(proc.pid)
                client_before = time.process_time()
                r = asyncio.run(_round(url, min(clients, MAX_CLIENTS)))
                after = _cpu_by_role(proc.pid)
                after["clients"], before["clients"] = time.process_time(), client_before
                per_chat = {k: (after[k] - before[k]) * 1000 / r["clients"] for k in after}
                print(f"{r['clients']:>4} {r['requests_per_s']:>7.1f} {r['chats_per_s']:>7.1f} "
                      f"{r['first_event_p50_ms']:>8.0f}ms {r['first_event_p99_ms']:>8.0f}ms "
                      f"{r['route_p50_ms']:>8.0f}ms {r['route_p99_ms']:>8.0f}ms "
                      f"{r['final_p50_ms']:>8.0f}ms {r['final_p99_ms']:>8.0f}ms {r['errors']:>6} "
                      f"{r['load_average']:>5.1f}  {per_chat['server']:6.1f} {per_chat['workers']:7.1f} "
                      f"{per_chat['sandbox']:7.1f} {per_chat['clients']:7.1f}", flush=True)  # fmt: skip
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            SandboxRegistry(Path(tmp) / "sandbox").stop()  # the data directory's sandbox outlives serve
            log = (Path(tmp) / "serve.log").read_text(errors="replace").strip()
            if log:
                print("server log (tail):\n" + "\n".join(log.splitlines()[-15:]), file=sys.stderr)


if __name__ == "__main__":
    main()
