"""The README's examples are run, so the README cannot drift from the product."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.DOTALL)


def _example_commands() -> list[str]:
    marker = README.index("readme-examples")
    block = re.search(r"```sh\n(.*?)```", README[marker:], flags=re.DOTALL)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.startswith("opsgraph ")]


def test_the_two_setup_commands_exist() -> None:
    setup = _blocks("sh")[0]
    assert "make run" in setup and "make test" in setup
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)


def test_the_tour_runs(tmp_path: Path) -> None:
    commands = _example_commands()
    assert len(commands) >= 4
    env = {**os.environ, "OPSGRAPH_DATA_DIR": str(tmp_path / "data")}
    for command in commands:
        args = shlex.split(command)[1:]
        result = subprocess.run(
            [sys.executable, "-m", "opsgraph", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "error:" not in result.stdout + result.stderr, command


@pytest.mark.parametrize("code", _blocks("python"))
def test_python_examples_run(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})


def test_client_example_runs_against_a_live_server(tmp_path: Path) -> None:
    import contextlib
    import io

    from agents.runtime import Runtime
    from opsgraph.settings import Settings
    from server.app import create_app
    from tests.agents.recording_tools import RecordingCluster
    from tests.server.live import live_server

    [example] = _blocks("python client")
    cluster = RecordingCluster()
    settings = Settings(checkpoint_url="memory", api_tokens="s3cret=alice:admin")
    output = io.StringIO()
    with (
        Runtime(settings, tools=cluster.tools()) as runtime,
        live_server(create_app(runtime)) as url,
        contextlib.redirect_stdout(output),
    ):
        exec(compile(example.replace("http://127.0.0.1:8080", url), "README.md", "exec"), {})
    assert cluster.replicas["shop/web"] == 3
    assert "scaled to 3" in output.getvalue()
