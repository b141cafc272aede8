"""A warm start for the commands tests run: `opsgraph ...` and Python scripts, forked from one process that
has already imported the project, instead of a new interpreter importing LangGraph, LangChain, z3 and the
Kubernetes client again for each one (~2-3 s of CPU each on CI's cores). The docs runner runs ~80 commands
this way (tests/docs), the CLI tests ~35 (tests/cli/test_cli.py's `run`).

The command still runs in a process of its own, with the caller's argv, environment, working directory and
standard streams (the caller's file descriptors are passed over a Unix socket), and its exit code is the
caller's. What the warm start does not exercise is the interpreter's own start-up and import of the
project, which tests/cli/test_cli.py checks for heavy imports (and bench/cli_start.py times), and which
the CLI tests that need a real process start (Ctrl-C on a pty, the shared sandbox's lifecycle) still run.

How it fits together: `ForkServer` starts `python tests/forkserver.py serve SOCKET`, which imports the
project (never starting a thread or an event loop) and waits. The caller puts first on its PATH a folder whose
`opsgraph` (and `docs-python`, for Python blocks) is the small client below, run by `python -S`: it connects,
sends its argv, environment, working directory and fds 0-2, forwards the signals it receives (SIGTERM,
SIGINT, SIGHUP) and exits with the command's code. The server forks a keeper per command; the keeper forks
the command in a process group of its own, forwards signals to it, reports its exit code, and kills the
group if the client goes away. Without the server (it failed to start, or has stopped) the client runs the
real `opsgraph` or `python` instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["ForkServer"]

PRELOAD = (
    "opsgraph.cli",
    "opsgraph.cli_eval",
    "opsgraph.cli_iam",
    "opsgraph.cli_cost",
    "opsgraph.cli_sandbox",
    "opsgraph.cli_serve",
    "opsgraph.cli_threads",
    "opsgraph.render",
    "opsgraph.sdk",
    "opsgraph.client",
    "agents.runtime",
    "server.app",
    "tools.kubernetes",
    "tools.iam",
    "tools.cost",
    "eval.runner",
    "langgraph.checkpoint.sqlite",
    "langgraph.checkpoint.postgres",
    "uvicorn",
    "httpx",
    "z3",
    "kubernetes.client",
    "kubernetes.config",
)
"""Imported once by the server; a module missing here is imported by the command that needs it, as usual."""

_CLIENT = """\
#!{python} -S
# The tests' warm start (tests/forkserver.py): run this command in a process forked from a
# server that has the project imported; without the server, run the real thing.
import json, os, signal, socket, struct, sys
MODE, REAL, SOCKET = {mode!r}, {real!r}, {socket!r}
try:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(SOCKET)
except OSError:
    os.execv(REAL, [REAL, *sys.argv[1:]])
request = json.dumps({{"mode": MODE, "argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}})
data = request.encode()
socket.send_fds(conn, [struct.pack("!I", len(data)) + data], [0, 1, 2])
def forward(signum, frame):
    try:
        conn.send(bytes([signum]))
    except OSError:
        pass
for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(signum, forward)
answer = b""
while len(answer) < 4:
    chunk = conn.recv(4 - len(answer))
    if not chunk:
        os._exit(255)
    answer += chunk
os._exit(struct.unpack("!I", answer)[0])
"""


class ForkServer:
    """`with ForkServer(folder, env) as server:` starts the server (`wait_ready()` waits for it); put
    `server.bin` first on a shell's PATH."""

    def __init__(self, folder: Path, env: dict[str, str], preload: tuple[str, ...] = PRELOAD) -> None:
        self.folder = folder
        self.preload = preload
        self.bin = folder / "bin"
        self.socket = folder / "fork.sock"
        self.log = folder / "forkserver.log"
        self.env = env
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ForkServer:
        self.bin.mkdir(parents=True, exist_ok=True)
        venv_bin = Path(sys.executable).parent
        for name, mode, real in (
            ("opsgraph", "opsgraph", venv_bin / "opsgraph"),
            ("docs-python", "python", Path(sys.executable)),
        ):
            client = self.bin / name
            text = _CLIENT.format(python=sys.executable, mode=mode, real=str(real), socket=str(self.socket))
            client.write_text(text)
            client.chmod(0o755)
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, __file__, "serve", str(self.socket), ",".join(self.preload)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait until the server has the project imported and listens; False (and stopped) if it failed:
        then the clients run the real commands."""
        deadline = time.monotonic() + timeout
        while not self.socket.exists():  # the server binds once the project is imported
            if self._proc is None or self._proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                return False
            time.sleep(0.05)
        return True

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
        self.socket.unlink(missing_ok=True)


# the server side (run as a script: `python forkserver.py serve SOCKET`)


def _serve(path: str, preload: list[str]) -> None:
    import importlib
    import signal
    import threading

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.append(root)
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # imported by the command instead
            print(f"preload {name}: {exc!r}", flush=True)
    # a thread would not survive the fork, and a running event loop would break the command's asyncio.run
    assert threading.active_count() == 1, threading.enumerate()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".tmp")
    os.rename(path + ".tmp", path)
    listener.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            _keep(conn)  # never returns
        conn.close()


def _keep(conn: socket.socket) -> None:
    """The keeper: receive the command, fork it, forward signals to it, answer its exit code."""
    import json
    import signal
    import struct
    import threading

    code = 255
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        head, fds, _, _ = socket.recv_fds(conn, 4096, 3)
        size = struct.unpack("!I", head[:4])[0]
        data = head[4:]
        while len(data) < size:
            data += conn.recv(size - len(data))
        request = json.loads(data)
        pid = os.fork()
        if pid == 0:
            conn.close()
            _run(request, fds)  # never returns
        for fd in fds:
            os.close(fd)

        def forward() -> None:
            while True:
                try:
                    got = conn.recv(1)
                except OSError:
                    got = b""
                if not got:  # the client is gone: so is its command
                    with contextlib.suppress(OSError):
                        os.killpg(pid, signal.SIGKILL)
                    return
                with contextlib.suppress(OSError):
                    os.kill(pid, got[0])

        threading.Thread(target=forward, daemon=True).start()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code  # killed by a signal: as a shell reports it
        conn.sendall(struct.pack("!I", code))
    finally:
        os._exit(0)


def _run(request: dict[str, object], fds: list[int]) -> None:
    """The command, in the forked child: the client's streams, directory, environment and argv."""
    import atexit
    import io
    import runpy
    import signal
    import threading
    import traceback

    code: int = 1
    try:
        os.setpgid(0, 0)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(
            io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=True, write_through=True
        )
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
        )
        os.chdir(str(request["cwd"]))
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update(env)
        kube = sys.modules.get("kubernetes.config.kube_config")
        if kube is not None:  # read from the environment when the client was imported
            kube.KUBE_CONFIG_DEFAULT_LOCATION = os.environ.get("KUBECONFIG", "~/.kube/config")  # type: ignore[attr-defined]
        argv = [str(a) for a in request["argv"]]  # type: ignore[attr-defined]
        try:
            if request["mode"] == "opsgraph":
                from opsgraph.cli import main

                sys.argv = ["opsgraph", *argv]
                sys.path[0] = str(Path(sys.executable).parent)
                main()
            else:
                sys.argv = argv
                sys.path[0] = str(Path(argv[0]).resolve().parent)
                runpy.run_path(argv[0], run_name="__main__")
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = int(exc.code or 0)
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except KeyboardInterrupt:
            code = 130
        except BaseException:
            traceback.print_exc()
            code = 1
        for thread in threading.enumerate():  # as the interpreter does at exit
            if thread is not threading.main_thread() and not thread.daemon:
                thread.join()
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    _serve(sys.argv[2], [name for name in sys.argv[3].split(",") if name])
