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


def test_oom_kill_at_the_peak_is_thin_evidence_and_repeated_kills_step_up(tmp_path: Path) -> None:
    # killed at 256Mi with the working set pinned there (as a killed container's is): above it, low confidence
    write_series(tmp_path / "k.json", {"web-a": [0.1] * 5000}, {"web-a": 256.0}, oom=256 * MIB)
    usage = RecordedUsageSource(tmp_path / "k.json").container_usage(
        REF, timedelta(days=30), timedelta(minutes=5)
    )
    rec = recommend("w", "web", CURRENT, usage)
    assert rec.recommended.memory_limit_mib == 320 and rec.confidence == "low"
    assert any("real need is above it and unknown" in n for n in rec.notes)
    # the next rollout at 320Mi was killed too: the step doubles
    usage = usage.model_copy(
        update={"oom_kill_limits": [256 * MIB, 320 * MIB], "oom_killed_limit_bytes": 320 * MIB}
    )
    again = recommend("w", "web", CURRENT, usage)
    assert again.recommended.memory_limit_mib == 480 and again.confidence == "low"


def test_history_spans_rollouts(tmp_path: Path) -> None:
    from tools.cost.usage import pod_pattern

    old, new = "web-7d9f8b6c4-abcde", "web-5c6d7e8f9-fghij"
    write_series(tmp_path / "r.json", {old: [0.4] * 150, new: [0.1] * 150, "web-api-7d9f8-xyzab": [2.0] * 150},
                 {old: 900.0, new: 300.0, "web-api-7d9f8-xyzab": 4000.0})  # fmt: skip
    ref = ContainerRef(
        namespace="shop", pods=[new], container="web", pod_pattern=pod_pattern("Deployment", "web")
    )
    usage = RecordedUsageSource(tmp_path / "r.json").container_usage(
        ref, timedelta(days=14), timedelta(minutes=5)
    )
    assert set(usage.cpu_cores) == {old, new}  # the old ReplicaSet's pod counts, another Deployment's not
    rec = recommend("shop/Deployment/web", "web", CURRENT, usage)
    assert rec.recommended.memory_limit_mib == 1035  # the old pod's 900Mi peak x 1.15


def test_oom_kill_raises_memory(tmp_path: Path) -> None:
    write_series(tmp_path / "o.json", {"web-a": [0.1] * 150}, {"web-a": 200.0}, oom=512 * MIB)
    usage = RecordedUsageSource(tmp_path / "o.json").container_usage(
        REF, timedelta(days=14), timedelta(minutes=5)
    )
    rec = recommend("w", "web", CURRENT, usage)
    assert rec.recommended.memory_limit_mib == 640
    assert any("OOM-killed at a 512Mi limit" in n for n in rec.notes)


def test_hpa_on_cpu_moves_its_threshold_and_the_replicas_it_runs(recorded: RecordedUsageSource) -> None:
    usage = recorded.container_usage(REF, timedelta(days=14), timedelta(minutes=5))
    hpa = HpaTarget(name="web", min_replicas=2, max_replicas=10, cpu_utilization_pct=50)
    rec = recommend("w", "web", CURRENT, usage, hpa=hpa, replicas=10)
    assert rec.recommended.cpu_request_m == 382  # p95 191m / 50%
    note = next(n for n in rec.notes if n.startswith("HPA web"))
    # today it scales out above 500m per pod; with 382m it does so above 191m: the threshold moves
    assert "today at 500m (50% of 1000m)" in note and "with the new request at 191m" in note
    # mean load 75.75m per pod x 10 replicas / 191m per replica: 4 replicas, which the plan prices
    assert rec.hpa_replicas == 4 and "it would run 4 replica(s)" in note
    low = recommend("w", "web", CURRENT, usage, hpa=hpa, replicas=2)
    assert low.hpa_replicas == 2  # never below the HPA's minimum


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
