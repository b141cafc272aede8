"""Bad model settings as a user meets them: one line naming the setting to fix, exit code 1, no traceback."""

from __future__ import annotations

import http.server
import json
import os
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.models.local import LocalServer

ROOT = Path(__file__).resolve().parents[2]


def opsgraph(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "OPSGRAPH_SANDBOX": "false", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [sys.executable, "-m", "opsgraph", *args], capture_output=True, text=True, env=full, timeout=180
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_gguf_path_that_does_not_exist(tmp_path: Path) -> None:
    line = one_error_line(opsgraph("model", "check", env={"OPSGRAPH_MODEL": f"local:{tmp_path}/absent.gguf"}))
    assert line == f"error: OPSGRAPH_MODEL=local:{tmp_path}/absent.gguf: no such file"


def test_a_file_that_is_not_a_gguf_model_is_refused_before_any_server_starts(tmp_path: Path) -> None:
    weights = tmp_path / "model.gguf"
    weights.write_text('{"not": "a model"}')
    line = one_error_line(opsgraph("ask", "list pods", env={"OPSGRAPH_MODEL": f"local:{weights}"}))
    assert "OPSGRAPH_MODEL=local:" in line and "not a GGUF model" in line
    assert not (tmp_path / "data" / "models").exists()


def test_a_server_that_fails_to_start_shows_its_log(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"  # a valid header, then nothing a model loader can read
    broken.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 5, 2) + bytes(64))
    env = {"OPSGRAPH_MODEL": f"local:{broken}", "OPSGRAPH_DATA_DIR": str(tmp_path / "data")}
    pytest.importorskip(
        "xllamacpp", reason="real model: xllamacpp is not installed (pip install 'opsgraph[local]')"
    )
    line = one_error_line(opsgraph("model", "check", env=env))
    assert (
        f"the llama.cpp server for {broken} exited with code 1 while starting (check OPSGRAPH_MODEL)" in line
    )
    assert "failed to load model" in line and str(tmp_path / "data" / "models") in line


def test_an_unreachable_endpoint() -> None:
    env = {
        "OPSGRAPH_BASE_URL": "http://127.0.0.1:9/v1",
        "OPSGRAPH_MODEL": "llama3",
        "OPSGRAPH_MODEL_TIMEOUT_S": "5",
    }
    line = one_error_line(opsgraph("model", "check", env=env))
    assert line == (
        "error: the model llama3 at http://127.0.0.1:9/v1 cannot be reached (a model check); check OPSGRAPH_BASE_URL"
    )


class _OneModelServer(http.server.BaseHTTPRequestHandler):
    """A scripted stand-in for vLLM's answer to an unknown model name (llama.cpp serves any name)."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        error = {
            "message": f"The model `{body['model']}` does not exist.",
            "type": "NotFoundError",
            "code": 404,
        }
        payload = json.dumps({"object": "error", **error, "error": error}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def vllm_like_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OneModelServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_wrong_model_name_at_a_base_url(vllm_like_server: str) -> None:
    line = one_error_line(
        opsgraph("model", "check", env={"OPSGRAPH_BASE_URL": vllm_like_server, "OPSGRAPH_MODEL": "lama3"})
    )
    assert (
        line
        == f"error: the model lama3 at {vllm_like_server} was not found (a model check); check OPSGRAPH_MODEL"
    )


def test_a_context_overflow_in_a_request(real_model_server: LocalServer, tmp_path: Path) -> None:
    env = {
        "OPSGRAPH_BASE_URL": real_model_server.base_url,
        "OPSGRAPH_MODEL": "smollm2",
        "OPSGRAPH_MAX_TOKENS": "16",
        "OPSGRAPH_CHECKPOINT_URL": "memory",
        "OPSGRAPH_DATA_DIR": str(tmp_path / "data"),
    }
    line = one_error_line(opsgraph("ask", "why are the pods failing? " + "pods " * 5000, env=env))
    assert line.startswith(
        f"error: the request does not fit the context of the model smollm2 at {real_model_server.base_url}"
    )
    assert "(the router)" in line and "(4096 tokens)" in line and "OPSGRAPH_LOCAL_CONTEXT_SIZE" in line


def test_a_port_already_taken(real_model_gguf: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = {
            "OPSGRAPH_MODEL": f"local:{real_model_gguf}",
            "OPSGRAPH_LOCAL_PORT": str(taken.getsockname()[1]),
            "OPSGRAPH_LOCAL_CONTEXT_SIZE": "512",
            "OPSGRAPH_DATA_DIR": str(tmp_path / "data"),
        }
        line = one_error_line(opsgraph("model", "check", env=env))
    assert "while starting (check OPSGRAPH_LOCAL_PORT)" in line and "couldn't bind" in line
