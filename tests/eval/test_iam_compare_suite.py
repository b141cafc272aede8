"""`iam-compare` on a slice: decided relations, confirmed counterexamples, disagreements with their rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.runner import SuiteUnavailableError, run_suite
from eval.suite import RunOptions


def test_slice_decides_and_explains_disagreements(tmp_path: Path) -> None:
    outcome = run_suite(
        "iam-compare",
        RunOptions(dataset="ec2/ec2_allow_ebs_volume_owners/policy", limit=6, workers=2),
        tmp_path,
    )
    assert len(outcome.results) == 6
    assert all(r.status == "pass" for r in outcome.results), [r.error for r in outcome.results]
    first = outcome.results[0]
    # The mutant drops "Version": 2012-10-17, so ${aws:username} becomes literal text (AWS rule), while
    # both published label sets call the pair equivalent.
    assert first.id.endswith("#0_0")
    assert first.metrics["relation"] == "incomparable"
    assert first.metrics["labels"]["quacky-icse22"] == "equivalent"
    assert first.metrics["agree"]["quacky-icse22"] is False
    assert first.metrics["rule"] == "policy-variables-version"
    assert first.metrics["confirmed"] == first.metrics["counterexamples"] >= 1
    cx = first.detail["counterexamples"][0]
    assert {cx["original"], cx["mutant"]} == {"Allowed", "ImplicitlyDenied"}
    metrics = outcome.summary["metrics"]
    assert metrics["unknown"] == 0
    assert metrics["agreement"]["quacky-icse22"]["labelled"] == 6
    assert "## Disagreements" in (tmp_path / "report.md").read_text()


def test_missing_engine_is_reported_not_faked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import eval.iam_engine as engine

    def missing(name: str) -> object:
        raise ImportError(f"the IAM engine's {name}() is not available (test)")

    monkeypatch.setattr(engine, "engine_function", missing)
    with pytest.raises(
        SuiteUnavailableError, match=r"iam-compare cannot run: the IAM engine's parse_policy\(\)"
    ):
        run_suite("iam-compare", RunOptions(limit=1), tmp_path)
    assert not (tmp_path / "results.jsonl").exists()


def test_cli_says_why_a_suite_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import eval.iam_engine as engine
    from opsgraph.cli import app

    def missing(name: str) -> object:
        raise ImportError(f"the IAM engine's {name}() is not available (test)")

    monkeypatch.setattr(engine, "engine_function", missing)
    result = CliRunner().invoke(app, ["eval", "run", "iam-compare", "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 1
    assert (
        "error: suite iam-compare cannot run: the IAM engine's parse_policy() is not available"
        in result.output
    )
