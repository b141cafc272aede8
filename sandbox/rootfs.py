"""What a process inside an emulated container sees: its environment and its files.

Built from the pod spec as the kubelet builds a container: `env` and `envFrom` (with ConfigMap,
Secret, field and resource references and `$(VAR)` expansion), the Service environment variables,
and the volumes at their mount paths (ConfigMap and Secret keys as files, downward API items,
projected volumes, the ServiceAccount token; emptyDir and claims as empty directories).
"""

from __future__ import annotations

import base64
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.cluster import Cluster, resource
from sandbox.quantity import parse_quantity

__all__ = ["Rootfs", "container_rootfs"]

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_BASE_DIRS = (
    "/",
    "/bin",
    "/dev",
    "/etc",
    "/home",
    "/proc",
    "/root",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
    "/var/run",
)
_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


@dataclass
class Rootfs:
    """A container's environment (in `env` order) and files (absolute path → content)."""

    hostname: str
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=lambda: set(_BASE_DIRS))
    written: dict[str, bytes] = field(default_factory=dict)
    """Files processes wrote (redirections, wget -O, tar x): the container's writable layer."""

    def add_file(self, path: str, content: bytes) -> None:
        path = posixpath.normpath(path)
        self.files[path] = content
        self.add_dir(posixpath.dirname(path))

    def write(self, path: str, content: bytes, append: bool = False) -> None:
        """A process writes a file: kept in `written`, so it outlives the exec session."""
        path = posixpath.normpath(path)
        data = (self.files.get(path, b"") if append else b"") + content
        self.add_file(path, data)
        self.written[path] = data

    def add_dir(self, path: str) -> None:
        path = posixpath.normpath(path)
        while path not in self.dirs:
            self.dirs.add(path)
            path = posixpath.dirname(path)

    def listing(self, path: str) -> list[str] | None:
        """Names in a directory (sorted), or None when it is not one."""
        path = posixpath.normpath(path)
        if path not in self.dirs:
            return None
        prefix = "/" if path == "/" else path + "/"
        names = {p[len(prefix) :].split("/", 1)[0] for p in (*self.files, *self.dirs) if p.startswith(prefix)}
        return sorted(n for n in names if n)


def _field_value(pod: dict[str, Any], path: str) -> str:
    meta = pod["metadata"]
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": pod["spec"].get("nodeName"),
        "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
        "status.podIP": (pod.get("status") or {}).get("podIP"),
        "status.hostIP": (pod.get("status") or {}).get("hostIP"),
    }
    if path in ("metadata.labels", "metadata.annotations"):
        items = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(items.items()))
    return str(simple.get(path) or "")


def _resource_value(container: dict[str, Any], ref: dict[str, Any]) -> str:
    kind, _, name = str(ref.get("resource", "")).partition(".")
    value = ((container.get("resources") or {}).get(kind) or {}).get(name)
    if value is None:
        return "0"
    divisor = parse_quantity(str(ref.get("divisor") or "1"))
    number = parse_quantity(str(value)) / divisor
    return str(max(1, int(-(-number // 1))))  # rounded up, as the kubelet does


def _expand(value: str, env: dict[str, str]) -> str:
    """`$(VAR)` from earlier variables; `$$(VAR)` stays as `$(VAR)`; unknown references stay as written."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        value,
    )


def _service_env(cluster: Cluster, namespace: str) -> dict[str, str]:
    """The docker-links style variables the kubelet sets for each Service of the namespace."""
    out: dict[str, str] = {}
    services = list(cluster.store.list(resource("services"), namespace))
    if namespace != "default":
        services += [
            s
            for s in cluster.store.list(resource("services"), "default")
            if s["metadata"]["name"] == "kubernetes"
        ]
    for svc in services:
        spec = svc.get("spec") or {}
        ip, ports = spec.get("clusterIP"), spec.get("ports") or []
        if not ip or ip == "None" or not ports:
            continue
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        out[f"{prefix}_SERVICE_HOST"] = ip
        out[f"{prefix}_SERVICE_PORT"] = str(ports[0].get("port"))
        for p in ports:
            if p.get("name"):
                out[f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p.get("port"))
        first = ports[0]
        out[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first.get('port')}"
        for p in ports:
            proto = p.get("protocol", "TCP")
            base = f"{prefix}_PORT_{p.get('port')}_{proto}"
            out[base] = f"{proto.lower()}://{ip}:{p.get('port')}"
            out[f"{base}_PROTO"] = proto.lower()
            out[f"{base}_PORT"] = str(p.get("port"))
            out[f"{base}_ADDR"] = ip
    return out


def _environment(cluster: Cluster, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    ns = pod["metadata"]["namespace"]
    configmaps = {
        c["metadata"]["name"]: c.get("data") or {} for c in cluster.store.list(resource("configmaps"), ns)
    }
    secrets = {
        s["metadata"]["name"]: {
            k: base64.b64decode(v).decode(errors="replace") for k, v in (s.get("data") or {}).items()
        }
        for s in cluster.store.list(resource("secrets"), ns)
    }
    env: dict[str, str] = {"PATH": _PATH, "HOSTNAME": pod["metadata"]["name"]}
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef") or source.get("secretRef") or {}
        data = (configmaps if "configMapRef" in source else secrets).get(ref.get("name", ""), {})
        for k, v in data.items():
            env[f"{source.get('prefix', '')}{k}"] = str(v)
    for var in container.get("env") or []:
        frm = var.get("valueFrom") or {}
        if "configMapKeyRef" in frm:
            ref = frm["configMapKeyRef"]
            value = configmaps.get(ref.get("name", ""), {}).get(ref.get("key", ""))
        elif "secretKeyRef" in frm:
            ref = frm["secretKeyRef"]
            value = secrets.get(ref.get("name", ""), {}).get(ref.get("key", ""))
        elif "fieldRef" in frm:
            value = _field_value(pod, frm["fieldRef"].get("fieldPath", ""))
        elif "resourceFieldRef" in frm:
            value = _resource_value(container, frm["resourceFieldRef"])
        else:
            value = _expand(str(var.get("value", "")), env)
        if value is not None:
            env[var["name"]] = str(value)
    if pod["spec"].get("enableServiceLinks", True):
        for k, v in _service_env(cluster, ns).items():
            env.setdefault(k, v)
    env.setdefault("HOME", "/root")
    return env


def _volume_files(cluster: Cluster, pod: dict[str, Any], volume: dict[str, Any]) -> dict[str, bytes] | None:
    """Relative path → content for one volume; None for a volume that starts empty."""
    ns = pod["metadata"]["namespace"]

    def keyed(data: dict[str, bytes], items: list[dict[str, Any]] | None) -> dict[str, bytes]:
        if not items:
            return data
        return {i.get("path", i.get("key", "")): data[i["key"]] for i in items if i.get("key") in data}

    def configmap(src: dict[str, Any]) -> dict[str, bytes]:
        cm = cluster.store.find(resource("configmaps"), ns, src.get("name", "")) or {}
        data = {k: str(v).encode() for k, v in (cm.get("data") or {}).items()}
        data |= {k: base64.b64decode(v) for k, v in (cm.get("binaryData") or {}).items()}
        return keyed(data, src.get("items"))

    def secret(src: dict[str, Any], name_key: str) -> dict[str, bytes]:
        obj = cluster.store.find(resource("secrets"), ns, src.get(name_key, "")) or {}
        return keyed({k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}, src.get("items"))

    def downward(src: dict[str, Any]) -> dict[str, bytes]:
        out = {}
        for item in src.get("items") or []:
            if "fieldRef" in item:
                out[item["path"]] = _field_value(pod, item["fieldRef"].get("fieldPath", "")).encode()
        return out

    if "configMap" in volume:
        return configmap(volume["configMap"])
    if "secret" in volume:
        return secret(volume["secret"], "secretName")
    if "downwardAPI" in volume:
        return downward(volume["downwardAPI"])
    if "projected" in volume:
        files: dict[str, bytes] = {}
        for src in volume["projected"].get("sources") or []:
            if "configMap" in src:
                files |= configmap(src["configMap"])
            elif "secret" in src:
                files |= secret(src["secret"], "name")
            elif "downwardAPI" in src:
                files |= downward(src["downwardAPI"])
            elif "serviceAccountToken" in src:
                files[src["serviceAccountToken"].get("path", "token")] = _token(pod)
        return files
    return None


def _token(pod: dict[str, Any]) -> bytes:
    """A JWT-shaped ServiceAccount token (the sandbox does not accept it: its users hold the tokens)."""
    ns, sa = pod["metadata"]["namespace"], pod["spec"].get("serviceAccountName", "default")
    claims = {
        "iss": "https://kubernetes.default.svc.cluster.local",
        "sub": f"system:serviceaccount:{ns}:{sa}",
    }

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'sandbox'})}.{part(claims)}.c2FuZGJveA".encode()


def container_rootfs(cluster: Cluster, pod: dict[str, Any], container: dict[str, Any]) -> Rootfs:
    name, ns = pod["metadata"]["name"], pod["metadata"]["namespace"]
    fs = Rootfs(hostname=name, env=_environment(cluster, pod, container))
    ip = (pod.get("status") or {}).get("podIP", "")
    fs.add_file("/etc/hostname", f"{name}\n".encode())
    fs.add_file(
        "/etc/hosts",
        f"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{ip}\t{name}\n".encode(),
    )
    fs.add_file(
        "/etc/resolv.conf",
        f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n".encode(),
    )
    volumes = {v.get("name"): v for v in pod["spec"].get("volumes") or []}
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount.get("name"))
        if volume is None:
            continue
        files = _volume_files(cluster, pod, volume)
        target = mount.get("mountPath", "/")
        if files is None:
            fs.add_dir(target)
        elif mount.get("subPath"):
            if mount["subPath"] in files:
                fs.add_file(target, files[mount["subPath"]])
        else:
            fs.add_dir(target)
            for rel, content in files.items():
                fs.add_file(posixpath.join(target, rel), content)
    for path, content in (
        cluster.extras.get("written", {}).get((pod["metadata"]["uid"], container["name"]), {}).items()
    ):
        fs.add_file(
            path, content
        )  # what earlier exec sessions wrote stays, as in a container's writable layer
    automount = pod["spec"].get("automountServiceAccountToken", True)
    if automount and not any(m.get("mountPath") == _SA_DIR for m in container.get("volumeMounts") or []):
        fs.add_file(f"{_SA_DIR}/namespace", ns.encode())
        fs.add_file(f"{_SA_DIR}/token", _token(pod))
        fs.add_file(f"{_SA_DIR}/ca.crt", str(cluster.extras.get("ca_pem", "")).encode())
    return fs
