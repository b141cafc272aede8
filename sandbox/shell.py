"""The command set of an emulated container, for `kubectl exec` and `attach`.

Commands: `env`, `printenv`, `cat`, `ls`, `echo`, `hostname`, `pwd`, `true`, `false`, `exit`,
`sleep`, `grep`, `wget` and `curl` (an HTTP fetch of a Service, a pod or localhost, answered by
the target container's emulated endpoints), and `sh`/`bash`/`ash` with `-c SCRIPT` or a script on
stdin. Scripts may use `;`, `&&`, `||`, `|`, quotes, `$VAR`/`${VAR}`/`$?` and the redirections
`>`, `>>`, `2>&1`, `2>/dev/null`. Anything else fails with exit code 127 and a message naming the
emulated set, so nobody mistakes the sandbox for a real container.
"""

from __future__ import annotations

import io as io_module
import posixpath
import re
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sandbox.cluster import Cluster
from sandbox.rootfs import Rootfs
from sandbox.webapp import UnreachableError, reach, serve

__all__ = ["COMMANDS", "SHELLS", "Shell", "outside_message"]

Writer = Callable[[bytes], None]
Reader = Callable[[], bytes]
SHELLS = ("sh", "bash", "ash", "dash")
COMMANDS = (
    *("env", "printenv", "cat", "ls", "echo", "hostname", "pwd", "true", "false"),
    *("exit", "sleep", "grep", "wget", "curl", "tar"),
    *SHELLS,
)


def outside_message(name: str) -> str:
    return f"{name}: not available in the sandbox's emulated container (it runs: {', '.join(COMMANDS)})\n"


@dataclass
class _Word:
    parts: list[tuple[str, str]] = field(default_factory=list)
    """(text, quoting): quoting is "'" (literal), '"' (expands $) or "" (expands $)."""


def _tokens(script: str) -> list[_Word | str]:
    """Words and operators of a shell script (quotes kept apart for expansion, comments dropped)."""
    out: list[_Word | str] = []
    word: _Word | None = None
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        two = script[i : i + 2]
        if ch in " \t":
            word, i = None, i + 1
            continue
        if ch == "#" and word is None:
            while i < n and script[i] != "\n":
                i += 1
            continue
        op = two if two in ("&&", "||") else ch if ch in ";|\n" else ""
        if op:
            out.append(op)
            word, i = None, i + len(op)
            continue
        if word is None:
            word = _Word()
            out.append(word)
        if ch in "'\"":
            end = script.find(ch, i + 1)
            if end < 0:
                raise ValueError(f"unterminated quoted string: {script[i:]}")
            text = script[i + 1 : end]
            if ch == '"':
                text = re.sub(r"\\([\\\"$`])", r"\1", text)
            word.parts.append((text, ch))
            i = end + 1
        elif ch == "\\" and i + 1 < n:
            word.parts.append((script[i + 1], "'"))
            i += 2
        else:
            j = i
            while j < n and script[j] not in " \t'\"\\;|\n" and script[j : j + 2] != "&&":
                j += 1
            word.parts.append((script[i:j], ""))
            i = j
    return out


@dataclass
class _Io:
    stdin: Reader
    out: Writer
    err: Writer


class Shell:
    """Runs commands against one container's emulated root filesystem."""

    def __init__(self, cluster: Cluster, pod: dict[str, Any], fs: Rootfs) -> None:
        self.cluster = cluster
        self.pod = pod
        self.fs = fs
        self.status = 0
        self.exited: int | None = None

    # scripts -----------------------------------------------------------------------------------
    def _expand(self, word: _Word) -> str:
        def var(m: re.Match[str]) -> str:
            name = m.group(1) or m.group(2)
            return str(self.status) if name == "?" else self.fs.env.get(name, "")

        pattern = r"\$\{([A-Za-z_][A-Za-z0-9_]*|\?)\}|\$([A-Za-z_][A-Za-z0-9_]*|\?)"
        return "".join(text if quote == "'" else re.sub(pattern, var, text) for text, quote in word.parts)

    def run_script(self, script: str, io: _Io | None = None, **kw: Any) -> int:
        io = io or _Io(**kw)
        try:
            tokens = _tokens(script)
        except ValueError as exc:
            io.err(f"sh: syntax error: {exc}\n".encode())
            return 2
        pipeline: list[list[_Word]] = [[]]
        connector = ";"
        for token in [*tokens, ";"]:
            if isinstance(token, _Word):
                pipeline[-1].append(token)
            elif token == "|":
                pipeline.append([])
            else:
                if any(pipeline) and (connector == ";" or (connector == "&&") == (self.status == 0)):
                    self.status = self._pipeline(pipeline, io)
                if self.exited is not None:
                    return self.exited
                pipeline, connector = [[]], (";" if token == "\n" else token)
        return self.status

    def _pipeline(self, commands: list[list[_Word]], io: _Io) -> int:
        data: bytes | None = None
        status = 0
        for n, words in enumerate(commands):
            last = n == len(commands) - 1
            chunks: list[bytes] = []
            feed = io.stdin if data is None else (lambda d=data: d)
            status = self._simple(
                [self._expand(w) for w in words], _Io(feed, io.out if last else chunks.append, io.err)
            )
            data = b"".join(chunks)
        return status

    def _simple(self, words: list[str], io: _Io) -> int:
        argv: list[str] = []
        out, err = io.out, io.err
        i = 0
        while i < len(words):
            redirect = re.fullmatch(r"([12]?)(>>?)(&[12]|.*)", words[i])
            if not redirect:
                argv.append(words[i])
                i += 1
                continue
            fd, mode, target = redirect.groups()
            if not target and i + 1 < len(words):
                target, i = words[i + 1], i + 1
            i += 1
            sink = self._sink(target, mode == ">>", io)
            if fd == "2":
                err = sink
            else:
                out = sink
        if not argv:
            return 0
        return self.run(argv, _Io(io.stdin, out, err))

    def _sink(self, target: str, append: bool, io: _Io) -> Writer:
        if target == "/dev/null":
            return lambda _data: None
        if target in ("&1", "&2"):
            return io.out if target == "&1" else io.err
        path = self._path(target)
        self.fs.write(path, b"", append=append)

        def write(data: bytes) -> None:
            self.fs.write(path, data, append=True)

        return write

    def _path(self, name: str) -> str:
        return posixpath.normpath(posixpath.join("/", name))

    # commands ----------------------------------------------------------------------------------
    def run(self, argv: list[str], io: _Io | None = None, **kw: Any) -> int:
        """Run one command; its exit code."""
        io = io or _Io(**kw)
        name = posixpath.basename(argv[0])
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            io.err(outside_message(argv[0]).encode())
            return 127
        code: int = handler(argv[1:], io)
        return code

    def _cmd_env(self, args: list[str], io: _Io) -> int:
        io.out("".join(f"{k}={v}\n" for k, v in self.fs.env.items()).encode())
        return 0

    def _cmd_printenv(self, args: list[str], io: _Io) -> int:
        if not args:
            return self._cmd_env(args, io)
        found = [self.fs.env[a] for a in args if a in self.fs.env]
        io.out("".join(f"{v}\n" for v in found).encode())
        return 0 if len(found) == len(args) else 1

    def _cmd_echo(self, args: list[str], io: _Io) -> int:
        newline = "\n"
        while args and args[0] in ("-n", "-e", "-ne", "-en"):
            newline = "" if "n" in args[0] else newline
            args = args[1:]
        io.out((" ".join(args) + newline).encode())
        return 0

    def _cmd_hostname(self, args: list[str], io: _Io) -> int:
        io.out(f"{self.fs.hostname}\n".encode())
        return 0

    def _cmd_pwd(self, args: list[str], io: _Io) -> int:
        io.out(b"/\n")
        return 0

    def _cmd_true(self, args: list[str], io: _Io) -> int:
        return 0

    def _cmd_false(self, args: list[str], io: _Io) -> int:
        return 1

    def _cmd_sleep(self, args: list[str], io: _Io) -> int:
        try:
            time.sleep(min(float(args[0].rstrip("s")), 2.0) if args else 0)
        except ValueError:
            io.err(f"sleep: invalid number '{args[0]}'\n".encode())
            return 1
        return 0

    def _cmd_exit(self, args: list[str], io: _Io) -> int:
        self.exited = int(args[0]) if args and args[0].isdigit() else self.status
        return self.exited

    def _cmd_cat(self, args: list[str], io: _Io) -> int:
        if not args or args == ["-"]:
            io.out(io.stdin())
            return 0
        status = 0
        for name in args:
            path = self._path(name)
            if path in self.fs.files:
                io.out(self.fs.files[path])
            elif path in self.fs.dirs:
                io.err(f"cat: {name}: Is a directory\n".encode())
                status = 1
            else:
                io.err(f"cat: {name}: No such file or directory\n".encode())
                status = 1
        return status

    def _cmd_ls(self, args: list[str], io: _Io) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-") and a != "-")
        names = [a for a in args if not a.startswith("-") or a == "-"] or ["."]
        status = 0
        for n, name in enumerate(names):
            path = self._path(name)
            entries = self.fs.listing(path)
            if entries is None and path not in self.fs.files:
                io.err(f"ls: cannot access '{name}': No such file or directory\n".encode())
                status = 2
                continue
            if len(names) > 1 and entries is not None:
                io.out(f"{chr(10) if n else ''}{name}:\n".encode())
            shown = [posixpath.basename(path) if entries is None else e for e in entries or [name]]
            if "a" in flags and entries is not None:
                shown = [".", "..", *shown]
            if "l" in flags:
                lines = [self._long(path if entries is None else posixpath.join(path, e), e) for e in shown]
                if entries is not None:
                    lines.insert(0, f"total {len(shown) * 4}")
                io.out(("\n".join(lines) + "\n").encode())
            else:
                io.out("".join(f"{e}\n" for e in shown).encode())
        return status

    def _long(self, path: str, shown: str) -> str:
        stamp = time.strftime("%b %d %H:%M", time.gmtime(self.cluster.started))
        if path in self.fs.files:
            return f"-rw-r--r-- 1 root root {len(self.fs.files[path]):>6} {stamp} {shown}"
        return f"drwxr-xr-x 2 root root {4096:>6} {stamp} {shown}"

    def _cmd_grep(self, args: list[str], io: _Io) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        rest = [a for a in args if not a.startswith("-")]
        if not rest:
            io.err(b"Usage: grep [-iv] PATTERN [FILE]...\n")
            return 2
        try:
            pattern = re.compile(rest[0], re.IGNORECASE if "i" in flags else 0)
        except re.error as exc:
            io.err(f"grep: bad regex '{rest[0]}': {exc}\n".encode())
            return 2
        text = b""
        for name in rest[1:] or ["-"]:
            if name == "-":
                text += io.stdin()
            elif self._path(name) in self.fs.files:
                text += self.fs.files[self._path(name)]
            else:
                io.err(f"grep: {name}: No such file or directory\n".encode())
        lines = [
            ln
            for ln in text.decode(errors="replace").splitlines()
            if bool(pattern.search(ln)) != ("v" in flags)
        ]
        io.out("".join(f"{ln}\n" for ln in lines).encode())
        return 0 if lines else 1

    def _shell(self, args: list[str], io: _Io) -> int:
        if args[:1] == ["-c"] and len(args) > 1:
            return Shell(self.cluster, self.pod, self.fs).run_script(args[1], io)
        if args and not args[0].startswith("-"):
            path = self._path(args[0])
            if path not in self.fs.files:
                io.err(f"sh: can't open '{args[0]}': No such file or directory\n".encode())
                return 2
            return Shell(self.cluster, self.pod, self.fs).run_script(self.fs.files[path].decode(), io)
        return Shell(self.cluster, self.pod, self.fs).run_script(io.stdin().decode(errors="replace"), io)

    _cmd_sh = _cmd_bash = _cmd_ash = _cmd_dash = _shell

    def _cmd_tar(self, args: list[str], io: _Io) -> int:
        """`tar cf - PATH...` and `tar xf - -C DIR`, what `kubectl cp` runs in the container."""
        flags, paths, directory, i = "", [], "/", 0
        while i < len(args):
            a = args[i]
            if a in ("-C", "--directory"):
                directory, i = args[i + 1] if i + 1 < len(args) else "/", i + 2
                continue
            if a.startswith("--"):
                i += 1
                continue
            if a.startswith("-") or (i == 0 and not flags):
                flags += a.lstrip("-")
                if a.lstrip("-").endswith("f"):
                    i += 1  # the archive name: kubectl always passes "-" (stdin or stdout)
            else:
                paths.append(a)
            i += 1
        if "c" in flags:
            return self._tar_create(paths, directory, io)
        if "x" in flags:
            return self._tar_extract(directory, io)
        io.err(b"tar: need exactly one of -c or -x\n")
        return 2

    def _tar_create(self, paths: list[str], directory: str, io: _Io) -> int:
        buffer = io_module.BytesIO()
        status = 0
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name in paths:
                full = self._path(posixpath.join(directory, name))
                members = (
                    [full]
                    if full in self.fs.files
                    else [p for p in sorted(self.fs.files) if p.startswith(full + "/")]
                )
                if not members and full not in self.fs.dirs:
                    io.err(f"tar: {name}: Cannot stat: No such file or directory\n".encode())
                    status = 2
                for path in members:
                    info = tarfile.TarInfo(
                        posixpath.relpath(path, "/")
                        if name.startswith("/")
                        else posixpath.relpath(path, self._path(directory))
                    )
                    info.size, info.mtime, info.mode = (
                        len(self.fs.files[path]),
                        int(self.cluster.started),
                        0o644,
                    )
                    archive.addfile(info, io_module.BytesIO(self.fs.files[path]))
        io.out(buffer.getvalue())
        return status

    def _tar_extract(self, directory: str, io: _Io) -> int:
        try:
            with tarfile.open(fileobj=io_module.BytesIO(io.stdin()), mode="r") as archive:
                for member in archive.getmembers():
                    if member.isfile():
                        data = archive.extractfile(member)
                        self.fs.write(
                            self._path(posixpath.join(directory, member.name)), data.read() if data else b""
                        )
                    elif member.isdir():
                        self.fs.add_dir(self._path(posixpath.join(directory, member.name)))
        except tarfile.TarError as exc:
            io.err(f"tar: {exc}\n".encode())
            return 2
        return 0

    # HTTP --------------------------------------------------------------------------------------
    def _fetch(self, url: str, method: str = "GET", agent: str = "-") -> tuple[int, str, bytes, bytes]:
        """(status, reason, head, body) of a request from this container; UnreachableError when it fails."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        target = reach(self.cluster, self.pod, host, port)
        ip = (self.pod.get("status") or {}).get("podIP", "10.244.0.1")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        reply = serve(self.cluster, target, method, path, client=ip, agent=agent)
        return reply.status, reply.reason, reply.head(), reply.body

    def _cmd_wget(self, args: list[str], io: _Io) -> int:
        quiet, output, url, spider = False, "", "", False
        i = 0
        while i < len(args):
            a = args[i]
            if a in ("-O", "--output-document", "-T", "--timeout", "-U", "--user-agent"):
                output = args[i + 1] if a in ("-O", "--output-document") and i + 1 < len(args) else output
                i += 2
                continue
            if a.startswith("-") and not a.startswith("--") and "O" in a:
                quiet = quiet or "q" in a
                output = a.split("O", 1)[1] or (args[i + 1] if i + 1 < len(args) else "")
                i += 1 if a.split("O", 1)[1] else 2
                continue
            quiet = quiet or a in ("-q", "--quiet")
            spider = spider or a == "--spider"
            if not a.startswith("-"):
                url = a
            i += 1
        if not url:
            io.err(b"BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...\n")
            return 1
        try:
            status, reason, _head, body = self._fetch(url, "HEAD" if spider else "GET", "Wget")
        except UnreachableError as exc:
            host = urlsplit(url if "://" in url else f"http://{url}").hostname
            if exc.kind == "unresolved":
                io.err(f"wget: bad address '{host}'\n".encode())
            else:
                io.err(
                    f"wget: can't connect to remote host ({exc.address or host}): Connection refused\n".encode()
                )
            return 1
        if not quiet:
            io.err(f"Connecting to {urlsplit(url if '://' in url else 'http://' + url).netloc}\n".encode())
        if status >= 400:
            io.err(f"wget: server returned error: HTTP/1.1 {status} {reason}\n".encode())
            return 1
        if spider:
            return 0
        if output in ("-", "/dev/stdout"):
            io.out(body)
        else:
            name = output or posixpath.basename(urlsplit(url).path) or "index.html"
            self.fs.write(self._path(name), body)
            if not quiet:
                io.err(
                    f"saving to '{name}'\n{name}              100% |********************************| {len(body)}  0:00:00 ETA\n'{name}' saved\n".encode()
                )
        return 0

    def _cmd_curl(self, args: list[str], io: _Io) -> int:
        silent = show_error = fail = include = head = False
        output, write_out, method, url = "", "", "GET", ""
        i = 0
        while i < len(args):
            a = args[i]
            takes = {
                "-o",
                "--output",
                "-w",
                "--write-out",
                "-X",
                "--request",
                "-H",
                "--header",
                "-m",
                "--max-time",
                "--connect-timeout",
                "-A",
                "--user-agent",
                "-d",
                "--data",
            }
            if a in takes:
                value = args[i + 1] if i + 1 < len(args) else ""
                output = value if a in ("-o", "--output") else output
                write_out = value if a in ("-w", "--write-out") else write_out
                method = value if a in ("-X", "--request") else method
                i += 2
                continue
            if a.startswith("-") and not a.startswith("--"):
                silent, show_error = silent or "s" in a, show_error or "S" in a
                fail, include, head = fail or "f" in a, include or "i" in a, head or "I" in a
            elif a in ("--silent", "--fail", "--include", "--head", "--show-error"):
                silent, fail = silent or a == "--silent", fail or a == "--fail"
                include, head = include or a == "--include", head or a == "--head"
                show_error = show_error or a == "--show-error"
            elif not a.startswith("-"):
                url = a
            i += 1
        quiet_errors = silent and not show_error
        if not url:
            io.err(b"curl: try 'curl --help' or 'curl --manual' for more information\n")
            return 2
        parts = urlsplit(url if "://" in url else f"http://{url}")
        try:
            status, _reason, head_bytes, body = self._fetch(url, "HEAD" if head else method, "curl/8.5.0")
        except UnreachableError as exc:
            port = parts.port or 80
            code, text = {
                "unresolved": (6, f"Could not resolve host: {parts.hostname}"),
                "empty": (52, "Empty reply from server"),
            }.get(
                exc.kind,
                (
                    7,
                    f"Failed to connect to {parts.hostname} port {port} after 0 ms: Couldn't connect to server",
                ),
            )
            if not quiet_errors:
                io.err(f"curl: ({code}) {text}\n".encode())
            if write_out:
                io.out(write_out.replace("%{http_code}", "000").encode())
            return code
        if fail and status >= 400:
            if not quiet_errors:
                io.err(f"curl: (22) The requested URL returned error: {status}\n".encode())
            return 22
        shown = (head_bytes if include or head else b"") + body
        if output and output != "-":
            if output != "/dev/null":
                self.fs.write(self._path(output), shown)
        else:
            io.out(shown)
        if write_out:
            io.out(write_out.replace("%{http_code}", str(status)).replace("\\n", "\n").encode())
        return 0
