"""The Python example in docs/server.md runs, against a live server."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

from agents.runtime import Runtime
from opsgraph.settings import Settings
from server.app import create_app
from tests.agents.recording_tools import RecordingCluster
from tests.server.live import live_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "server.md"


def test_client_example_runs(checkpoint_url: str) -> None:
    [example] = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    cluster = RecordingCluster()
    settings = Settings(checkpoint_url=checkpoint_url, api_tokens="s3cret=alice:admin")
    output = io.StringIO()
    with Runtime(settings, tools=cluster.tools()) as runtime, live_server(create_app(runtime)) as url:
        code = example.replace("http://127.0.0.1:8080", url)
        with contextlib.redirect_stdout(output):
            exec(compile(code, str(DOC), "exec"), {})
    printed = output.getvalue().splitlines()
    assert printed[0] == "spec.replicas: 1 -> 3"
    assert "scaled to 3" in printed[1]
    assert printed[2:6] == ["start", "route", "tool_call", "tool_result"] and printed[-1] == "final"
    assert cluster.replicas["shop/web"] == 3
