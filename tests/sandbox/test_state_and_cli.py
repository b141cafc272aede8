"""Saving and reloading a scenario (SQLite), and the `opsgraph sandbox` command."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli import app
from sandbox.app import build_cluster
from sandbox.cluster import resource


def test_state_file_round_trip(tmp_path: Path) -> None:
    cluster = build_cluster("default")
    deployments = resource("deployments", "apps")
    cluster.patch(deployments, "shop", "frontend", "application/merge-patch+json", {"spec": {"replicas": 5}})
    state = tmp_path / "state.sqlite"
    cluster.store.save(state)
    again = build_cluster("empty", state=state)
    assert again.store.get(deployments, "shop", "frontend")["spec"]["replicas"] == 5
    pods = [
        p for p in again.store.list(resource("pods"), "shop") if p["metadata"]["name"].startswith("frontend-")
    ]
    assert len(pods) == 5
    assert again.store.rv == cluster.store.rv


def test_cli_lists_scenarios_and_rejects_unknown_ones() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["sandbox", "scenarios"])
    assert listed.exit_code == 0 and "default: the demo shop" in listed.output
    bad = runner.invoke(app, ["sandbox", "--scenario", "nope"])
    assert bad.exit_code == 1 and "unknown scenario 'nope'" in bad.output


def test_reset_replaces_the_state_with_a_fresh_scenario() -> None:
    from kubernetes import client, config

    from sandbox.process import SandboxProcess

    with SandboxProcess(scenario="empty") as proc:
        api = config.new_client_from_config(str(proc.kubeconfig))
        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": "scratch"}})
        proc.reset("default")
        names = {n.metadata.name for n in core.list_namespace().items}
        assert "scratch" not in names and {"shop", "ml"} <= names
        assert client.CustomObjectsApi(api).list_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", "shop", "pods"
        )["items"]
        api.close()


def test_stuck_rollout_passes_its_progress_deadline() -> None:
    import time

    cluster = build_cluster("empty")
    deployments = resource("deployments", "apps")
    cluster.create(
        deployments,
        {
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "progressDeadlineSeconds": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:0.0-nonexistent"}]},
                },
            },
        },
    )

    def progressing() -> dict[str, str]:
        conditions = cluster.store.get(deployments, "default", "web")["status"]["conditions"]
        return next(c for c in conditions if c["type"] == "Progressing")

    assert progressing()["reason"] == "ReplicaSetUpdated"
    time.sleep(2.1)
    cluster.tick()
    assert (progressing()["status"], progressing()["reason"]) == ("False", "ProgressDeadlineExceeded")


def test_a_restored_state_keeps_working_after_more_writes(tmp_path: Path) -> None:
    cluster = build_cluster("default")
    state = tmp_path / "state.sqlite"
    cluster.store.save(state)
    again = build_cluster("default", state=state)
    deployments = resource("deployments", "apps")
    for replicas in (5, 2, 6):  # new pods and events must not clash with the restored names
        again.patch(
            deployments, "shop", "frontend", "application/merge-patch+json", {"spec": {"replicas": replicas}}
        )
    pods = [
        p for p in again.store.list(resource("pods"), "shop") if p["metadata"]["name"].startswith("frontend-")
    ]
    assert len(pods) == 6
