"""The agent's repair tools: argument names, JSON answers, and the mutating write with its preview."""

from __future__ import annotations

import json
from pathlib import Path

from langchain_core.tools import BaseTool

from tools.base import ToolContext, is_mutating, preview_call
from tools.iam import build_tools
from tools.iam.policy_tools import read_answer

FIXTURE = Path(__file__).parent / "fixtures/cloudfix"


def _workdir(tmp_path: Path, name: str) -> Path:
    doc = json.loads((FIXTURE / f"{name}.json").read_text())
    (tmp_path / "p.json").write_text(json.dumps(doc["policy"]))
    (tmp_path / "r.json").write_text(json.dumps(doc.get("suite") or doc["spec"]))
    return tmp_path


def _tools(workdir: Path) -> dict[str, BaseTool]:
    return {t.name: t for t in build_tools(ToolContext(workdir=workdir))}


def test_repair_policy_takes_policy_and_spec_paths(tmp_path: Path) -> None:
    tools = _tools(_workdir(tmp_path, "passrole"))
    tool = tools["repair_policy"]
    assert set(tool.args) == {"policy", "spec"}
    assert not is_mutating(tool)
    doc, diff = read_answer(tool.invoke({"policy": "p.json", "spec": "r.json"}))
    assert doc["status"] == "repaired" and "iam:PassRole" in diff and diff.startswith("diff of the policy:")
    assert doc["comparison"]["relation"] == "more_permissive"


def test_bad_input_is_an_error_with_the_pointer_not_a_traceback(tmp_path: Path) -> None:
    tools = _tools(_workdir(tmp_path, "passrole"))
    doc = json.loads(
        tools["repair_policy"].invoke({"policy": "p.json", "spec": '{"must_allow": [{"Resource": "*"}]}'})
    )
    assert doc["pointer"] == "/must_allow/0" and "error" in doc
    missing = json.loads(tools["repair_policy"].invoke({"policy": "nope.json", "spec": "r.json"}))
    assert "nope.json" in missing["error"]


def test_writing_is_mutating_and_previews_the_diff_and_the_proof(tmp_path: Path) -> None:
    workdir = _workdir(tmp_path, "region_condition")
    tool = _tools(workdir)["write_repaired_policy"]
    assert is_mutating(tool)
    args = {"policy": "p.json", "spec": "r.json", "out": "fixed.json"}
    preview = preview_call(tool, args)
    assert "preview_error" not in preview
    assert (
        preview["diff"].startswith("--- original") and preview["comparison"]["relation"] == "more_permissive"
    )
    assert preview["spec_check"]["satisfied"] == 4
    assert not (workdir / "fixed.json").exists()  # the preview writes nothing
    doc, _ = read_answer(tool.invoke(args))
    assert doc["written"] is True
    assert json.loads((workdir / "fixed.json").read_text()) == doc["policy"]


def test_synthesize_policy_tool(tmp_path: Path) -> None:
    tools = _tools(_workdir(tmp_path, "region_condition"))
    doc = json.loads(tools["synthesize_policy"].invoke({"spec": "r.json"}))
    assert doc["status"] == "synthesized" and doc["proven"] is True
