"""`iam-synthesis`: recorded rebuilds scored by the engine; the live loop with a scripted model, replayed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from eval.datasets import load_synthesis_originals
from eval.runner import run_suite
from eval.suite import RunOptions
from eval.suites.iam_synthesis import extract_policy


def test_recorded_rebuilds_of_one_model(tmp_path: Path) -> None:
    outcome = run_suite(
        "iam-synthesis", RunOptions(dataset="claude-3.5-sonnet", limit=8, workers=2), tmp_path
    )
    assert len(outcome.results) == 8
    assert all(r.status in ("pass", "fail") for r in outcome.results), [r.error for r in outcome.results]
    assert all(r.metrics["relation"] != "unknown" for r in outcome.results)
    # A rebuild the engine calls equivalent passes; every other relation fails the case.
    assert all((r.status == "pass") == (r.metrics["relation"] == "equivalent") for r in outcome.results)
    assert "claude-3.5-sonnet" in outcome.summary["metrics"]["equivalence_rate"]


def _scripted(monkeypatch: pytest.MonkeyPatch, answers: dict[str, str]) -> None:
    """FakeChatModel per case: describes the policy, then answers with the policy it was given."""
    import agents.models

    def make(settings: Any) -> GenericFakeChatModel:
        def replies() -> Iterator[AIMessage]:
            yield AIMessage(content="Allows what the policy allows.")
            yield AIMessage(content=answers["next"])

        return GenericFakeChatModel(messages=replies())

    monkeypatch.setattr(agents.models, "make_chat_model", make)


def test_live_loop_records_and_replays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = load_synthesis_originals()["0"]
    _scripted(monkeypatch, {"next": "Here it is:\n```json\n" + json.dumps(original) + "\n```"})
    recorded = run_suite("iam-synthesis", RunOptions(dataset="live", limit=2), tmp_path / "rec")
    first = recorded.results[0]
    assert first.id == "live/0" and first.metrics["relation"] == "equivalent"
    assert first.usage.calls == 2
    assert recorded.results[1].metrics["relation"] != "equivalent"  # policy 1 answered with policy 0

    import agents.models

    def no_model(settings: Any) -> None:
        raise AssertionError("replay must not build a model")

    monkeypatch.setattr(agents.models, "make_chat_model", no_model)
    replayed = run_suite(
        "iam-synthesis",
        RunOptions(dataset="live", limit=2, replay=tmp_path / "rec" / "cassette.jsonl"),
        tmp_path / "rep",
    )
    assert [(r.id, r.status, r.metrics) for r in replayed.results] == [
        (r.id, r.status, r.metrics) for r in recorded.results
    ]


def test_extract_policy_reads_fenced_and_bare_json() -> None:
    assert extract_policy('```json\n{"Version": "2012-10-17"}\n```') == {"Version": "2012-10-17"}
    assert extract_policy('Sure: {"Statement": []} done') == {"Statement": []}
    with pytest.raises(ValueError):
        extract_policy("no policy here")
