"""Run the code blocks of README.md and docs/*.md, so the documentation cannot drift from the product.
(tests/docs/blocks.py reads the blocks out of the Markdown; this module runs them.)

Every fenced block names its language, and the language says how the block runs:

| info string | how it runs |
|---|---|
| `python`, `py` (`python client`, ...) | as a script, `python BLOCK.py`, in the file's shell session |
| `console` | each `$ ` command (with `\\` continuations) in the file's shell session; it must exit 0, unless the document shows it failing: then its first line of output is the one shown |
| `sh`, `bash`, `shell` | each command (line, with `\\` continuations) in the file's shell session; exit 0 |
| `json`, `toml`, `yaml` | parsed |
| `sse` | a server-sent event transcript: every event's data is the event model its name says |
| `promql` | every line is a query the demo sandbox's Prometheus API answers with `success` |
| `usage` | a command synopsis: every `--option` it names is in that command's `--help` |
| `text` | prose, not code (a directory tree, a JSON shape with `...`): not run |

A block without a language is an error, so a new block is run unless its author says it is prose.

Each Markdown file runs in order in one **shell session** (a bash process, as a reader's terminal): `export`
and `cd` carry over, and so do files a block writes. Its working directory is a scratch directory that
links every top-level entry of the repository (`examples/`, `tools/`, ...), so documented paths resolve and
nothing is written into the checkout. `KUBECONFIG` points at a demo sandbox (the default scenario) that
every file shares, and `HOME` at the session's own folder (so `~/.local/share/opsgraph`, the default data
directory, is the session's; a sandbox `opsgraph sandbox` starts there is stopped with the session). Long-running commands
(`opsgraph serve`, `opsgraph sandbox` without a subcommand) start in the background, are waited for until
they answer, and stop with the session. A documented port (`--port 8443`, `:8080`) is replaced by a free
one everywhere in the file. A block that talks to `127.0.0.1:8080` or `localhost:8080` reaches the
`opsgraph serve` the file started last, or, if it started none, one started for it with the docs' tokens
(`s3cret=alice:admin,r3ad=bob:readonly`). Worker processes import the whole project again, so only a
file's first documented `opsgraph serve` starts them; the others run their runs on threads
(`--run-processes 0`).

`opsgraph` and Python blocks start warm when the test gives the session a `bin` folder: forked from one
process that has the project imported (tests/forkserver.py), each still a process of its own with
the session's environment, directory and streams; this saves the ~2-3 s of imports per command.

A block right under a line `` `NAME`: `` is also written to NAME in the session's directory, for the
blocks after it (how the documents show a policy or a spec that a command then reads). HTML comments
right before a block give it directives:
- `<!-- docs-run: file NAME -->`: the same, for a block with no such line.
- `<!-- docs-run: files DIR -->`: the files of the repository folder DIR are copied into the session's
  directory before the block runs (the files a command line names, kept in the repository as real files).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.docs.blocks import LANGUAGES, PROSE, PYTHON, ROOT, SHELL, Block, shell_commands

__all__ = ["DOCS_TOKENS", "BlockError", "Session"]

DOCS_TOKENS = "s3cret=alice:admin,r3ad=bob:readonly"
"""The tokens of the server a block reaches at :8080 when its file started none (the docs use these)."""

COMMAND_TIMEOUT_S = 240.0
_SERVER = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*=\S+\s+)*opsgraph\s+(?P<kind>serve|sandbox)\b(?P<rest>.*)$")
_ADDRESS = re.compile(r"(?P<host>127\.0\.0\.1|localhost):(?P<port>\d{2,5})\b")
_SERVE_PORT = 8080
_SANDBOX_READY = "sandbox ready"
# tests/conftest.py has already taken the developer's model, cluster and database settings out of the
# environment; a session also drops the test's data directory, for a home of its own
_UNSET = ("OPSGRAPH_DATA_DIR", "XDG_DATA_HOME")
_NOT_LINKED = {".git", ".venv", "out", "test-artifacts", "build"}


class BlockError(AssertionError):
    """A documented block did not do what its document says."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _Server:
    kind: str
    pid: int
    log: Path
    port: int | None = None


@dataclass
class Session:
    """One Markdown file's shell session: a bash process, its scratch directory and the servers it started."""

    name: str
    folder: Path
    kubeconfig: Path
    cluster_url: str
    skip: Callable[[Block, str], str | None] = lambda block, text: None
    ports: dict[int, int] = field(default_factory=dict)
    servers: list[_Server] = field(default_factory=list)
    done: set[int] = field(default_factory=set)
    failed: dict[int, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    """Every command and block run, for the test's figures."""
    skipped: list[str] = field(default_factory=list)
    served_as_written: bool = False
    """A documented `opsgraph serve` has run with its worker processes; later ones run on threads."""
    timings: list[tuple[float, str]] = field(default_factory=list)
    """(seconds, what) for every command, server start and Python block: where the docs' time goes."""
    bin: Path | None = None
    """A folder put first on PATH: the warm start's commands (tests/forkserver.py), when given."""

    def __post_init__(self) -> None:
        self.work = self.folder / "work"
        self.work.mkdir(parents=True)
        for entry in ROOT.iterdir():
            if entry.name not in _NOT_LINKED and not entry.name.startswith("."):
                (self.work / entry.name).symlink_to(entry)
        (self.folder / "home").mkdir()
        env = session_env(self.kubeconfig, self.folder / "home")
        if self.bin is not None:  # the warm start's `opsgraph` and `docs-python` (tests/forkserver.py)
            env["PATH"] = f"{self.bin}{os.pathsep}{env['PATH']}"
        self._marker = f"__docs_done_{uuid.uuid4().hex}"
        self._shell = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.work,
            env=env,
            text=True,
            start_new_session=True,  # the session's process group: closing it stops every server it started
        )
        self._steps = 0

    # running blocks
    def run_through(self, target: Block, all_blocks: list[Block]) -> None:
        """Run the file's blocks up to and including `target`, each once, in order."""
        for block in all_blocks:
            if block.line > target.line:
                break
            if block.line in self.failed and block.line != target.line:
                raise BlockError(
                    f"{target.id}: an earlier block failed ({block.id}): {self.failed[block.line]}"
                )
            if block.line in self.done:
                continue
            self.done.add(block.line)
            try:
                self._run_block(block)
            except BlockError as exc:
                self.failed[block.line] = str(exc).splitlines()[0]
                if block.line == target.line:
                    raise
                raise BlockError(f"{target.id}: an earlier block failed: {exc}") from exc

    def _run_block(self, block: Block) -> None:
        for directive in block.directives:
            self._directive(block, directive)
        if block.names:  # `policy.json`: above a block: the blocks after it use that file
            (self.work / block.names).write_text(block.code)
        lang = block.lang
        if lang not in LANGUAGES:
            raise BlockError(
                f"{block.id}: code block with language {block.info!r}: give it one of "
                f"{', '.join(sorted(LANGUAGES))} (`text` for prose that is not run)"
            )
        if lang in PROSE:
            return
        why = self.skip(block, block.code)
        if why is not None and lang not in ("console", *SHELL):
            self.skipped.append(f"{block.id}: {why}")
            return
        runner = {
            "console": self._run_commands,
            "json": self._parse,
            "toml": self._parse,
            "yaml": self._parse,
            "sse": self._check_sse,
            "promql": self._check_promql,
            "usage": self._check_usage,
        }.get(lang, self._run_python if lang in PYTHON else self._run_commands)
        runner(block)

    def _directive(self, block: Block, directive: str) -> None:
        verb, _, arg = directive.partition(" ")
        if verb == "file" and arg:
            (self.work / arg).write_text(block.code)
        elif verb == "files" and arg:
            source = ROOT / arg
            if not source.is_dir():
                raise BlockError(f"{block.id}: docs-run: files {arg}: no such folder in the repository")
            for item in sorted(source.iterdir()):
                if item.is_file():
                    target = self.work / item.name
                    if target.is_symlink():
                        target.unlink()
                    shutil.copyfile(item, target)
        else:
            raise BlockError(f"{block.id}: unknown directive 'docs-run: {directive}' (file NAME, files DIR)")

    def _run_commands(self, block: Block) -> None:
        for command in shell_commands(block):
            why = self.skip(block, command.text)
            if why is not None:
                self.skipped.append(f"{block.id}: {command.text.splitlines()[0]}: {why}")
                continue
            self.ran.append(f"{block.id}: {command.text}")
            started = time.monotonic()
            server = _SERVER.match(command.text.replace("\\\n", " "))
            if server and (server["kind"] == "serve" or _is_sandbox_server(server["rest"])):
                self._start_server(block, command.text, server["kind"])
            else:
                rc, output = self.sh(self._rewrite(block, command.text))
                # a failure the document shows (its first line, as printed) is what it documents: a CI
                # gate's FAIL, a lint error; any other command must succeed
                shown = command.shown.strip().splitlines()
                documented = bool(shown) and output.strip().splitlines()[:1] == shown[:1]
                if rc != 0 and not documented:
                    raise BlockError(f"{block.id}: `{command.text}` exited {rc}\n{output[-4000:]}")
            self.timings.append((time.monotonic() - started, f"{block.id}: {command.text.splitlines()[0]}"))

    def _run_python(self, block: Block) -> None:
        self.ran.append(f"{block.id}: python")
        script = self.folder / f"block_{block.file.replace('/', '_')}_{block.line}.py"
        script.write_text(self._rewrite(block, block.code))
        python = "docs-python" if self.bin is not None else "python"
        started = time.monotonic()
        rc, output = self.sh(f"{python} {shlex.quote(str(script))}")
        self.timings.append((time.monotonic() - started, f"{block.id}: python block"))
        if rc != 0:
            raise BlockError(f"{block.id}: the Python block exited {rc}\n{output[-4000:]}")

    def _parse(self, block: Block) -> None:
        """A json, toml or yaml block parses (a shape with `...` in it is `text`)."""
        import yaml  # type: ignore[import-untyped]

        self.ran.append(f"{block.id}: {block.lang}")
        parse = {"json": json.loads, "toml": tomllib.loads, "yaml": yaml.safe_load}[block.lang]
        try:
            parse(block.code)
        except (ValueError, yaml.YAMLError) as exc:  # JSON's and TOML's errors are ValueErrors
            raise BlockError(
                f"{block.id}: not {block.lang} (label a shape with '...' as text): {exc}"
            ) from exc

    def _check_sse(self, block: Block) -> None:
        from pydantic import TypeAdapter, ValidationError

        from agents.events import Event

        self.ran.append(f"{block.id}: sse")
        adapter: TypeAdapter[object] = TypeAdapter(Event)
        events = [e for e in block.code.split("\n\n") if e.strip()]
        for raw in events:
            fields = dict(line.split(": ", 1) for line in raw.strip().splitlines())
            try:
                event = adapter.validate_json(fields["data"])
            except (KeyError, ValidationError) as exc:
                raise BlockError(
                    f"{block.id}: event {raw!r} is not an event the server sends: {exc}"
                ) from exc
            if getattr(event, "type", None) != fields.get("event"):
                raise BlockError(f"{block.id}: event name {fields.get('event')!r} is not its data's type")
        if not events:
            raise BlockError(f"{block.id}: an sse block without events")

    def _check_promql(self, block: Block) -> None:
        for query in (q.strip() for q in block.code.splitlines()):
            if not query:
                continue
            self.ran.append(f"{block.id}: {query}")
            url = f"{self.cluster_url}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
            with urllib.request.urlopen(url, timeout=60) as response:
                answer = json.load(response)
            if answer.get("status") != "success":
                raise BlockError(f"{block.id}: the sandbox's Prometheus API refused {query!r}: {answer}")

    def _check_usage(self, block: Block) -> None:
        for synopsis in (s.strip() for s in block.code.splitlines()):
            if not synopsis:
                continue
            self.ran.append(f"{block.id}: {synopsis}")
            words = shlex.split(synopsis)
            path = [w for w in _command_words(words[1:])]
            while True:
                rc, help_text = self.sh(f"opsgraph {' '.join(path)} --help")
                if rc == 0 or not path:
                    break
                path.pop()
            options = set(re.findall(r"(--[a-z][a-z0-9-]*)", synopsis))
            missing = sorted(o for o in options if o not in help_text)
            if rc != 0 or missing:
                raise BlockError(
                    f"{block.id}: `opsgraph {' '.join(path)}` has no {', '.join(missing)}\n{help_text}"
                )

    # the shell
    def sh(self, command: str, timeout: float = COMMAND_TIMEOUT_S) -> tuple[int, str]:
        """Run `command` in the session's shell (stdin from /dev/null); its exit code and output."""
        self._steps += 1
        script = self.folder / f"step_{self._steps}.sh"
        output = self.folder / f"step_{self._steps}.out"
        script.write_text(command + "\n")
        assert self._shell.stdin is not None and self._shell.stdout is not None
        self._shell.stdin.write(
            f"source {shlex.quote(str(script))} </dev/null >{shlex.quote(str(output))} 2>&1; "
            f'echo "{self._marker} $?"\n'
        )
        self._shell.stdin.flush()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self._shell.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.close()
                    raise BlockError(f"`{command}` did not finish within {timeout:.0f} s")
                line = self._shell.stdout.readline()
                if not line:
                    raise BlockError(f"the shell session ended while running `{command}`")
                if line.startswith(self._marker):
                    return int(line.split()[1]), output.read_text(errors="replace")

    def _rewrite(self, block: Block, text: str) -> str:
        """`text` with documented ports replaced by the session's; the :8080 server started on first use."""
        for match in _ADDRESS.finditer(text):
            port = int(match["port"])
            if port == _SERVE_PORT and port not in self.ports:
                # its runs on the server's threads: worker processes would import the project again for a
                # server that is not the documented command (docs/server.md's are started as written)
                command = f"OPSGRAPH_API_TOKENS={DOCS_TOKENS} opsgraph serve --run-processes 0"
                self._start_server(block, command, "serve")

        def swap(match: re.Match[str]) -> str:
            port = int(match["port"])
            return f"{match['host']}:{self.ports.get(port, port)}"

        text = _ADDRESS.sub(swap, text)
        return re.sub(
            r"--port(\s+|=)(\d+)",
            lambda m: f"--port{m[1]}{self.ports.get(int(m[2]), int(m[2]))}",
            text,
        )

    def _start_server(self, block: Block, command: str, kind: str) -> None:
        """Start a long-running command in the background and wait until it answers."""
        documented = re.search(r"--port(?:\s+|=)(\d+)", command)
        port: int | None = None
        if kind == "serve" or (documented and documented[1] != "0"):
            doc_port = int(documented[1]) if documented else _SERVE_PORT
            for old in [s for s in self.servers if doc_port in self.ports and s.port == self.ports[doc_port]]:
                self._stop(old)  # the next server on a documented port replaces the last, as at a terminal
            port = free_port()
            self.ports[doc_port] = port
            if documented is None:
                command = re.sub(r"opsgraph\s+serve\b", f"opsgraph serve --port {port}", command, count=1)
        if kind == "serve" and "--run-processes" not in command:
            if self.served_as_written:  # the file's first server showed its worker processes start
                command = re.sub(r"opsgraph\s+serve\b", "opsgraph serve --run-processes 0", command, count=1)
            self.served_as_written = True
        command = re.sub(r"\s+#[^\n'\"]*$", "", command.replace("\\\n", " "))
        command = self._rewrite(block, command.rstrip().removesuffix("&").rstrip())
        log = self.folder / f"server_{len(self.servers)}.log"
        rc, output = self.sh(f"{command} >{shlex.quote(str(log))} 2>&1 &\necho $!")
        if rc != 0:
            raise BlockError(f"{block.id}: could not start `{command}`: {output}")
        server = _Server(kind, int(output.split()[-1]), log, port)
        self.servers.append(server)
        deadline = time.monotonic() + COMMAND_TIMEOUT_S
        while not self._ready(server):
            if time.monotonic() > deadline or not _alive(server.pid):
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise BlockError(f"{block.id}: `{command}` did not come up\n{tail}")
            time.sleep(0.1)

    def _ready(self, server: _Server) -> bool:
        if server.kind == "sandbox":
            return server.log.exists() and _SANDBOX_READY in server.log.read_text(errors="replace")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _stop(self, server: _Server) -> None:
        self.servers.remove(server)
        _terminate([server.pid])

    def close(self) -> None:
        """Stop the data directory's sandbox a command may have started (it runs detached, in a session of
        its own), then every server and the shell: the whole process group, politely first."""
        if self._shell.poll() is None and (self.folder / "home" / ".local").exists():
            with contextlib.suppress(BlockError):
                self.sh("opsgraph sandbox stop", timeout=60)
        try:
            group = os.getpgid(self._shell.pid)
        except ProcessLookupError:
            return
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(group):
                time.sleep(0.05)
            if not _group_alive(group):
                break
        self._shell.wait(timeout=5)


def session_env(kubeconfig: Path, home: Path) -> dict[str, str]:
    """The environment of a shell session: the demo sandbox's kubeconfig, a home of its own, plain output."""
    real_home = Path.home()
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "KUBECONFIG": str(kubeconfig),
            # a home of its own: `~/.local/share/opsgraph` in a document is the session's data dir
            "HOME": str(home),
            "XDG_CACHE_HOME": env.get("XDG_CACHE_HOME", str(real_home / ".cache")),  # matplotlib's fonts
            "XDG_CONFIG_HOME": env.get("XDG_CONFIG_HOME", str(real_home / ".config")),
            "OPSGRAPH_CONFIG_FILE": str(home.parent / "absent-opsgraph.toml"),
            "PYTHONUNBUFFERED": "1",
            "NO_COLOR": "1",
            "COLUMNS": "120",
        }
    )
    return env


def _command_words(words: list[str]) -> list[str]:
    path: list[str] = []
    for word in words:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", word):
            break
        path.append(word)
    return path


def _is_sandbox_server(rest: str) -> bool:
    """`opsgraph sandbox serve ...` serves in the foreground; `opsgraph sandbox` starts (or finds) the
    data directory's sandbox in the background and returns, like its other subcommands."""
    words = shlex.split(rest, comments=True)
    return bool(words) and words[0] == "serve"


def _stat(path: Path) -> list[str]:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        return path.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _alive(pid: int) -> bool:
    fields = _stat(Path(f"/proc/{pid}/stat"))
    return bool(fields) and fields[0] != "Z"


def _group_alive(group: int) -> bool:
    return any(
        len(fields) > 2 and int(fields[2]) == group and fields[0] != "Z"
        for fields in map(_stat, Path("/proc").glob("[0-9]*/stat"))
    )


def _terminate(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
