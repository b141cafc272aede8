"""Two replicas of deploy/'s Deployment on one Postgres, racing approvals (tests/server/approval_race.py's
race, with each server configured as the write overlay configures a pod).

Each replica runs the container's own command line (host and port moved to 127.0.0.1 and a free port), with
the settings ConfigMap and the Secret's tokens as its environment, the shared Postgres as its checkpoint
database, and the cluster reached as the deployed ServiceAccount (the write profile applied to the sandbox,
a token from TokenRequest) instead of the pod's mounted token. Run directly to measure:
`python -m tests.deploy.replicas_race POSTGRES_URL [THREADS]`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.deploy.cluster import ROOT, documents, kubectl, render, service_account_kubeconfig
from tests.server.approval_race import (
    RaceResult,
    _audited,
    _cluster_writes,
    _deployments,
    _one_thread,
    _sandbox,
    _server,
)

__all__ = ["replica_config", "run_replica_race"]


def replica_config(rendered: list[dict[str, Any]]) -> tuple[list[str], dict[str, str], str]:
    """The container's `opsgraph` arguments, its environment (ConfigMap + Secret) and an admin token."""
    kinds = {(d["kind"], d["metadata"]["name"]): d for d in rendered}
    pod = kinds[("Deployment", "opsgraph")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["opsgraph"]
    args = list(container["args"])
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = "PORT"
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        env.update(kinds[("ConfigMap", source["configMapRef"]["name"])]["data"])
    for item in container["env"]:
        ref = item["valueFrom"]["secretKeyRef"]
        value = kinds[("Secret", ref["name"])]["stringData"].get(ref["key"])
        if value is not None:
            env[item["name"]] = value
    admin = next(t.split("=")[0] for t in env["OPSGRAPH_API_TOKENS"].split(",") if t.endswith(":admin"))
    return args, env, admin


def run_replica_race(checkpoint_url: str, threads: int = 12, parallel: int = 4) -> RaceResult:
    started = time.perf_counter()
    result = RaceResult(threads)
    args, pod_env, token = replica_config(documents(render("deploy/overlays/write")))
    with tempfile.TemporaryDirectory(prefix="opsgraph-replicas-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        admin, log = stack.enter_context(_sandbox(folder))
        applied = kubectl(admin, "apply", "-f", "-", stdin=render("deploy/overlays/write"))
        assert applied.returncode == 0, applied.stderr
        minted = kubectl(admin, "create", "token", "opsgraph", "-n", "opsgraph")
        assert minted.returncode == 0, minted.stderr
        as_sa = service_account_kubeconfig(admin, minted.stdout.strip(), folder / "opsgraph.kubeconfig")
        _deployments(admin, threads)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPSGRAPH_")}
        env |= pod_env | {
            "OPSGRAPH_CHECKPOINT_URL": checkpoint_url,  # the Secret's is a placeholder
            "OPSGRAPH_KUBECONFIG": str(as_sa),  # the pod's reads the mounted ServiceAccount token
            "OPSGRAPH_MODEL": "offline",
        }
        with ThreadPoolExecutor(2) as pool:  # both replicas start at once, each with its own data dir
            starting = [
                pool.submit(
                    stack.enter_context,
                    _server(env | {"OPSGRAPH_DATA_DIR": str(folder / name)}, ROOT, folder, name, args),
                )
                for name in ("replica-a", "replica-b")
            ]
            first, second = (s.result() for s in starting)
        headers = {"Authorization": f"Bearer {token}"}
        with ThreadPoolExecutor(parallel) as pool:
            done = list(pool.map(lambda i: _one_thread(i, first, second, headers), range(threads)))
        result.statuses = Counter(code for _, code in done)
        result.audited = _audited(checkpoint_url, [t for t, _ in done])
        result.cluster_writes = {f"app-{i}": 0 for i in range(threads)} | _cluster_writes(log)
    result.seconds = time.perf_counter() - started
    return result


if __name__ == "__main__":
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    print(json.dumps(run_replica_race(sys.argv[1], threads=count).summary(), indent=2))
