"""`opsgraph chat` on a real pseudo-terminal: prompt_toolkit line editing and history, Ctrl-C stops a request
and keeps the session and the thread usable, Ctrl-D quits with 0."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from sandbox.testing import SandboxCluster

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r")


def _own_terminal() -> None:
    """In the child: a session of its own with the pty as its controlling terminal, so Ctrl-C typed there
    is a SIGINT to it, as in a real terminal."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A child process on a pty, read as plain text (escape sequences dropped)."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        os.set_blocking(self.master, False)
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, preexec_fn=_own_terminal
        )
        os.close(slave)
        self.seen = ""

    def expect(self, pattern: str, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.seen)
            if match:
                self.seen = self.seen[match.end() :]
                return match.group(0)
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.seen += ANSI.sub("", os.read(self.master, 65536).decode(errors="replace"))
                except OSError:  # the child closed the terminal
                    break
        raise AssertionError(
            f"{pattern!r} not seen within {timeout} s; the screen ends with:\n{self.seen[-2000:]}"
        )

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def quit(self, tries: int = 10) -> int | None:
        """Ctrl-D until the process ends (each waits 3 s); its exit code, None if it never ended."""
        for _ in range(tries):
            self.send("\x04")
            try:
                return self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                continue
        return None


@pytest.fixture
def terminal(sandbox_cluster: SandboxCluster, tmp_path: Path) -> Terminal:
    env = {
        **os.environ,
        "KUBECONFIG": str(sandbox_cluster.kubeconfig),
        "TERM": "xterm-256color",
        "PROMPT_TOOLKIT_NO_CPR": "1",  # nobody answers cursor-position requests on this pty
        "COLUMNS": "120",
        "LINES": "40",
    }
    term = Terminal([sys.executable, "-m", "opsgraph", "chat", "--new-thread", "tty"], env, tmp_path)
    yield term
    if term.proc.poll() is None:
        os.killpg(term.proc.pid, signal.SIGKILL)
        term.proc.wait()
    os.close(term.master)


def test_ctrl_c_stops_a_request_and_the_session_goes_on(terminal: Terminal, tmp_path: Path) -> None:
    terminal.expect(r"model\s+offline")
    terminal.expect(r"cluster\s+context sandbox")
    terminal.expect(r"you>")
    terminal.send("optimize cost and list pods in shop\r")
    terminal.expect(r"optimize_cost\(\)")  # the cost agent's tool call: the plan takes a while
    terminal.send("\x03")
    terminal.expect(r"stopping after the current step")
    terminal.expect(r"stopped by \w+: the thread keeps what was done before")
    terminal.expect(r"you>")
    terminal.send("list pods in payments\r")  # the same thread takes the next request
    terminal.expect(r"payments-\w+-\w+")
    terminal.expect(r"you>")
    terminal.send("\x1b[A")  # Up: the last request comes back from the history
    terminal.expect(r"list pods in payments")
    terminal.send("\x03")  # Ctrl-C while typing clears the line
    terminal.expect(r"you>")
    # Ctrl-D leaves, on an empty line only (on a line with text it deletes): so it also shows that Ctrl-C
    # cleared the line. The prompt seen may be a redraw from before the Ctrl-C was read: send it until the
    # session ends, as a person would press it again.
    assert terminal.quit() == 0
    history = (Path(os.environ["OPSGRAPH_DATA_DIR"]) / "chat_history").read_text()
    assert "optimize cost and list pods in shop" in history and "list pods in payments" in history
