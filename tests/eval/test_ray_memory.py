"""A worker out of memory under `--backend ray`: Ray's memory monitor stops the case's worker, the case is
tried 3 times and ends `crashed` with one line saying so; the cases that finished are kept.

The head gets a memory threshold 2 GiB above what the machine uses now (Ray's monitor watches the whole
node), and the case takes up to 6 GiB, 64 MiB at a time, so the monitor stops it long before the machine
runs short. Skipped, with the reason, without Ray."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.runner import run_suite
from eval.suite import RunOptions
from eval.suites import register_suite
from tests.eval.ray_head import start_head
from tests.eval.ray_suites import MemorySuite

pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'opsgraph[ray]')")

MARGIN = 2 << 30


def _used_fraction() -> tuple[float, int]:
    info = {
        k: int(v.split()[0]) * 1024
        for k, v in (ln.split(":") for ln in Path("/proc/meminfo").read_text().splitlines())
    }
    return 1 - info["MemAvailable"] / info["MemTotal"], info["MemTotal"]


def test_a_case_out_of_memory_is_one_line_and_the_finished_cases_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used, total = _used_fraction()
    if used + (MemorySuite.hog_mib << 20) / total > 0.9:
        pytest.skip(f"the machine has too little free memory for this test ({used:.0%} used)")
    threshold = used + MARGIN / total
    head = start_head(
        num_cpus=1,
        extra_env={
            "RAY_memory_usage_threshold": f"{threshold:.3f}",
            "RAY_memory_monitor_refresh_ms": "100",
            "RAY_task_oom_retry_delay_base_ms": "100",  # Ray waits 1 s, 2 s, 4 s... between tries
        },
    )
    try:
        for key, value in head.env.items():
            monkeypatch.setenv(key, value)
        register_suite(MemorySuite)
        options = RunOptions(workers=1, backend="ray", address=head.address, time_limit_s=120)
        outcome = run_suite("ray-memory", options, tmp_path)
    finally:
        head.stop()
    rows = {r.id: r for r in outcome.results}
    assert [rows["small-1"].status, rows["small-2"].status] == ["pass", "pass"]
    assert rows["hog"].status == "crashed", rows["hog"]
    assert rows["hog"].error == (
        "the worker ran out of memory and Ray's memory monitor stopped it (3 attempts): "
        "give the workers more memory or run fewer cases at once (--workers)"
    )
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 3
