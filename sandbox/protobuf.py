"""The Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`) of the built-in types.

client-go's generated clientset prefers protobuf from 1.32 on (client-gen `--prefers-protobuf`:
`Request.UseProtobufAsDefault` when the rest.Config names no content type), so kubectl 1.32+ sends
`create`, `run`, `auth can-i`, `create token`, evictions, ... as protobuf and asks for protobuf
first (`Accept: application/vnd.kubernetes.protobuf,application/json`). Nothing a server answers
changes that choice; an apiserver decodes the body.

A body is the 4 bytes `k8s\\0` and a `runtime.Unknown` (typeMeta, raw object, encoding, type).
`decode` turns it into the JSON object that the same client would have sent as JSON, and `encode`
does the reverse for answers. The field numbers, types and Go facts (pointer, `omitempty`, inline)
come from `data/kubernetes-protobuf-v1.31.json.gz` (see `data/build_protobuf_definitions.py`).
"""

from __future__ import annotations

import base64
import gzip
import json
import struct
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sandbox.protowire import ProtobufError, bytes_field, tag, uvarint, varint, wire_fields

__all__ = [
    "DEFINITIONS",
    "MAGIC",
    "MEDIA_TYPE",
    "SCALAR_KINDS",
    "ProtobufError",
    "Row",
    "decode",
    "encode",
    "message_for",
]

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
DEFINITIONS = Path(__file__).parent / "data" / "kubernetes-protobuf-v1.31.json.gz"
"""The messages of the built-in types, by full name: `{"fields": [Row, ...]}`, and `"go": "none"` where
the Go type is not a struct. `data/build_protobuf_definitions.py` writes it, in these kinds."""
SCALAR_KINDS = {
    1: "f64",
    2: "f32",
    3: "i64",
    4: "u64",
    5: "i32",
    8: "bool",
    9: "s",
    12: "b",
    13: "u32",
    17: "si32",
    18: "si64",
}
"""A scalar field's kind in a `Row`, by its `FieldDescriptorProto.Type` number (double, float, int64, ...)."""
_META = "k8s.io.apimachinery.pkg.apis.meta.v1"
_TIME, _MICRO = f"{_META}.Time", f"{_META}.MicroTime"
_DURATION, _FIELDS = f"{_META}.Duration", f"{_META}.FieldsV1"
_QUANTITY = "k8s.io.apimachinery.pkg.api.resource.Quantity"
_INTSTR = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
_RAW = "k8s.io.apimachinery.pkg.runtime.RawExtension"
_ZERO_SECONDS = -62135596800  # Go's zero time.Time
_ZEROS: dict[str, Any] = {"s": "", "b": "", "bool": False, "f64": 0.0, "f32": 0.0}
_SPECIAL_PACKAGES = {"": "k8s.io.api.core", "meta.k8s.io": _META.rsplit(".", 1)[0]}


Row = tuple[int, str, str, str, Any]
"""A message's field: (number, JSON name, kind, flags, reference). The kind is one of `SCALAR_KINDS`, `m`
(a message, the reference names it) or `map` (the reference is [key kind, value kind, value message or
None]); the flags: `r` repeated, `p` a Go pointer, `o` `omitempty`, `i` inlined in its parent's JSON."""


@cache
def _schema() -> dict[str, dict[str, Any]]:
    with gzip.open(DEFINITIONS, "rt", encoding="utf-8") as handle:
        raw: dict[str, dict[str, Any]] = json.load(handle)
    for message in raw.values():
        rows = [tuple(r) for r in message["fields"]]
        message["rows"] = rows
        message["by_number"] = {r[0]: r for r in rows}
    return raw


def message_for(api_version: str, kind: str) -> str | None:
    """The protobuf message of a built-in kind (`apps/v1`, `Deployment`), or None."""
    group, _, version = api_version.rpartition("/")
    if group in _SPECIAL_PACKAGES:
        package = _SPECIAL_PACKAGES[group]
    elif group == "metrics.k8s.io":
        package = "k8s.io.metrics.pkg.apis.metrics"
    else:
        package = "k8s.io.api." + group.split(".", 1)[0]
    schema = _schema()
    for name in (f"{package}.{version}.{kind}", f"{_META}.{kind}"):
        if name in schema:
            return name
    return None


# --- decoding ---------------------------------------------------------------------------------------


def _signed(value: int, bits: int) -> int:
    value &= (1 << 64) - 1
    if value >= 1 << 63:
        value -= 1 << 64
    if bits == 32:
        value = (value + (1 << 31)) % (1 << 32) - (1 << 31)
    return value


def _scalar(kind: str, wire: int, value: int | bytes) -> Any:
    if kind == "s":
        return bytes(value).decode("utf-8", "replace") if isinstance(value, bytes) else ""
    if kind == "b":
        return base64.b64encode(value).decode() if isinstance(value, bytes) else ""
    if isinstance(value, bytes):
        raise ProtobufError(f"a {kind} field with wire type {wire}")
    if kind == "bool":
        return bool(value)
    if kind in ("i32", "i64"):
        return _signed(value, 32 if kind == "i32" else 64)
    if kind in ("si32", "si64"):
        return (value >> 1) ^ -(value & 1)
    if kind == "f64":
        return struct.unpack("<d", value.to_bytes(8, "little"))[0]
    if kind == "f32":
        return struct.unpack("<f", value.to_bytes(4, "little"))[0]
    return value  # u32, u64


def _repeated_scalars(kind: str, wire: int, value: int | bytes) -> list[Any]:
    if wire == 2 and kind not in ("s", "b"):  # packed
        assert isinstance(value, bytes)
        out, i = [], 0
        while i < len(value):
            if kind == "f64":
                out.append(_scalar(kind, 1, int.from_bytes(value[i : i + 8], "little")))
                i += 8
            elif kind == "f32":
                out.append(_scalar(kind, 5, int.from_bytes(value[i : i + 4], "little")))
                i += 4
            else:
                number, i = varint(value, i)
                out.append(_scalar(kind, 0, number))
        return out
    return [_scalar(kind, wire, value)]


def _go_time(seconds: int, nanos: int, micro: bool) -> str:
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000 if micro else 0)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _go_duration(nanoseconds: int) -> str:
    """Go's time.Duration.String() for the whole-unit values an API carries."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    n = abs(nanoseconds)
    if n < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if n >= size:
                return f"{sign}{n / size:g}{unit}"
    hours, rest = divmod(n, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = f"{rest / 1e9:.9f}".rstrip("0").rstrip(".")
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{sign}{minutes}m{seconds}s"
    return f"{sign}{seconds}s"


def _decode_special(name: str, data: bytes) -> tuple[bool, Any]:
    if name in (_TIME, _MICRO):
        if not data:
            return True, None
        f = {n: v for n, _w, v in wire_fields(data)}
        seconds, nanos = _signed(int(f.get(1, 0)), 64), int(f.get(2, 0))  # type: ignore[arg-type]
        return True, _go_time(seconds, nanos, name == _MICRO) if seconds != _ZERO_SECONDS else None
    if name == _DURATION:
        f = {n: v for n, _w, v in wire_fields(data)}
        return True, _go_duration(_signed(int(f.get(1, 0)), 64))  # type: ignore[arg-type]
    if name == _QUANTITY:
        f = {n: v for n, _w, v in wire_fields(data)}
        return True, bytes(f.get(1, b"")).decode()  # type: ignore[arg-type]
    if name == _INTSTR:
        f = {n: v for n, _w, v in wire_fields(data)}
        if f.get(1, 0):
            return True, bytes(f.get(3, b"")).decode()  # type: ignore[arg-type]
        return True, _signed(int(f.get(2, 0)), 32)  # type: ignore[arg-type]
    if name in (_RAW, _FIELDS) or name.endswith(".JSON"):
        f = {n: v for n, _w, v in wire_fields(data)}
        raw = bytes(f.get(1, b""))  # type: ignore[arg-type]
        if not raw:
            return True, None
        if raw.startswith(MAGIC):
            return True, decode(raw)
        try:
            return True, json.loads(raw)
        except ValueError as exc:
            raise ProtobufError(f"{name.rsplit('.', 1)[-1]} is not JSON") from exc
    return False, None


def _is_zero(value: Any) -> bool:
    return value is None or value == "" or value == 0 or value is False or value == [] or value == {}


def _decode_message(name: str, data: bytes) -> Any:
    special, value = _decode_special(name, data)
    if special:
        return value
    message = _schema().get(name)
    if message is None:
        raise ProtobufError(f"no protobuf definition for {name}")
    by_number: dict[int, Row] = message["by_number"]
    seen: dict[int, Any] = {}
    for number, wire, raw in wire_fields(data):
        row = by_number.get(number)
        if row is None:
            continue  # a field this version does not know: skipped, as gogo's generated Unmarshal does
        _num, _json, kind, flags, ref = row
        if kind == "map":
            key_kind, value_kind, value_ref = ref
            entry = {n: (w, v) for n, w, v in wire_fields(bytes(raw))}  # type: ignore[arg-type]
            key = _scalar(key_kind, *entry[1]) if 1 in entry else _scalar(key_kind, 2, b"")
            if value_kind == "m":
                item = _decode_message(value_ref, bytes(entry[2][1]) if 2 in entry else b"")  # type: ignore[arg-type]
            else:
                item = _scalar(value_kind, *entry[2]) if 2 in entry else _scalar(value_kind, 2, b"")
            seen.setdefault(number, {})[key] = item
        elif kind == "m":
            item = _decode_message(ref, bytes(raw))  # type: ignore[arg-type]
            if "r" in flags:
                seen.setdefault(number, []).append(item)
            else:
                seen[number] = item
        elif "r" in flags:
            seen.setdefault(number, []).extend(_repeated_scalars(kind, wire, raw))
        else:
            seen[number] = _scalar(kind, wire, raw)
    if message.get("go") == "none" and [r[1] for r in message["rows"]] == ["items"]:
        return seen.get(1, [])  # a named Go slice (ExtraValue, Verbs): JSON is the list itself
    out: dict[str, Any] = {}
    for number, json_name, kind, flags, ref in message["rows"]:
        if json_name == "-":
            continue
        if number not in seen:
            if "o" in flags:
                continue
            # without omitempty encoding/json writes what Go holds: null for a nil pointer, slice or
            # map, the zero value otherwise (gogo writes plain fields, so only other encoders omit them)
            if "p" in flags or "r" in flags or kind == "map":
                out[json_name] = None
            elif "i" not in flags:
                out[json_name] = _decode_message(ref, b"") if kind == "m" else _ZEROS.get(kind, 0)
            continue
        value = seen[number]
        if "i" in flags and isinstance(value, dict):
            out.update(value)
            continue
        if "p" not in flags and "o" in flags and kind != "m" and _is_zero(value):
            continue  # a plain field's zero value means unset; encoding/json leaves it out
        out[json_name] = value
    return out


def decode(body: bytes) -> dict[str, Any]:
    """A Kubernetes protobuf body as the JSON object the same client would have sent."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the body does not start with the Kubernetes protobuf prefix")
    envelope = {n: v for n, _w, v in wire_fields(body[len(MAGIC) :])}
    type_meta = {n: v for n, _w, v in wire_fields(bytes(envelope.get(1, b"")))}  # type: ignore[arg-type]
    api_version = bytes(type_meta.get(1, b"")).decode()  # type: ignore[arg-type]
    kind = bytes(type_meta.get(2, b"")).decode()  # type: ignore[arg-type]
    if envelope.get(3):
        raise ProtobufError("compressed protobuf bodies are not supported")
    name = message_for(api_version, kind)
    if name is None:
        raise ProtobufError(f"no protobuf definition for {api_version} {kind}")
    obj = _decode_message(name, bytes(envelope.get(2, b"")))  # type: ignore[arg-type]
    return {"kind": kind, "apiVersion": api_version, **obj}


# --- encoding ---------------------------------------------------------------------------------------


def _parse_time(value: str) -> tuple[int, int]:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(moment.timestamp() // 1), moment.microsecond * 1000


def _encode_scalar(number: int, kind: str, value: Any) -> bytes:
    if kind == "s":
        return bytes_field(number, str(value).encode())
    if kind == "b":
        return bytes_field(number, base64.b64decode(value) if isinstance(value, str) else bytes(value))
    if kind == "f64":
        return tag(number, 1) + struct.pack("<d", float(value))
    if kind == "f32":
        return tag(number, 5) + struct.pack("<f", float(value))
    if kind in ("si32", "si64"):
        n = int(value)
        return tag(number, 0) + uvarint((n << 1) ^ (n >> 63))
    return tag(number, 0) + uvarint(int(bool(value)) if kind == "bool" else int(value))


def _encode_special(name: str, value: Any) -> bytes | None:
    if name in (_TIME, _MICRO):
        if not value:
            return b""
        seconds, nanos = _parse_time(str(value))
        return tag(1, 0) + uvarint(seconds) + (tag(2, 0) + uvarint(nanos) if nanos else b"")
    if name == _QUANTITY:
        return bytes_field(1, str(value).encode())
    if name == _INTSTR:
        if isinstance(value, str):
            return tag(1, 0) + uvarint(1) + tag(2, 0) + uvarint(0) + bytes_field(3, value.encode())
        return tag(1, 0) + uvarint(0) + tag(2, 0) + uvarint(int(value)) + bytes_field(3, b"")
    if name in (_RAW, _FIELDS) or name.endswith(".JSON"):
        return bytes_field(1, json.dumps(value, separators=(",", ":")).encode()) if value is not None else b""
    if name == _DURATION:
        raise ProtobufError("Duration values are not encoded")
    return None


def _encode_message(name: str, value: Any) -> bytes:
    special = _encode_special(name, value)
    if special is not None:
        return special
    message = _schema().get(name)
    if message is None:
        raise ProtobufError(f"no protobuf definition for {name}")
    if message.get("go") == "none" and [r[1] for r in message["rows"]] == ["items"]:
        kind = message["rows"][0][2]
        return b"".join(_encode_scalar(1, kind, item) for item in value or [])
    if not isinstance(value, dict):
        raise ProtobufError(f"{name.rsplit('.', 1)[-1]} is not an object")
    out = bytearray()
    for number, json_name, kind, flags, ref in message["rows"]:
        if "i" in flags:
            out += bytes_field(number, _encode_message(ref, value))
            continue
        item = value.get(json_name)
        if item is None:
            if "p" in flags or "r" in flags or kind == "map":
                continue
            if kind == "m":
                out += bytes_field(number, _encode_message(ref, {} if ref not in (_TIME, _MICRO) else None))
                continue
            item = _ZEROS.get(kind, 0)  # gogo writes every plain field
        if kind == "map":
            key_kind, value_kind, value_ref = ref
            for k in sorted(item):
                entry = _encode_scalar(1, key_kind, k)
                if value_kind == "m":
                    entry += bytes_field(2, _encode_message(value_ref, item[k]))
                else:
                    entry += _encode_scalar(2, value_kind, item[k])
                out += bytes_field(number, entry)
        elif kind == "m":
            for element in item if "r" in flags else [item]:
                out += bytes_field(number, _encode_message(ref, element))
        else:
            for element in item if "r" in flags else [item]:
                out += _encode_scalar(number, kind, element)
    return bytes(out)


def encode(obj: dict[str, Any]) -> bytes | None:
    """A built-in object (with apiVersion and kind) in the Kubernetes protobuf encoding; None when it has none."""
    api_version, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    name = message_for(api_version, kind) if api_version and kind else None
    if name is None:
        return None
    type_meta = bytes_field(1, api_version.encode()) + bytes_field(2, kind.encode())
    raw = _encode_message(name, obj)
    return MAGIC + bytes_field(1, type_meta) + bytes_field(2, raw) + bytes_field(3, b"") + bytes_field(4, b"")
