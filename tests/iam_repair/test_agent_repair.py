"""The iam agent, driven by the offline model, repairs a policy with the repair_policy tool."""

from __future__ import annotations

import json
from pathlib import Path

from opsgraph.sdk import Assistant

FIXTURE = Path(__file__).parent / "fixtures/cloudfix/passrole.json"


def test_offline_agent_repairs_a_policy_and_shows_the_proof(tmp_path: Path) -> None:
    doc = json.loads(FIXTURE.read_text())
    (tmp_path / "p.json").write_text(json.dumps(doc["policy"]))
    (tmp_path / "r.json").write_text(json.dumps(doc["spec"]))
    with Assistant(workdir=tmp_path, start_sandbox=False) as assistant:
        result = assistant.ask("repair policy p.json with requests r.json")
    assert result.status == "done" and result.answer is not None
    assert "repair_policy" in result.answer
    answer = result.answer.split("repair_policy: ", 1)[1]
    body = json.loads(answer.splitlines()[0])
    assert body["status"] == "repaired"
    assert '-        "iam:PassRole"' in answer and "<<untrusted" not in answer  # the diff, fence markers off
    assert body["comparison"]["relation"] == "more_permissive"
    assert json.loads((tmp_path / "p.json").read_text()) == doc["policy"]  # repair_policy writes nothing
