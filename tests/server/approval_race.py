"""The approval race: two real `opsgraph serve` processes on one checkpoint database and one sandbox
cluster; for each of N threads, the same approval is sent to both servers at the same instant.

Executions are counted twice, independently: by the audit rows of the approved call (what opsgraph
says it did) and by the sandbox's own request log (what the cluster received: the non-dry-run writes to
the Deployment's scale subresource). `run_race` is what tests/server/test_approval_race.py asserts on; run
this module directly to measure another checkout (`python -m tests.server.approval_race URL [SOURCE]`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "race"

__all__ = ["RaceResult", "run_race"]


@dataclass
class RaceResult:
    threads: int
    statuses: Counter[str] = field(default_factory=Counter)
    """How the pairs of answers went, e.g. {"200+409": 30}."""
    audited: dict[str, int] = field(default_factory=dict)
    """Per thread: audit rows of an executed approved call (status ok or error)."""
    cluster_writes: dict[str, int] = field(default_factory=dict)
    """Per Deployment: writes to its scale subresource the sandbox received (dry runs left out)."""
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "threads": self.threads,
            "answers": dict(self.statuses),
            "executions_per_approval_audit": dict(Counter(self.audited.values())),
            "executions_per_approval_cluster": dict(Counter(self.cluster_writes.values())),
            "threads_executed_twice_audit": sum(1 for n in self.audited.values() if n > 1),
            "threads_executed_twice_cluster": sum(1 for n in self.cluster_writes.values() if n > 1),
            "seconds": round(self.seconds, 1),
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _sandbox(folder: Path) -> Iterator[tuple[Path, Path]]:
    """A sandbox process logging every request; yields its kubeconfig and its request log."""
    kubeconfig, log = folder / "kubeconfig", folder / "sandbox-requests.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox",
                "--scenario",
                "empty",
                "--kubeconfig",
                str(kubeconfig),
                "--verbose",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        try:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line.startswith("sandbox ready"):
                raise RuntimeError(f"the sandbox did not start: {log.read_text()[-2000:]}")
            yield kubeconfig, log
        finally:
            proc.terminate()
            proc.wait(10)
            if proc.stdout:
                proc.stdout.close()


@contextmanager
def _server(
    env: dict[str, str], source: Path, folder: Path, name: str, args: list[str] | None = None
) -> Iterator[str]:
    """`opsgraph serve` on a free port; `args` (with PORT for the port) replaces the default arguments."""
    port = _free_port()
    out = (folder / f"{name}.log").open("w")
    serve = [
        a.replace("PORT", str(port)) for a in args or ["serve", "--port", "PORT", "--run-processes", "0"]
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", *serve],
        cwd=source,
        env={**env, "PYTHONPATH": str(source)},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited: {(folder / f'{name}.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()


def _deployments(kubeconfig: Path, count: int) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call]
    try:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
        apps = client.AppsV1Api(api)
        for i in range(count):
            labels = {"app": f"app-{i}"}
            apps.create_namespaced_deployment(
                NAMESPACE,
                {
                    "metadata": {"name": f"app-{i}"},
                    "spec": {
                        "replicas": 1,
                        "selector": {"matchLabels": labels},
                        "template": {
                            "metadata": {"labels": labels},
                            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
                        },
                    },
                },
            )
    finally:
        api.close()


def _events(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]


def _one_thread(i: int, first: str, second: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """Pause thread i at its approval on the first server, then approve it on both at the same instant."""
    with httpx.Client(timeout=120, headers=headers) as http:
        thread_id = http.post(f"{first}/v1/threads", json={"title": f"race {i}"}).json()["thread_id"]
        text = f"scale deploy app-{i} to 3 in {NAMESPACE}"
        paused = _events(http.post(f"{first}/v1/threads/{thread_id}/messages", json={"text": text}))
        if not paused or paused[-1]["type"] != "interrupt":
            raise RuntimeError(f"thread {i} did not stop at the approval: {paused[-3:]}")
    barrier = threading.Barrier(2)
    codes: list[str] = ["", ""]

    def approve(n: int, base: str) -> None:
        with httpx.Client(timeout=120, headers=headers) as http:
            barrier.wait()
            response = http.post(f"{base}/v1/threads/{thread_id}/approvals", json={"decision": "approve"})
            codes[n] = str(response.status_code)

    racers = [threading.Thread(target=approve, args=(n, base)) for n, base in enumerate((first, second))]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    return thread_id, "+".join(sorted(codes))


def _cluster_writes(log: Path) -> dict[str, int]:
    pattern = re.compile(
        rf'"(?:PATCH|PUT) /apis/apps/v1/namespaces/{NAMESPACE}/deployments/(app-\d+)/scale(\?[^ ]*)?'
    )
    counts: Counter[str] = Counter()
    for line in log.read_text().splitlines():
        match = pattern.search(line)
        if match and "dryRun" not in (match.group(2) or ""):
            counts[match.group(1)] += 1
    return dict(counts)


def _audited(checkpoint_url: str, thread_ids: list[str]) -> dict[str, int]:
    from agents.store import open_store

    store = open_store(checkpoint_url)
    try:
        return {
            t: sum(
                1
                for e in store.audit(t)
                if e.decision in ("approved", "edited") and e.status in ("ok", "error")
            )
            for t in thread_ids
        }
    finally:
        store.close()


def run_race(checkpoint_url: str, threads: int = 30, source: Path = ROOT, parallel: int = 4) -> RaceResult:
    """Race `threads` approvals across two `opsgraph serve` processes (running the code at `source`)."""
    started = time.perf_counter()
    result = RaceResult(threads)
    with tempfile.TemporaryDirectory(prefix="opsgraph-race-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        kubeconfig, log = stack.enter_context(_sandbox(folder))
        _deployments(kubeconfig, threads)
        env = {
            **os.environ,
            "OPSGRAPH_CHECKPOINT_URL": checkpoint_url,
            "OPSGRAPH_KUBECONFIG": str(kubeconfig),
            "OPSGRAPH_DATA_DIR": str(folder / "data"),
            "OPSGRAPH_MODEL": "offline",
        }
        env.pop("OPSGRAPH_API_TOKENS", None)
        with ThreadPoolExecutor(2) as pool:  # both servers start at once, on the same (fresh) database
            starting = [
                pool.submit(stack.enter_context, _server(env, source, folder, name)) for name in ("a", "b")
            ]
            first, second = (s.result() for s in starting)
        with ThreadPoolExecutor(parallel) as pool:
            done = list(pool.map(lambda i: _one_thread(i, first, second), range(threads)))
        result.statuses = Counter(code for _, code in done)
        result.audited = _audited(checkpoint_url, [t for t, _ in done])
        result.cluster_writes = {f"app-{i}": 0 for i in range(threads)} | _cluster_writes(log)
    result.seconds = time.perf_counter() - started
    return result


if __name__ == "__main__":
    source = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else ROOT
    print(json.dumps(run_race(sys.argv[1], source=source).summary(), indent=2))
