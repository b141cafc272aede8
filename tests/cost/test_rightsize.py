"""Right-sizing on recorded series with known percentiles: krr's strategy, OOM, HPA, short history."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import pytest

from tools.cost.rightsize import ContainerResources, HpaTarget, RightsizeStrategy, recommend
from tools.cost.usage import ContainerRef, RecordedUsageSource, UsageError

MIB = 2**20
STEP = 300.0


def write_series(
    path: Path, pods: dict[str, list[float]], mem_peak_mib: dict[str, float], oom: float | None = None
) -> None:
    series = []
    for pod, cpu in pods.items():
        mem = [mem_peak_mib[pod] * MIB * (0.5 + 0.5 * (i == len(cpu) // 2)) for i in range(len(cpu))]
        series.append(
            {"namespace": "shop", "pod": pod, "container": "web",
             "cpu_cores": [[i * STEP, v] for i, v in enumerate(cpu)],
             "memory_bytes": [[i * STEP, v] for i, v in enumerate(mem)],
             **({"oom_killed_limit_bytes": oom} if oom and pod == "web-a" else {})}
        )  # fmt: skip
    path.write_text(json.dumps({"series": series}))


def permuted(values: list[float], seed: int) -> list[float]:
    out = list(values)
    random.Random(seed).shuffle(out)
    return out


@pytest.fixture
def recorded(tmp_path: Path) -> RecordedUsageSource:
    # pod a: 0.001..0.201 cores uniformly (p95 = 0.191 exactly), pod b: half of that
    a = [0.001 * i for i in range(1, 202)]
    write_series(tmp_path / "s.json", {"web-a": permuted(a, 1), "web-b": permuted([x / 2 for x in a], 2)},
                 {"web-a": 300.0, "web-b": 420.0})  # fmt: skip
    return RecordedUsageSource(tmp_path / "s.json")


REF = ContainerRef(namespace="shop", pods=["web-a", "web-b"], container="web")
CURRENT = ContainerResources(
    cpu_request_m=1000, cpu_limit_m=2000, memory_request_mib=2048, memory_limit_mib=2048
)


def test_krr_strategy_on_known_percentiles(recorded: RecordedUsageSource) -> None:
    usage = recorded.container_usage(REF, timedelta(days=14), timedelta(minutes=5))
    rec = recommend("shop/Deployment/web", "web", CURRENT, usage)
    assert rec.cpu_p == pytest.approx(191.0)  # max over pods of p95 = pod a's
    assert rec.recommended.cpu_request_m == 191
    assert rec.recommended.cpu_limit_m is None
    assert rec.recommended.memory_request_mib == rec.recommended.memory_limit_mib == 483  # ceil(420 * 1.15)
    assert rec.confidence == "low" and "0.7 days" in rec.notes[0]  # 201 samples x 5 min < 7 days


def test_percentile_and_headroom_are_configurable(recorded: RecordedUsageSource) -> None:
    usage = recorded.container_usage(REF, timedelta(days=14), timedelta(minutes=5))
    strategy = RightsizeStrategy(cpu_percentile=50, memory_buffer_pct=0, history_days=0.5)
    rec = recommend("w", "web", CURRENT, usage, strategy)
    assert rec.recommended.cpu_request_m == 101
    assert rec.recommended.memory_request_mib == 420
    assert rec.confidence == "high" and rec.notes == []


def test_oom_kill_raises_memory(tmp_path: Path) -> None:
    write_series(tmp_path / "o.json", {"web-a": [0.1] * 150}, {"web-a": 200.0}, oom=512 * MIB)
    usage = RecordedUsageSource(tmp_path / "o.json").container_usage(
        REF, timedelta(days=14), timedelta(minutes=5)
    )
    rec = recommend("w", "web", CURRENT, usage)
    assert rec.recommended.memory_limit_mib == 640
    assert any("OOM-killed at a 512Mi limit" in n for n in rec.notes)


def test_hpa_on_cpu_gets_a_per_replica_target(recorded: RecordedUsageSource) -> None:
    usage = recorded.container_usage(REF, timedelta(days=14), timedelta(minutes=5))
    hpa = HpaTarget(name="web", min_replicas=2, max_replicas=10, cpu_utilization_pct=50)
    rec = recommend("w", "web", CURRENT, usage, hpa=hpa)
    assert rec.recommended.cpu_request_m == 382
    assert any("HPA web scales on CPU at 50%" in n for n in rec.notes)


def test_no_data_leaves_requests_alone(tmp_path: Path) -> None:
    write_series(tmp_path / "e.json", {}, {})
    usage = RecordedUsageSource(tmp_path / "e.json").container_usage(
        REF, timedelta(days=14), timedelta(minutes=5)
    )
    rec = recommend("w", "web", CURRENT, usage)
    assert rec.confidence == "none" and rec.recommended == CURRENT and not rec.changed()


def test_bad_recorded_file_names_the_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"series": [{"namespace": "a", "pod": "p"}]}))
    with pytest.raises(UsageError, match=r"bad.json: /series/0/container: Field required"):
        RecordedUsageSource(bad)
