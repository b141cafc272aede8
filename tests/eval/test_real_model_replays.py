"""The suites on a real model's recorded answers (`tests/eval/cassettes`), replayed: no model runs.

They check what a scripted model cannot: that the product's routing path reads a real small model's
actual JSON (its spacing, its stray `reply` texts), and that the router holds its measured accuracy on
those answers. Replay is in order, so an edited prompt does not invalidate the recording.
"""

from __future__ import annotations

from pathlib import Path

from eval.cassette import load_cassette
from eval.runner import run_suite
from eval.suite import RunOptions

CASSETTES = Path(__file__).parent / "cassettes"


def test_routing_on_a_recorded_small_model(tmp_path: Path) -> None:
    cassette = CASSETTES / "routing-qwen2.5-coder-1.5b.jsonl.gz"
    entries = [e for group in load_cassette(cassette).values() for e in group]
    assert len({e.case_id for e in entries}) == 40
    for entry in entries:  # what the product sent the real server
        assert entry.structured == "json_schema"
        assert entry.settings["response_format"]["json_schema"]["name"] == "RouteDecision"
        assert entry.settings["max_tokens"] == 160
    outcome = run_suite("routing", RunOptions(limit=40, replay=cassette, replay_in_order=True), tmp_path)
    assert outcome.summary["model"]["name"].endswith("qwen2.5-coder-1.5b-instruct-q4.gguf")
    assert outcome.summary["status"]["error"] == 0 and outcome.summary["usage"]["calls"] == len(entries)
    accuracy = outcome.summary["metrics"]["accuracy"]
    assert accuracy["all"] >= 0.9, accuracy  # measured 39/40 when recorded
    assert accuracy["cross"] >= 0.8 and accuracy["single"] >= 0.9
