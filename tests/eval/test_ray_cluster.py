"""`--backend ray` against a real Ray head on 127.0.0.1 (`ray start --head`), reached as users reach KubeRay:
`ray://HOST:PORT`, code through `runtime_env`, results and cassettes back to the driver. One head with 2
worker CPUs serves the module, and the in-process runs share one connection (one Ray job: its workers start
once); the killed driver is a process of its own. Skipped, with the reason, without Ray."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eval.case import CaseResult
from eval.ray_backend import connect
from eval.runner import run_suite
from eval.same_results import differences, outcome
from eval.suite import RunOptions
from eval.suites import register_suite
from tests.eval.ray_head import RayHead, start_head
from tests.eval.ray_suites import ProbeSuite, VictimSuite

pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'opsgraph[ray]')")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def head() -> Iterator[RayHead]:
    started = start_head(num_cpus=2)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def connected(head: RayHead) -> Iterator[None]:
    import ray

    with pytest.MonkeyPatch.context() as patch:
        for key, value in head.env.items():
            patch.setenv(key, value)
        assert connect(head.address, workers=2)
        try:
            yield
        finally:
            ray.shutdown()


def _rows(results: list[CaseResult]) -> list[dict[str, Any]]:
    return [outcome(r) for r in results]


def _cassette(out: Path) -> list[tuple[str, int, str]]:
    path = out / "cassette.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return sorted((e["case_id"], e["seq"], e["key"]) for e in entries)


@pytest.mark.parametrize(("suite", "limit"), [("routing", 4), ("iam-compare", 6)])
def test_a_suite_on_the_cluster_gives_the_local_pool_s_results(
    suite: str, limit: int, head: RayHead, connected: None, tmp_path: Path
) -> None:
    local = run_suite(suite, RunOptions(limit=limit, workers=2), tmp_path / "local")
    options = RunOptions(limit=limit, workers=2, backend="ray", address=head.address)
    on_ray = run_suite(suite, options, tmp_path / "ray")
    assert differences(on_ray.results, local.results) == []
    assert [r.id for r in on_ray.results] == [r.id for r in local.results]
    assert on_ray.summary["options"]["backend"] == "ray"
    # results and model calls came back to the driver and were written there
    assert len((tmp_path / "ray" / "results.jsonl").read_text().splitlines()) == limit
    assert _cassette(tmp_path / "ray") == _cassette(tmp_path / "local")
    if suite == "routing":  # the offline model decides the same way everywhere: even the evidence agrees
        assert [r.detail for r in on_ray.results] == [r.detail for r in local.results]
        assert _cassette(tmp_path / "ray"), (
            "the routing suite calls the offline model: the cassette has entries"
        )


def test_workers_import_the_driver_s_code_from_the_runtime_env(
    head: RayHead, connected: None, tmp_path: Path
) -> None:
    register_suite(ProbeSuite)
    outcome = run_suite("ray-probe", RunOptions(workers=2, backend="ray", address=head.address), tmp_path)
    assert [r.status for r in outcome.results] == ["pass", "pass"]
    for row in outcome.results:
        for package in ("eval", "policies"):
            where = Path(row.detail[package])
            # not the checkout the driver runs from: the package Ray unpacked from the job's py_modules
            assert not where.is_relative_to(ROOT), where
            assert "runtime_resources" in where.parts and "py_modules_files" in where.parts, where
        assert row.detail["pid"] != os.getpid()


def test_a_killed_worker_s_case_is_retried_and_the_run_matches_the_local_pool(
    head: RayHead, connected: None, tmp_path: Path
) -> None:
    register_suite(VictimSuite)
    # the reference: the local pool, with the victim's first attempt already marked (so it does not wait)
    VictimSuite.marks = tmp_path / "local-marks"
    VictimSuite.marks.mkdir()
    (VictimSuite.marks / "victim.0.0").write_text("0")
    local = run_suite("ray-victims", RunOptions(workers=2), tmp_path / "local")

    marks = VictimSuite.marks = tmp_path / "ray-marks"
    marks.mkdir()
    options = RunOptions(workers=2, backend="ray", address=head.address, time_limit_s=90)
    outcome: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: outcome.update(run=run_suite("ray-victims", options, tmp_path / "ray"))
    )
    runner.start()
    deadline = time.monotonic() + 120
    while not list(marks.glob("victim.*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    (first,) = marks.glob("victim.*")
    os.kill(int(first.read_text()), signal.SIGKILL)  # as the OOM killer or a lost pod would
    runner.join(timeout=180)
    assert not runner.is_alive()

    on_ray = outcome["run"].results
    assert [(r.id, r.status, r.score) for r in on_ray] == [(r.id, r.status, r.score) for r in local.results]
    assert len(list(marks.glob("victim.*"))) == 2, "the killed case ran once more, on a fresh worker"
    (dead,) = [r for r in on_ray if r.id == "always-dies"]
    assert dead.status == "crashed"
    assert dead.error == "the worker process died while running this case (3 attempts)"
    assert len(list(marks.glob("always-dies.*"))) == 3
    assert _rows([r for r in on_ray if r.id != "always-dies"]) == _rows(
        [r for r in local.results if r.id != "always-dies"]
    )


def test_a_driver_killed_mid_suite_resumes_with_the_same_results(
    head: RayHead, connected: None, tmp_path: Path
) -> None:
    limit = 16
    local = run_suite("iam-compare", RunOptions(limit=limit, workers=2), tmp_path / "local")
    out = tmp_path / "ray"
    command = [
        sys.executable, "-m", "opsgraph", "eval", "run", "iam-compare", "--limit", str(limit),
        "--backend", "ray", "--address", head.address, "--workers", "2", "--out", str(out), "--quiet",
    ]  # fmt: skip
    driver = subprocess.Popen(
        command, env={**os.environ, **head.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    results = out / "results.jsonl"
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and driver.poll() is None:
        if results.exists() and len(results.read_text().splitlines()) >= 3:
            break
        time.sleep(0.1)
    assert driver.poll() is None, driver.communicate()[0].decode()[-2000:]
    driver.kill()
    driver.wait(timeout=10)
    done_before = len(results.read_text().splitlines())
    assert 3 <= done_before < limit

    resumed = run_suite(
        "iam-compare",
        RunOptions(limit=limit, workers=2, backend="ray", address=head.address, resume=True),
        out,
    )
    assert _rows(resumed.results) == _rows(local.results)
    assert len(results.read_text().splitlines()) == limit, "the resumed run ran only the missing cases"
