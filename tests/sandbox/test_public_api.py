"""The names other packages rely on, and the documentation's Python example, which must keep working."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

import sandbox.process
import sandbox.testing
import tools.kubernetes
from sandbox.app import build_cluster
from sandbox.cluster import resource
from sandbox.controllers import kubelet


def test_public_names() -> None:
    assert set(sandbox.process.__all__) == {"SandboxError", "SandboxProcess", "spawn_detached"}
    assert {"sandbox_cluster", "sandbox_namespace", "kube_client", "sandbox_only"} <= set(
        sandbox.testing.__all__
    )
    assert set(tools.kubernetes.__all__) == {"build_tools", "guard_for"}


@pytest.mark.parametrize("doc", ["sandbox.md", "kubernetes.md"])
def test_docs_python_examples_run(doc: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parents[2] / "docs" / doc).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, f"docs/{doc}", "exec"), {})
    assert capsys.readouterr().out.strip()


def test_crash_loop_restart_count_grows_with_time(monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = build_cluster("default")
    pods = resource("pods")
    pod = next(p for p in cluster.store.list(pods, "shop") if p["metadata"]["name"].startswith("checkout-"))
    before = pod["status"]["containerStatuses"][0]["restartCount"]
    monkeypatch.setattr(kubelet, "clock", lambda: time.time() + 3600)
    cluster.tick()
    after = cluster.store.get(pods, "shop", pod["metadata"]["name"])["status"]["containerStatuses"][0][
        "restartCount"
    ]
    assert after > before
