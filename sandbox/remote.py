"""`exec` and `attach`: the kubelet's remote command over WebSocket channels (`v5.channel.k8s.io` ... `channel.k8s.io`).

Each binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 error (a `Status` from
v4 on), 4 resize, and in v5 255 to close a channel (the client's end of stdin). The command runs in
the emulated container (`sandbox.shell`); with a TTY and a shell, an interactive session with a
prompt and a line editor. `attach` joins the container's main process: its new output, or its
shell when the container was started with `stdin` and `tty`.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox import spdy
from sandbox.cluster import Cluster, resource
from sandbox.errors import ApiError, bad_request
from sandbox.http import Request, Response
from sandbox.images import lookup_image
from sandbox.rootfs import container_rootfs
from sandbox.shell import SHELLS, Shell
from sandbox.websocket import WebSocket, offered_protocols, upgrade_response, wants_websocket

__all__ = ["CHANNEL_PROTOCOLS", "Streams", "exit_status", "handle", "run_command"]

CHANNEL_PROTOCOLS = (
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
)
_STDIN, _STDOUT, _STDERR, _ERROR, _RESIZE, _CLOSE = 0, 1, 2, 3, 4, 255


@dataclass(frozen=True)
class Options:
    command: tuple[str, ...]
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


def exit_status(code: int, command: tuple[str, ...]) -> dict[str, Any]:
    """The Status the kubelet writes on the error channel when a command ends."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            "command terminated with non-zero exit code: error executing command "
            f"[{' '.join(command)}], exit code {code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def _failure(message: str) -> dict[str, Any]:
    return {"metadata": {}, "status": "Failure", "message": message, "reason": "InternalError", "code": 500}


class Streams:
    """The client's side of a session, whatever the transport: stdin chunks in, output out."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self.inbox: queue.Queue[bytes | None] = queue.Queue()
        self.gone = threading.Event()

    def out(self, data: bytes) -> None:
        raise NotImplementedError

    def err(self, data: bytes) -> None:
        raise NotImplementedError

    def finish(self, status: dict[str, Any]) -> None:
        raise NotImplementedError

    def read_all(self) -> bytes:
        """Stdin until the client closes it."""
        data = b""
        while (chunk := self.inbox.get()) is not None:
            data += chunk
        self.inbox.put(None)
        return data


class _ChannelStreams(Streams):
    def __init__(self, ws: WebSocket, protocol: str, options: Options) -> None:
        super().__init__(options.tty)
        self.ws = ws
        self.protocol = protocol
        self.options = options
        threading.Thread(target=self._read, daemon=True, name="sandbox-exec-stdin").start()
        first = _STDOUT if options.stdout else _STDERR if options.stderr else _ERROR
        self._send(first, b"")  # tells the client the streams are ready, as the kubelet does

    def _read(self) -> None:
        while (message := self.ws.recv()) is not None:
            if not message:
                continue
            channel, data = message[0], message[1:]
            if channel == _STDIN and data:
                self.inbox.put(data)
            elif channel == _CLOSE and data[:1] == bytes([_STDIN]):
                self.inbox.put(None)
        self.inbox.put(None)
        self.gone.set()

    def _send(self, channel: int, data: bytes) -> None:
        try:
            self.ws.send(bytes([channel]) + data)
        except OSError:
            self.gone.set()

    def out(self, data: bytes) -> None:
        if data and self.options.stdout:
            self._send(_STDOUT, data)

    def err(self, data: bytes) -> None:
        if not data:
            return
        if self.tty:
            self.out(data)
        elif self.options.stderr:
            self._send(_STDERR, data)

    def finish(self, status: dict[str, Any]) -> None:
        if self.protocol in ("v4.channel.k8s.io", "v5.channel.k8s.io"):
            self._send(_ERROR, json.dumps(status, separators=(",", ":")).encode())
        elif status.get("status") != "Success":
            self._send(_ERROR, str(status.get("message", "")).encode())
        self.ws.close()


class _SpdyStreams(Streams):
    """The same session over SPDY (kubectl before 1.30): one stream per channel, named by `streamtype`."""

    def __init__(
        self, session: spdy.Session, protocol: str, options: Options, run: Callable[[Streams], None]
    ) -> None:
        super().__init__(options.tty)
        self.session = session
        self.protocol = protocol
        self.run = run
        self.streams: dict[str, spdy.SpdyStream] = {}
        self.wanted = {"error"} | {
            n for n, on in (("stdin", options.stdin), ("stdout", options.stdout)) if on
        }
        if options.stderr and not options.tty:
            self.wanted.add("stderr")
        self.started = False

    def serve(self) -> None:
        self.session.serve(self._on_stream)
        self.inbox.put(None)
        self.gone.set()

    def _on_stream(self, stream: spdy.SpdyStream) -> None:
        self.streams[stream.headers.get("streamtype", "")] = stream
        if not self.started and self.wanted <= set(self.streams):
            self.started = True
            if "stdin" in self.streams:
                threading.Thread(target=self._pump, daemon=True).start()
            threading.Thread(target=self.run, args=(self,), daemon=True, name="sandbox-exec").start()

    def _pump(self) -> None:
        while (chunk := self.streams["stdin"].inbox.get()) is not None:
            self.inbox.put(chunk)
        self.inbox.put(None)

    def out(self, data: bytes) -> None:
        if "stdout" in self.streams:
            self.streams["stdout"].write(data)

    def err(self, data: bytes) -> None:
        target = self.streams.get("stdout" if self.tty else "stderr")
        if target is not None:
            target.write(data)

    def finish(self, status: dict[str, Any]) -> None:
        error = self.streams["error"]
        if self.protocol == "v4.channel.k8s.io":
            error.write(json.dumps(status, separators=(",", ":")).encode())
        elif status.get("status") != "Success":
            error.write(str(status.get("message", "")).encode())
        for stream in self.streams.values():
            stream.close()


def _prompt(image: str, hostname: str) -> bytes:
    busybox = lookup_image(image).repository in ("busybox", "alpine")
    return b"/ # " if busybox else f"root@{hostname}:/# ".encode()


def _terminal(shell: Shell, streams: Streams, prompt: bytes) -> int:
    """An interactive shell on a TTY: echo, backspace, Ctrl-C, Ctrl-D, one command per line."""
    line = b""
    streams.out(prompt)

    def crlf(data: bytes) -> None:
        streams.out(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    while (chunk := streams.inbox.get()) is not None:
        skip = 0
        for i, byte in enumerate(chunk):
            if skip:
                skip -= 1
                continue
            ch = bytes([byte])
            if ch == b"\x1b":  # an escape sequence (arrow keys): not edited here
                skip = 2
            elif ch in (b"\r", b"\n"):
                streams.out(b"\r\n")
                code = shell.run_script(line.decode(errors="replace"), stdin=lambda: b"", out=crlf, err=crlf)
                line = b""
                if shell.exited is not None:
                    return code
                streams.out(prompt)
            elif ch in (b"\x7f", b"\x08"):
                if line:
                    line = line[:-1]
                    streams.out(b"\b \b")
            elif ch == b"\x03":
                line = b""
                streams.out(b"^C\r\n" + prompt)
            elif ch == b"\x04" and not line:
                streams.out(b"exit\r\n")
                return shell.status
            elif byte >= 0x20 or ch == b"\t":
                line += ch
                streams.out(ch)
            del i
    return shell.status


def run_command(
    cluster: Cluster,
    pod: dict[str, Any],
    container: dict[str, Any],
    command: tuple[str, ...],
    streams: Streams,
) -> int:
    """Run `command` in the container, reading stdin only when the command does."""
    with cluster.store.lock:
        fs = container_rootfs(cluster, pod, container)
    shell = Shell(cluster, pod, fs)
    interactive = streams.tty and len(command) == 1 and command[0].rsplit("/", 1)[-1] in SHELLS
    try:
        if interactive:
            return _terminal(shell, streams, _prompt(str(container.get("image", "")), fs.hostname))
        return shell.run(list(command), stdin=streams.read_all, out=streams.out, err=streams.err)
    finally:
        if fs.written:
            with cluster.store.lock:
                layer = cluster.extras.setdefault("written", {}).setdefault(
                    (pod["metadata"]["uid"], container["name"]), {}
                )
                layer.update(fs.written)


def _main_process_exited(cluster: Cluster, pod: dict[str, Any], name: str, code: int) -> None:
    """The attached shell was the container's main process: its exit ends the container, as on a node."""
    from sandbox.controllers.kubelet import sync_pod

    with cluster.store.lock:
        cluster.extras.setdefault("exited", {})[(pod["metadata"]["uid"], name)] = code
        current = cluster.store.find(resource("pods"), pod["metadata"]["namespace"], pod["metadata"]["name"])
        if current is not None and current["metadata"]["uid"] == pod["metadata"]["uid"]:
            sync_pod(cluster, current)
            cluster.settle()


def _attach(
    cluster: Cluster, pod: dict[str, Any], container: dict[str, Any], streams: Streams, stdin: bool
) -> int:
    """Join the main process: its shell when it was started with stdin and a TTY, else its new output."""
    spec_command = tuple(str(p) for p in (container.get("command") or []) + (container.get("args") or []))
    if container.get("stdin") and stdin and lookup_image(str(container.get("image", ""))).shell:
        code = run_command(cluster, pod, container, spec_command[-1:] or ("sh",), streams)
        _main_process_exited(cluster, pod, container["name"], code)
        return code
    key = (pod["metadata"]["uid"], container["name"])
    for fresh in cluster.logs.follow(key, len(cluster.logs.lines(key))):
        if streams.gone.is_set():
            break
        for line in fresh:
            streams.out((line.text + "\n").encode())
    return 0


def _target(
    cluster: Cluster, namespace: str, name: str, wanted: str, verb: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = cluster.store.get(resource("pods"), namespace, name)
    containers = pod["spec"].get("containers") or []
    if not wanted:
        if len(containers) != 1:
            names = " ".join(c["name"] for c in containers)
            raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{names}]")
        wanted = containers[0]["name"]
    others = (pod["spec"].get("initContainers") or []) + (pod["spec"].get("ephemeralContainers") or [])
    container = next((c for c in containers + others if c["name"] == wanted), None)
    if container is None:
        raise bad_request(f"container {wanted} is not valid for pod {name}")
    if not pod["spec"].get("nodeName"):
        raise bad_request(f"pod {name} does not have a host assigned")
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise bad_request(f"cannot {verb} into a container in a completed pod; current phase is {phase}")
    return pod, container


def _running(pod: dict[str, Any], container: str) -> bool:
    status = pod.get("status") or {}
    statuses = (status.get("containerStatuses") or []) + (status.get("ephemeralContainerStatuses") or [])
    return any(s["name"] == container and "running" in (s.get("state") or {}) for s in statuses)


def _options(req: Request, sub: str) -> Options:
    command = tuple(req.values("command"))
    if sub == "exec" and not command:
        raise bad_request("you must specify at least 1 command")
    options = Options(command, req.flag("stdin"), req.flag("stdout"), req.flag("stderr"), req.flag("tty"))
    if not (options.stdin or options.stdout or options.stderr):
        raise bad_request("you must specify at least 1 of stdin, stdout, stderr")
    if options.tty and options.stderr:
        options = Options(
            command, options.stdin, options.stdout, False, True
        )  # a TTY merges stderr into stdout
    return options


def session(
    cluster: Cluster, pod: dict[str, Any], container: dict[str, Any], sub: str, options: Options
) -> Callable[[Streams], None]:
    """What runs once the streams are open: the command (or the attachment), then its Status."""

    def run(streams: Streams) -> None:
        if not _running(pod, container["name"]):
            streams.finish(
                _failure(f'unable to upgrade connection: container not found ("{container["name"]}")')
            )
            return
        if sub == "attach":
            code = _attach(cluster, pod, container, streams, options.stdin)
        else:
            code = run_command(cluster, pod, container, options.command, streams)
        streams.finish(exit_status(code, options.command))

    return run


def handle(cluster: Cluster, req: Request, namespace: str, name: str, sub: str) -> Response:
    verb = "attach" if sub == "attach" else "exec"
    with cluster.store.lock:
        pod, container = _target(cluster, namespace, name, req.query.get("container", ""), verb)
    options = _options(req, sub)
    run = session(cluster, pod, container, sub, options)
    if wants_websocket(req):
        offered = offered_protocols(req)
        protocol = next((p for p in offered if p in CHANNEL_PROTOCOLS), "")
        if offered and not protocol:
            raise bad_request(
                f"requested protocol(s) are not supported: {offered}; supports {list(CHANNEL_PROTOCOLS)}"
            )

        def upgraded(rfile: Any, wfile: Any) -> None:
            run(_ChannelStreams(WebSocket(rfile, wfile), protocol or "channel.k8s.io", options))

        return upgrade_response(req, protocol, upgraded)
    if spdy.wants_spdy(req):
        offered = [p.strip() for p in req.header("X-Stream-Protocol-Version").split(",") if p.strip()]
        protocol = next((p for p in offered if p in CHANNEL_PROTOCOLS[1:]), "")
        if not protocol:
            raise bad_request(
                f"unable to upgrade: protocol not supported, supports {list(CHANNEL_PROTOCOLS[1:])}"
            )

        def over_spdy(rfile: Any, wfile: Any) -> None:
            session = spdy.Session(rfile.read, lambda b: (wfile.write(b), wfile.flush()))
            _SpdyStreams(session, protocol, options, run).serve()

        return spdy.upgrade_response(protocol, over_spdy)
    raise ApiError(400, "BadRequest", "Upgrade request required")
