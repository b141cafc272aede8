"""Assemble a sandbox: cluster + controllers + scenario + API + HTTP server."""

from __future__ import annotations

from pathlib import Path

from sandbox.api import Api
from sandbox.auth import TokenAuthenticator
from sandbox.cluster import Cluster
from sandbox.controllers import all_controllers
from sandbox.scenarios import load_scenario
from sandbox.server import SandboxServer

__all__ = ["build_cluster", "build_server"]


def build_cluster(scenario: str = "default", state: Path | None = None) -> Cluster:
    """A cluster in the named scenario, or restored from a SQLite state file when it exists."""
    cluster = Cluster(rng_seed=7)
    cluster.reconcilers.extend(all_controllers())
    if state is not None and state.exists():
        cluster.restore(state)
    else:
        load_scenario(cluster, scenario)
    return cluster


def build_server(
    scenario: str = "default",
    port: int = 0,
    state: Path | None = None,
    tokens: dict[str, str] | None = None,
    verbose: bool = False,
) -> SandboxServer:
    cluster = build_cluster(scenario, state)
    api = Api(cluster, TokenAuthenticator(tokens=dict(tokens or {})))
    api.reset_hook = build_cluster
    from sandbox.metrics import install_metrics
    from sandbox.tls import make_serving_cert

    install_metrics(api)

    cert = make_serving_cert()
    server = SandboxServer(api, port=port, verbose=verbose, tls=cert.server_context())
    server.ca_pem = cert.cert_pem
    api.address = f"127.0.0.1:{server.server_address[1]}"
    return server
