"""SPDY/3.1 framing, server side: what kubectl's port-forward speaks (tunnelled in a WebSocket since
1.31, over a plain `Upgrade: SPDY/3.1` before), and what kubectl before 1.30 uses for exec and attach.

A client opens streams with SYN_STREAM (headers such as `streamtype: data`, `port: 8080`); we answer
each with SYN_REPLY, carry bytes in DATA frames, end a direction with the FIN flag, and echo PINGs.
Header blocks are zlib-compressed with the protocol's dictionary, one compression context per
direction for the whole connection. Flow control is not enforced (the payloads here are small).
"""

from __future__ import annotations

import queue
import struct
import threading
import zlib
from collections.abc import Callable
from io import BufferedIOBase
from typing import Any

from sandbox.http import Request, Response
from sandbox.websocket import WebSocket

__all__ = ["Session", "SpdyStream", "WebSocketBytes", "upgrade_response", "wants_spdy"]

_SYN_STREAM, _SYN_REPLY, _RST_STREAM, _SETTINGS, _PING, _GOAWAY, _HEADERS, _WINDOW_UPDATE = (
    1,
    2,
    3,
    4,
    6,
    7,
    8,
    9,
)
_FIN = 0x01
_WORDS_TEXT = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language "
    "accept-ranges age allow authorization cache-control connection content-base content-encoding "
    "content-language content-length content-location content-md5 content-range content-type date "
    "etag expect expires from host if-match if-modified-since if-none-match if-range "
    "if-unmodified-since last-modified location max-forwards pragma proxy-authenticate "
    "proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status 200_OK version HTTP/1.1 url "
    "public set-cookie keep-alive origin"
)
_WORDS = [w.replace("_", " ") for w in _WORDS_TEXT.split()]
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack("!I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()
"""The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00, section 2.6.10.1)."""


def wants_spdy(req: Request) -> bool:
    return req.header("Upgrade").lower().startswith("spdy/3")


def upgrade_response(protocol: str, session: Callable[[BufferedIOBase, BufferedIOBase], None]) -> Response:
    headers = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1"}
    if protocol:
        headers["X-Stream-Protocol-Version"] = protocol
    return Response(101, headers=headers, upgrade=session)


class WebSocketBytes:
    """A byte stream over WebSocket binary messages, as kubectl tunnels SPDY since 1.31."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self._buffer = b""

    def read(self, n: int) -> bytes:
        while len(self._buffer) < n:
            message = self.ws.recv()
            if message is None:
                break
            self._buffer += message
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def write(self, data: bytes) -> None:
        self.ws.send(data)


class SpdyStream:
    """One stream: its headers, what the client sent (None at its FIN), and our half."""

    def __init__(self, session: Session, stream_id: int, headers: dict[str, str]) -> None:
        self.session = session
        self.id = stream_id
        self.headers = headers
        self.inbox: queue.Queue[bytes | None] = queue.Queue()
        self.closed = False

    def write(self, data: bytes) -> None:
        if data and not self.closed:
            self.session.data(self.id, data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.session.data(self.id, b"", fin=True)

    def read_all(self) -> bytes:
        data = b""
        while (chunk := self.inbox.get()) is not None:
            data += chunk
        self.inbox.put(None)
        return data


class Session:
    """A SPDY connection: reads frames until GOAWAY or EOF, handing each new stream to `on_stream`."""

    def __init__(self, read: Callable[[int], bytes], write: Callable[[bytes], Any]) -> None:
        self._read = read
        self._write = write
        self._lock = threading.Lock()
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, zdict=DICTIONARY)
        self.streams: dict[int, SpdyStream] = {}
        self.done = threading.Event()

    # writing -----------------------------------------------------------------------------------
    def _control(self, kind: int, flags: int, payload: bytes) -> None:
        head = struct.pack("!HHI", 0x8000 | 3, kind, flags << 24 | len(payload))
        with self._lock:
            try:
                self._write(head + payload)
            except OSError:
                self.done.set()

    def data(self, stream_id: int, payload: bytes, fin: bool = False) -> None:
        for start in range(0, max(len(payload), 1), 0xFFFF):
            chunk = payload[start : start + 0xFFFF]
            last = start + 0xFFFF >= len(payload)
            flags = _FIN if fin and last else 0
            with self._lock:
                try:
                    self._write(struct.pack("!II", stream_id & 0x7FFFFFFF, flags << 24 | len(chunk)) + chunk)
                except OSError:
                    self.done.set()
                    return

    def _header_block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack("!I", len(headers))
        for name, value in headers.items():
            raw += struct.pack("!I", len(name)) + name.lower().encode()
            raw += struct.pack("!I", len(value.encode())) + value.encode()
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def reply(self, stream: SpdyStream, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            block = self._header_block(headers or {})
        self._control(_SYN_REPLY, 0, struct.pack("!I", stream.id) + block)

    # reading -----------------------------------------------------------------------------------
    def _exact(self, n: int) -> bytes:
        data = self._read(n) if n else b""
        if len(data) != n:
            raise EOFError
        return data

    def _headers(self, block: bytes) -> dict[str, str]:
        raw = self._inflate.decompress(block)
        count, pos, out = struct.unpack_from("!I", raw)[0], 4, {}
        for _ in range(count):
            size = struct.unpack_from("!I", raw, pos)[0]
            name = raw[pos + 4 : pos + 4 + size].decode().lower()
            pos += 4 + size
            size = struct.unpack_from("!I", raw, pos)[0]
            out[name] = raw[pos + 4 : pos + 4 + size].decode().replace("\x00", ",")
            pos += 4 + size
        return out

    def serve(self, on_stream: Callable[[SpdyStream], None]) -> None:
        try:
            while not self.done.is_set():
                head = self._exact(8)
                word, flags_length = struct.unpack("!II", head)
                flags, length = flags_length >> 24, flags_length & 0xFFFFFF
                payload = self._exact(length)
                if word & 0x80000000:
                    self._on_control((word & 0xFFFF), flags, payload, on_stream)
                else:
                    stream = self.streams.get(word & 0x7FFFFFFF)
                    if stream is not None:
                        if payload:
                            stream.inbox.put(payload)
                        if flags & _FIN:
                            stream.inbox.put(None)
        except (EOFError, OSError, zlib.error, struct.error):
            pass
        finally:
            self.done.set()
            for stream in self.streams.values():
                stream.inbox.put(None)

    def _on_control(
        self, kind: int, flags: int, payload: bytes, on_stream: Callable[[SpdyStream], None]
    ) -> None:
        if kind == _SYN_STREAM:
            stream_id = struct.unpack_from("!I", payload)[0] & 0x7FFFFFFF
            stream = SpdyStream(self, stream_id, self._headers(payload[10:]))
            self.streams[stream_id] = stream
            if flags & _FIN:
                stream.inbox.put(None)
            self.reply(stream)
            on_stream(stream)
        elif kind in (_SYN_REPLY, _HEADERS):
            self._headers(payload[4:])  # keeps the decompression context in step
        elif kind == _RST_STREAM:
            stream_id = struct.unpack_from("!I", payload)[0] & 0x7FFFFFFF
            rst = self.streams.get(stream_id)
            if rst is not None:
                rst.closed = True
                rst.inbox.put(None)
        elif kind == _PING:
            self._control(_PING, 0, payload)
        elif kind == _GOAWAY:
            self.done.set()
