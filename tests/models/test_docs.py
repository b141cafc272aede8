"""Every code block of docs/models.md runs, against the session's real llama.cpp server.

The page's example model (a Qwen GGUF under ~/models) and server URLs (Ollama, vLLM, LM Studio ports) are
replaced by the test model and the test server: the commands and settings are the page's, unchanged.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agents.models.local import LocalServer
from agents.models.local_shared import running, stop
from opsgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "models.md").read_text()
BLOCKS = re.findall(r"^```(\w+)\n(.*?)^```", DOC, flags=re.S | re.M)
EXAMPLE_GGUF = re.compile(r"~/models/[\w.\-]+\.gguf")
EXAMPLE_URL = re.compile(r"http://localhost:\d+/v1")


def blocks(lang: str) -> list[str]:
    return [code for kind, code in BLOCKS if kind == lang]


def test_every_block_has_a_runner() -> None:
    assert {kind for kind, _ in BLOCKS} == {"sh", "toml", "python"}
    assert len(blocks("sh")) == 4


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    stop(tmp_path / "data")


def _commands(code: str, gguf: Path, base_url: str) -> list[list[str]]:
    code = EXAMPLE_URL.sub(base_url, EXAMPLE_GGUF.sub(str(gguf), code))
    return [shlex.split(line, comments=True) for line in code.splitlines() if line.strip()]


def _run(words: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assignments = dict(
        w.split("=", 1) for w in words if "=" in w and not w.startswith("-") and w[0].isupper()
    )
    args = [w for w in words if w not in {f"{k}={v}" for k, v in assignments.items()}]
    assert args[0] == "opsgraph", words
    return subprocess.run(
        [sys.executable, "-m", "opsgraph", *args[1:]],
        env={**env, **assignments},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "OPSGRAPH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), **extra}


def test_the_openai_and_compatible_server_commands(
    real_model_server: LocalServer, real_model_gguf: Path, data_dir: Path
) -> None:
    openai_block, servers_block = blocks("sh")[:2]
    # the OpenAI client's OPENAI_BASE_URL sends the OpenAI example to the test server
    env = _env(data_dir, OPENAI_BASE_URL=real_model_server.base_url)
    for words in _commands(openai_block, real_model_gguf, real_model_server.base_url):
        result = _run(words, env)
        assert result.returncode == 0 and "answered in" in result.stdout, result.stderr
    servers = _commands(servers_block, real_model_gguf, real_model_server.base_url)
    assert len(servers) == 3
    for words in servers:
        result = _run(words, _env(data_dir))
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"{words[1].split('=', 1)[1]} at {real_model_server.base_url}")


def test_the_local_model_commands(real_model_gguf: Path, data_dir: Path) -> None:
    check, listing, stopping = _commands(blocks("sh")[2], real_model_gguf, "")
    env = _env(data_dir, OPSGRAPH_LOCAL_CONTEXT_SIZE="1024")
    result = _run(check, env)
    assert result.returncode == 0 and "answered in" in result.stdout, result.stderr
    [server] = running(data_dir)
    listed = _run(listing, env)
    assert listed.returncode == 0 and str(server["base_url"]) in listed.stdout
    stopped = _run(stopping, env)
    assert stopped.returncode == 0 and stopped.stdout.strip() == "stopped 1 local model server(s)"
    assert not running(data_dir)


def test_model_serve_prints_the_base_url_and_stops_on_ctrl_c(real_model_gguf: Path, data_dir: Path) -> None:
    [words] = _commands(blocks("sh")[3], real_model_gguf, "")
    words = [w.replace("8192", "1024") for w in words]  # a lighter KV cache; the command is the page's
    process = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", *words[1:]],
        env=_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", base_url), (
            process.stderr.read() if process.stderr else ""
        )
        assert httpx.get(base_url.removesuffix("/v1") + "/health", timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)
    assert process.returncode == 0


def test_the_toml_settings(real_model_gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [toml] = blocks("toml")
    config = tmp_path / "opsgraph.toml"
    config.write_text(toml)
    monkeypatch.setenv("OPSGRAPH_CONFIG_FILE", str(config))
    settings = Settings()  # extra="forbid": a misspelt key fails here
    assert settings.model == "local:~/models/qwen2.5-coder-1.5b-instruct-q4.gguf"
    assert (settings.max_tokens, settings.local_context_size, settings.local_keep_alive_s) == (512, 8192, 600)


def test_the_python_example(
    real_model_gguf: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [code] = blocks("python")
    exec(compile(EXAMPLE_GGUF.sub(str(real_model_gguf), code), "docs/models.md", "exec"), {})
    assert capsys.readouterr().out.strip()
    assert len(running(data_dir)) == 1
