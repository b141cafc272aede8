"""`check_request` takes the request as the object a model naturally writes, not only as JSON text.

Measured on Qwen2.5-Coder-1.5B (issue 12): it wrote `"request": {"action": ...}`, which a string-only
schema refused every time, so no IAM question was ever checked.
"""

from __future__ import annotations

import json
from pathlib import Path

from tools.base import ToolContext
from tools.iam import build_tools
from tools.iam.policy_tools import read_answer

DATA = Path(__file__).parent / "data" / "quacky"


def test_an_object_and_its_json_text_get_the_same_decision() -> None:
    tool = {t.name: t for t in build_tools(ToolContext(workdir=DATA))}["check_request"]
    request = {"action": "ec2:TerminateInstances", "resource": "*", "context": {"aws:SourceIp": "192.0.2.9"}}
    policy = "ec2_terminate_instance_ip/original.json"
    as_object, _ = read_answer(tool.invoke({"policy": policy, "request": request}))
    as_text, _ = read_answer(tool.invoke({"policy": policy, "request": json.dumps(request)}))
    as_list, _ = read_answer(tool.invoke({"policy": policy, "request": [request, request]}))
    assert as_object == as_text and as_object["results"][0]["decision"] == "Allowed"
    assert [r["decision"] for r in as_list["results"]] == ["Allowed", "Allowed"]
