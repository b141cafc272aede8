"""docs/iam-lint.md: its example runs and prints what the doc shows, and its table lists every code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opsgraph.cli_iam import app
from verifiers.iam.lint import CODES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "iam-lint.md").read_text()


def test_the_example_prints_what_the_doc_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (policy,) = re.findall(r"```json\n(.*?)```", DOC, re.DOTALL)
    (console,) = re.findall(r"```console\n\$ opsgraph iam lint example.json\n(.*?)```", DOC, re.DOTALL)
    (tmp_path / "example.json").write_text(policy)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["lint", "example.json"])
    assert result.exit_code == 1
    assert result.output == console


def test_every_code_is_in_the_table() -> None:
    listed = set(re.findall(r"^\| `([A-Z_]+)` \|", DOC, re.MULTILINE))
    assert listed == set(CODES)
