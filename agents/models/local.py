"""Local GGUF models: a llama.cpp server (through `xllamacpp`) on 127.0.0.1, spoken to as OpenAI-compatible.

The server runs in its own process (`python -m agents.models.local_server`), so a crash of llama.cpp never
takes opsgraph down, and several opsgraph processes can share one (see `local_shared`). This module holds
what both the shared and the owned server need: the spec, the GGUF check, starting the process and
waiting until it serves.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from agents.settings import Settings

__all__ = [
    "LocalModelError",
    "LocalServer",
    "LocalServerSpec",
    "check_gguf",
    "default_threads",
    "log_tail",
    "spawn",
    "wait_ready",
]

GGUF_MAGIC = b"GGUF"


class LocalModelError(ValueError):
    """A local model cannot be served; the one-line message names the setting to fix."""


def default_threads() -> int:
    """Half the CPUs, at least one: llama.cpp's threads spin while they wait for each other, so on a
    machine where opsgraph (or anyone) needs a core too, all-cores is several times slower than half."""
    return max(1, (os.cpu_count() or 2) // 2)


def check_gguf(path: Path, *, setting: str = "OPSGRAPH_MODEL") -> Path:
    """`path` resolved, when it names a GGUF model file (magic and version checked before any server starts)."""
    shown = f"{setting}=local:{path}"
    resolved = path.expanduser().resolve()
    if not resolved.exists():
        raise LocalModelError(f"{shown}: no such file")
    if not resolved.is_file():
        raise LocalModelError(f"{shown}: not a file; name the .gguf model file")
    with resolved.open("rb") as f:
        head = f.read(8)
    if len(head) < 8 or head[:4] != GGUF_MAGIC:
        raise LocalModelError(
            f"{shown}: not a GGUF model (it starts with {head[:4]!r}, a GGUF file with b'GGUF')"
        )
    (version,) = struct.unpack("<I", head[4:8])
    if version not in (2, 3):
        raise LocalModelError(f"{shown}: GGUF version {version} is not supported (2 and 3 are)")
    return resolved


def _require_xllamacpp(model: Path) -> None:
    if importlib.util.find_spec("xllamacpp") is None:
        raise LocalModelError(
            f"OPSGRAPH_MODEL=local:{model}: llama.cpp is not installed; pip install 'opsgraph[local]'"
        )


@dataclass(frozen=True)
class LocalServerSpec:
    """What a server is started with; two opsgraph processes with equal specs share one server."""

    model: Path
    context_size: int = 8192
    threads: int = 1
    port: int = 0

    @classmethod
    def from_settings(cls, settings: Settings, model: Path) -> LocalServerSpec:
        return cls(
            model=check_gguf(model),
            context_size=settings.local_context_size,
            threads=settings.local_threads or default_threads(),
            port=settings.local_port,
        )

    def key(self) -> str:
        """Names the server: the model file (path, size, modification time) and the settings."""
        stat = self.model.stat()
        ident = [str(self.model), stat.st_size, stat.st_mtime_ns, self.context_size, self.threads, self.port]
        return hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:16]

    def argv(self) -> list[str]:
        return [
            "--model",
            str(self.model),
            "--context-size",
            str(self.context_size),
            "--threads",
            str(self.threads),
            "--port",
            str(self.port),
        ]


_STAMP = re.compile(r"^\d+(?:\.\d+)+ ([IWED]) ")


def log_tail(log: Path, lines: int = 4) -> str:
    """The last error lines of a server log (its last lines when none is an error), on one line."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    entries: list[tuple[str, str]] = []
    for raw in text.splitlines():
        stamp = _STAMP.match(raw)
        level = stamp.group(1) if stamp else ("E" if raw.startswith("error") else "I")
        line = " ".join(raw[stamp.end() if stamp else 0 :].split())
        if line and (level, line) not in entries[-8:]:
            entries.append((level, line))
    errors = [line for level, line in entries if level == "E"]
    return " | ".join((errors or [line for _, line in entries])[-lines:]) or "(empty log)"


def _hint(tail: str) -> str:
    """The setting most likely at fault, from the server's last error lines."""
    lowered = tail.lower()
    if "failed to load model" in lowered or "error loading model" in lowered:
        return "OPSGRAPH_MODEL"
    if "bind" in lowered or "address already in use" in lowered:
        return "OPSGRAPH_LOCAL_PORT"
    if "failed to allocate" in lowered or "out of memory" in lowered or "n_ctx" in lowered:
        return "OPSGRAPH_LOCAL_CONTEXT_SIZE"
    return "OPSGRAPH_MODEL"


def spawn(
    spec: LocalServerSpec, log: Path, ready: Path, extra: list[str], *, detach: bool
) -> subprocess.Popen[bytes]:
    """Start the server process; it writes `ready` (JSON with `base_url`) once it serves."""
    _require_xllamacpp(spec.model)
    root = str(Path(__file__).resolve().parents[2])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p),
    }
    cmd = [
        sys.executable,
        "-m",
        "agents.models.local_server",
        *spec.argv(),
        "--ready-file",
        str(ready),
        *extra,
    ]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, start_new_session=detach
        )


def wait_ready(
    proc: subprocess.Popen[bytes], spec: LocalServerSpec, ready: Path, log: Path, timeout_s: float
) -> dict[str, object]:
    """The ready record the server wrote, or a one-line error with its log's last lines."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
            record = json.loads(ready.read_text())
            if record.get("pid") == proc.pid:
                return dict(record)
        code = proc.poll()
        if code is not None:
            tail = log_tail(log)
            raise LocalModelError(
                f"the llama.cpp server for {spec.model} exited with code {code} while starting "
                f"(check {_hint(tail)}); log {log}: {tail}"
            )
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    raise LocalModelError(
        f"the llama.cpp server did not load the model within OPSGRAPH_LOCAL_START_TIMEOUT_S={timeout_s:g} s; "
        f"log {log}: {log_tail(log)}"
    )


class LocalServer:
    """A server this process owns, stopped on exit: `with LocalServer(spec) as server: server.base_url`.

    For tests and benchmarks; opsgraph itself shares servers between processes (`local_shared`).
    """

    def __init__(
        self, spec: LocalServerSpec, *, log: Path | None = None, start_timeout_s: float = 120.0
    ) -> None:
        self.spec = spec
        self._tmp = tempfile.TemporaryDirectory(prefix="opsgraph-llama-")
        self.log = log or Path(self._tmp.name) / "server.log"
        self.start_timeout_s = start_timeout_s
        self.base_url = ""
        """`http://127.0.0.1:PORT/v1`, the OpenAI-compatible base URL."""
        self.start_s = 0.0
        """Seconds from spawning the process to the model being loaded and served."""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LocalServer:
        ready = Path(self._tmp.name) / "ready.json"
        began = time.monotonic()
        self._proc = spawn(self.spec, self.log, ready, [], detach=False)
        try:
            record = wait_ready(self._proc, self.spec, ready, self.log, self.start_timeout_s)
        except BaseException:
            self.stop()
            raise
        self.start_s = time.monotonic() - began
        self.base_url = str(record["base_url"])
        return self

    @property
    def pid(self) -> int | None:
        """The server process's id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
