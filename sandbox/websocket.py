"""WebSocket (RFC 6455), server side: the handshake and the frames the streaming subresources speak.

Messages from a client are masked; ours are not. A ping is answered with a pong, a close with a
close. One lock serialises writes, since a session writes from more than one thread.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import struct
import threading
from io import BufferedIOBase

from sandbox.http import Request, Response, Upgrade

__all__ = ["WebSocket", "offered_protocols", "upgrade_response", "wants_websocket"]

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x1, 0x2, 0x8, 0x9, 0xA
_MAX_MESSAGE = 16 * 1024 * 1024


def wants_websocket(req: Request) -> bool:
    return "websocket" in req.header("Upgrade").lower() and bool(req.header("Sec-WebSocket-Key"))


def offered_protocols(req: Request) -> list[str]:
    return [p.strip() for p in req.header("Sec-WebSocket-Protocol").split(",") if p.strip()]


def upgrade_response(req: Request, protocol: str, session: Upgrade) -> Response:
    """The `101 Switching Protocols` answer that hands the connection to `session`."""
    digest = hashlib.sha1((req.header("Sec-WebSocket-Key").strip() + _GUID).encode()).digest()
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Accept": base64.b64encode(digest).decode(),
    }
    if protocol:
        headers["Sec-WebSocket-Protocol"] = protocol
    return Response(101, headers=headers, upgrade=session)


class WebSocket:
    """Whole messages over an upgraded connection."""

    def __init__(self, rfile: BufferedIOBase, wfile: BufferedIOBase) -> None:
        self._in = rfile
        self._out = wfile
        self._lock = threading.Lock()
        self.closed = False

    def _exact(self, n: int) -> bytes:
        data = self._in.read(n) if n else b""
        if len(data) != n:
            raise ConnectionResetError("the client went away mid-frame")
        return data

    def _frame(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x80 | opcode, size)
        elif size < 1 << 16:
            head = struct.pack("!BBH", 0x80 | opcode, 126, size)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
        with self._lock:
            if self.closed and opcode != _CLOSE:
                raise BrokenPipeError("the websocket is closed")
            self._out.write(head + payload)
            self._out.flush()

    def send(self, data: bytes) -> None:
        self._frame(_BINARY, data)

    def recv(self) -> bytes | None:
        """The next data message (text or binary); None once the client closes or goes away."""
        message = b""
        while True:
            try:
                first, second = self._exact(2)
            except (ConnectionResetError, OSError, ValueError):
                self.closed = True
                return None
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exact(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exact(8))[0]
            if size > _MAX_MESSAGE:
                self.close(1009)
                return None
            mask = self._exact(4) if second & 0x80 else b""
            payload = self._exact(size)
            if mask and size:
                key = (mask * (size // 4 + 1))[:size]
                payload = (int.from_bytes(payload) ^ int.from_bytes(key)).to_bytes(size)
            if opcode == _CLOSE:
                self.close()
                return None
            if opcode == _PING:
                self._frame(_PONG, payload)
                continue
            if opcode == _PONG:
                continue
            message += payload
            if first & 0x80:  # FIN: the last fragment of the message
                return message

    def close(self, code: int = 1000) -> None:
        """Send a close frame once (the peer's close is answered the same way)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        with contextlib.suppress(OSError):
            self._frame(_CLOSE, struct.pack("!H", code))
