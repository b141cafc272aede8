"""`OPSGRAPH_MODEL=local:PATH`: opsgraph starts a llama.cpp server, shares it between processes, stops it.

Real processes on real lock files: two opsgraph processes asking at once get one server; a server whose
users have all exited stops by itself after the keep-alive; `opsgraph model stop` stops it at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from agents.models import make_chat_model
from agents.models.factory import CompatibleServerChat, local_model_to_load
from agents.models.local import LocalServerSpec
from agents.models.local_shared import process_token, running, stop
from opsgraph.render import note_model_load
from opsgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

# What a second opsgraph process does: build the chat model for the same settings and print its base URL.
CLIENT = """
import sys
from agents.models import make_chat_model
from opsgraph.settings import Settings
model = make_chat_model(Settings(model="local:" + sys.argv[1], local_context_size=512, local_keep_alive_s=0))
print(model.openai_api_base, flush=True)
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    stop(tmp_path / "data")  # whatever a failing test left running


def _client(gguf: Path, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OPSGRAPH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(gguf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(base_url.removesuffix("/v1") + "/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(condition: object, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.2)
    return False


def test_processes_asking_at_once_share_one_server_which_stops_after_the_last(
    real_model_gguf: Path, data_dir: Path
) -> None:
    clients = [_client(real_model_gguf, data_dir) for _ in range(2)]
    outputs = [c.communicate(timeout=180) for c in clients]
    assert all(c.returncode == 0 for c in clients), outputs
    urls = {out.strip() for out, _ in outputs}
    assert len(urls) == 1, outputs
    # both clients have exited and the keep-alive is 0: the server notices and stops
    assert _wait(lambda: not running(data_dir)), running(data_dir)
    assert not _healthy(urls.pop())
    assert not list((data_dir / "models").glob("*.json"))


def test_this_process_reuses_its_server_and_stop_ends_it(real_model_gguf: Path, data_dir: Path) -> None:
    settings = Settings(
        model=f"local:{real_model_gguf}", data_dir=data_dir, local_context_size=512, max_tokens=4
    )
    first = make_chat_model(settings)
    second = make_chat_model(settings)
    assert isinstance(first, CompatibleServerChat) and isinstance(second, CompatibleServerChat)
    assert first.max_tokens == 4 and first.temperature == 0.0
    assert running(data_dir) == []  # building a model loads nothing: the server starts on the first call
    # ... so the terminal says the first request will wait for the load
    assert local_model_to_load(settings) == real_model_gguf.name
    console = Console(record=True, width=200)
    note_model_load(console, settings)
    assert (
        f"loading the local model {real_model_gguf.name}: this request waits for it" in console.export_text()
    )
    assert first.invoke("Say hi").text is not None
    assert local_model_to_load(settings) is None  # loaded: nothing to say
    note_model_load(console, settings)
    assert console.export_text() == ""
    assert local_model_to_load(Settings(model="offline", data_dir=data_dir)) is None
    [record] = running(data_dir)
    assert record["users"] == 1 and record["context_size"] == 512
    assert second.invoke("Say hi").text is not None and running(data_dir) == [record]  # reused
    assert [r["pid"] for r in stop(data_dir)] == [record["pid"]]
    assert not running(data_dir) and not _healthy(str(record["base_url"]))
    assert local_model_to_load(settings) == real_model_gguf.name  # stopped: the next request loads it
    assert first.invoke("Say hi again").text is not None  # a server that went away starts again
    assert len(running(data_dir)) == 1
    stop(data_dir)


def test_a_server_ended_by_sigterm_leaves_no_record(real_model_gguf: Path, data_dir: Path) -> None:
    settings = Settings(
        model=f"local:{real_model_gguf}", data_dir=data_dir, local_context_size=512, max_tokens=2
    )
    make_chat_model(settings).invoke("hi")
    [record] = running(data_dir)
    os.kill(int(str(record["pid"])), signal.SIGTERM)  # e.g. a process manager, not `opsgraph model stop`
    assert _wait(lambda: not list((data_dir / "models").glob("*.json")))


OWNER = """
import sys, time
from pathlib import Path
from agents.models.local import LocalServer, LocalServerSpec
server = LocalServer(LocalServerSpec(Path(sys.argv[1]), context_size=512)).start()
print(server.pid, flush=True)
time.sleep(600)
"""


def test_an_owned_server_goes_when_its_owner_is_killed(real_model_gguf: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(real_model_gguf)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert owner.stdout is not None
        pid = int(owner.stdout.readline())
        assert process_token(pid) is not None
    finally:
        owner.kill()  # SIGKILL: no atexit, no cleanup in the owner
        owner.wait()
    assert _wait(lambda: process_token(pid) is None), f"llama.cpp server {pid} outlived its owner"


def test_the_server_key_follows_the_settings_that_change_the_server(real_model_gguf: Path) -> None:
    base = LocalServerSpec(real_model_gguf, context_size=512, threads=1)
    assert base.key() == LocalServerSpec(real_model_gguf, context_size=512, threads=1).key()
    assert base.key() != LocalServerSpec(real_model_gguf, context_size=1024, threads=1).key()
    assert base.key() != LocalServerSpec(real_model_gguf, context_size=512, threads=2).key()
