"""write_repaired_policy writes only over the file its preview hashed (compare-and-swap), and only the
repair its preview showed; a file edited in between is a failed precondition and stays as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool

from tools.base import PreconditionFailedError, ToolContext, approved_write, preview_call
from tools.iam.policy_tools import read_answer
from tools.iam.repair import build_repair_tools
from verifiers.approvals import check_audit

FIXTURE = Path(__file__).parent / "fixtures/cloudfix/passrole.json"


def _write_tool(tmp_path: Path) -> tuple[BaseTool, dict[str, str]]:
    doc = json.loads(FIXTURE.read_text())
    (tmp_path / "p.json").write_text(json.dumps(doc["policy"]))
    (tmp_path / "r.json").write_text(json.dumps(doc["spec"]))
    [tool] = [
        t for t in build_repair_tools(ToolContext(workdir=tmp_path)) if t.name == "write_repaired_policy"
    ]
    return tool, {"policy": "p.json", "spec": "r.json", "out": "fixed.json"}


def test_the_previewed_repair_is_written_where_the_file_was_as_previewed(tmp_path: Path) -> None:
    tool, args = _write_tool(tmp_path)
    preview = preview_call(tool, args)
    assert preview["precondition"]["files"][str(tmp_path / "fixed.json")] is None  # absent: created
    with approved_write(preview["precondition"]) as check:
        result, _ = read_answer(str(tool.invoke(args)))
    assert result["written"] is True
    written = (tmp_path / "fixed.json").read_text()
    assert '"iam:PassRole"' not in written
    row = {
        "tool": tool.name, "decision": "approved", "status": "ok", "approval_id": "a1",
        "precondition": preview["precondition"], "observed": check.observed,
    }  # fmt: skip
    assert check_audit([row]) == []


@pytest.mark.parametrize("edited", ["p.json", "fixed.json"])
def test_a_file_edited_after_the_preview_is_not_written_over(tmp_path: Path, edited: str) -> None:
    tool, args = _write_tool(tmp_path)
    preview = preview_call(tool, args)
    (tmp_path / edited).write_text('{"Version": "2012-10-17", "Statement": []}\n')  # someone else's edit
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    with approved_write(preview["precondition"]), pytest.raises(PreconditionFailedError, match=edited):
        tool.invoke(args)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before  # nothing written, no litter
