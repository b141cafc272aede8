"""The CLI as a user runs it: exit codes, one-line errors, and no heavy imports for --help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OPSGRAPH = [sys.executable, "-m", "opsgraph"]
WARM: list[Path] = []
"""The warm start's `opsgraph` (tests/forkserver.py), while the `warm_cli` fixture (tests/cli/conftest.py) runs."""

pytestmark = pytest.mark.usefixtures("warm_cli")


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`opsgraph ARGS` in a process of its own, forked warm when a test module uses `warm_cli`."""
    full_env = {**os.environ, "OPSGRAPH_SANDBOX": "false", **(env or {})}
    command = [str(WARM[0])] if WARM else OPSGRAPH
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120
    )


def write_s3_read_policy(folder: Path, resource: str) -> None:
    """p.json in `folder`: allow s3:GetObject on `resource`."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
    (folder / "p.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def test_version() -> None:
    result = run("version")
    assert result.returncode == 0
    assert result.stdout.startswith("opsgraph ")


HEAVY = (
    "langgraph", "langchain", "langchain_core", "openai", "z3", "kubernetes", "fastapi", "uvicorn", "psycopg",
    "pydantic_settings", "ortools", "highspy", "slack_bolt", "prompt_toolkit", "agents", "tools", "server",
)  # fmt: skip


@pytest.mark.parametrize("argv", [["--help"], ["ask", "--help"], ["--version"], ["threads", "--help"]])
def test_help_loads_no_heavy_module(argv: list[str]) -> None:
    """`opsgraph --help` answers in well under 0.3 s (bench/cli_start.py) because nothing heavy loads."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['opsgraph', *{argv!r}]\n"
        "try:\n    runpy.run_module('opsgraph', run_name='__main__')\n"
        "except SystemExit as exit:\n    assert exit.code in (0, None), exit.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "args", [["ask"], ["ask", "list pods", "--bogus"], ["threads", "show"], ["nonsense"]]
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr


def test_unknown_thread_is_a_one_line_error() -> None:
    result = run("threads", "show", "no-such-thread")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: no thread no-such-thread"
    assert "Traceback" not in result.stderr


def test_unreachable_model_endpoint_is_a_clear_error() -> None:
    env = {
        "OPSGRAPH_BASE_URL": "http://127.0.0.1:9/v1",
        "OPSGRAPH_MODEL": "llama3",
        "OPSGRAPH_MODEL_TIMEOUT_S": "5",
    }
    result = run("ask", "list pods", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("error: the model llama3 at http://127.0.0.1:9/v1 cannot be reached")
    assert "check OPSGRAPH_BASE_URL" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    debug = run("--debug", "ask", "list pods", env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_bad_settings_are_a_clear_error() -> None:
    result = run("ask", "list pods", env={"OPSGRAPH_CHECKPOINT_URL": "mysql://x"})
    assert result.returncode == 1
    assert "checkpoint_url" in result.stderr and "Traceback" not in result.stderr


def test_outside_the_vocabulary_the_offline_model_says_what_it_understands() -> None:
    result = run("ask", "write a haiku", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "done" and doc["route"] == []
    assert "list pods in payments" in doc["answer"]


def test_ask_then_list_show_and_export(tmp_path: Path) -> None:
    write_s3_read_policy(tmp_path, "arn:aws:s3:::b/*")
    result = run("ask", "explain policy p.json", "--new-thread", "cli-1", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["route"] == ["iam"]
    listed = json.loads(run("threads", "list", "--json").stdout)
    assert [t["thread_id"] for t in listed] == ["cli-1"]
    shown = json.loads(run("threads", "show", "cli-1", "--json").stdout)
    assert [a["tool"] for a in shown["audit"]] == ["explain_policy"]
    out = tmp_path / "audit.jsonl"
    assert run("threads", "export", "cli-1", "--out", str(out)).returncode == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["thread_id"], r["agent"], r["tool"], r["status"]) for r in rows] == [
        ("cli-1", "iam", "explain_policy", "ok")
    ]


def test_chat_reads_a_piped_conversation_and_its_approval_answers(tmp_path: Path) -> None:
    write_s3_read_policy(tmp_path, "*")
    script = "write a haiku\nexplain policy p.json\nexit\n"
    result = run("chat", "--new-thread", "piped", cwd=tmp_path, stdin=script)
    assert result.returncode == 0, result.stderr
    assert "did not understand 'write a haiku'" in result.stdout
    assert "explain_policy" in result.stdout
    shown = json.loads(run("threads", "show", "piped", "--json").stdout)
    assert [m["content"] for m in shown["messages"] if m["type"] == "human"] == [
        "write a haiku",
        "explain policy p.json",
    ]
