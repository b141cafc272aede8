"""The example in docs/iam-repair.md runs and says what the doc says it says."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from opsgraph.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs/iam-repair.md"


def test_docs_repair_example(tmp_path: Path) -> None:
    text = DOC.read_text()
    example = text.split("### Example", 1)[1]
    blocks = re.findall(r"```json\n(.*?)```", example, re.DOTALL)
    (tmp_path / "policy.json").write_text(blocks[0])
    (tmp_path / "spec.json").write_text(blocks[1])
    result = CliRunner().invoke(
        app, ["iam", "repair", str(tmp_path / "policy.json"), "--spec", str(tmp_path / "spec.json")]
    )
    assert result.exit_code == 0, result.output
    for claim in (
        "Statement[0] (Deploy): remove iam:PassRole from Action",
        "original vs repaired: more_permissive",
        "iam:PassRole on arn:aws:iam::123456789012:role/example",
        "3 of 3",
    ):
        assert claim in " ".join(example.split()) and claim in result.output
