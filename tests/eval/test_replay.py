"""A run's cassette replays it offline with identical results; an unrecorded request is an error, not a guess."""

from __future__ import annotations

import json
from pathlib import Path

from eval.runner import run_suite
from eval.suite import RunOptions


def _outcomes(out: Path) -> list[tuple[str, str, object, object]]:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return sorted((r["id"], r["status"], r["score"], r["metrics"]) for r in rows)


def test_replay_gives_identical_results(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    run_suite("routing", RunOptions(limit=12, workers=2), recorded)
    cassette = recorded / "cassette.jsonl"
    entries = [json.loads(line) for line in cassette.read_text().splitlines()]
    assert len(entries) == 12
    assert {"request", "response", "input_tokens", "output_tokens", "latency_s", "key"} <= set(entries[0])
    replayed = tmp_path / "replayed"
    outcome = run_suite("routing", RunOptions(limit=12, replay=cassette), replayed)
    assert _outcomes(replayed) == _outcomes(recorded)
    assert outcome.summary["usage"]["calls"] == 12
    assert not (replayed / "cassette.jsonl").exists()


def test_replay_refuses_a_request_it_never_saw(tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    run_suite("routing", RunOptions(limit=2), recorded)
    lines = (recorded / "cassette.jsonl").read_text().splitlines()
    tampered = tmp_path / "tampered.jsonl"
    first = json.loads(lines[0])
    first["key"] = first["shape_key"] = "0" * 24
    tampered.write_text(json.dumps(first) + "\n" + lines[1] + "\n")
    outcome = run_suite("routing", RunOptions(limit=2, replay=tampered), tmp_path / "replayed")
    by_id = {r.id: r for r in outcome.results}
    assert by_id[first["case_id"]].status == "error"
    assert "CassetteMissError" in (by_id[first["case_id"]].error or "")
    assert sum(r.status == "error" for r in outcome.results) == 1
