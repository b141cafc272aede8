"""The protobuf wire format: the varints and fields every message is made of, read and written.

The sandbox speaks it in three places: the Kubernetes protobuf codec (`sandbox.protobuf`), the OpenAPI v2
document kubectl reads as gnostic protobuf (`sandbox.discovery`, `sandbox.openapi_pb`), and the script that
reads the Kubernetes definitions out of kubectl (`data/build_protobuf_definitions.py`).
"""

from __future__ import annotations

__all__ = ["ProtobufError", "bytes_field", "tag", "uvarint", "varint", "wire_fields"]


class ProtobufError(ValueError):
    """The body is not a protobuf message the sandbox can read (truncated, a wire type it does not know, or a
    Kubernetes message it has no definition for)."""


def varint(data: bytes, i: int) -> tuple[int, int]:
    """The varint at `data[i]`, and the index after it."""
    result = shift = 0
    while True:
        if i >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def wire_fields(data: bytes) -> list[tuple[int, int, int | bytes]]:
    """The (number, wire type, value) of each field of a message: varints and fixed ints as ints,
    length-delimited values as bytes."""
    out: list[tuple[int, int, int | bytes]] = []
    i = 0
    while i < len(data):
        key, i = varint(data, i)
        wire = key & 7
        value: int | bytes
        if wire == 0:
            value, i = varint(data, i)
        elif wire == 2:
            size, i = varint(data, i)
            if i + size > len(data):
                raise ProtobufError("truncated field")
            value, i = data[i : i + size], i + size
        elif wire == 1:
            value, i = int.from_bytes(data[i : i + 8], "little"), i + 8
        elif wire == 5:
            value, i = int.from_bytes(data[i : i + 4], "little"), i + 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        out.append((key >> 3, wire, value))
    return out


def uvarint(n: int) -> bytes:
    """`n` as a varint (a negative one as its 64-bit two's complement, as int32/int64 fields are)."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    """A field's key: its number and wire type."""
    return uvarint(number << 3 | wire)


def bytes_field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a string, bytes or a sub-message)."""
    return tag(number, 2) + uvarint(len(payload)) + payload
