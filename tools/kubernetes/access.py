"""Cluster access for the Kubernetes tools: the official client on the context's kubeconfig, plus discovery.

Every request goes through `kubernetes.client.ApiClient` (the official client). Typed APIs are used
where the tools need typed behaviour; `request()` reaches any resource path the cluster's discovery
lists, so one code path serves core kinds, other groups and CRDs alike.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

from tools.base import ToolContext

__all__ = ["KubeAccess", "KubeError", "ResourceKind"]


class KubeError(Exception):
    """An API error, with the server's Status (code, reason, message)."""

    def __init__(self, code: int, reason: str, message: str, status: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code, self.reason, self.message, self.status = code, reason, message, status or {}


@dataclass(frozen=True)
class ResourceKind:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "", name: str = "", sub: str = "") -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if sub:
            base += f"/{sub}"
        return base


class KubeAccess:
    """One cluster (kubeconfig + context), reached with the official client.

    The `ApiClient` (kubeconfig parsed, TLS context and connection pool built) is made once, on first use,
    and shared by every call and every thread: `build_tools` makes one `KubeAccess` per `ToolContext`, so
    a runtime (or a server with many concurrent runs) has one client per cluster and context.
    """

    def __init__(self, ctx: ToolContext, api_client: Any | None = None) -> None:
        self.ctx = ctx
        self._client = api_client
        self._own_client = api_client is None
        self._client_lock = threading.Lock()
        self._kinds: list[ResourceKind] | None = None
        self._stamp: tuple[int, int, int] | None = None

    def _kubeconfig_stamp(self) -> tuple[int, int, int] | None:
        if not self._own_client or self.ctx.kubeconfig is None:
            return None
        try:
            st = os.stat(self.ctx.kubeconfig)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    @property
    def client(self) -> Any:
        # A changed kubeconfig file (a restarted sandbox writes its new port, tokens and CA) means a new
        # client: a long-running process follows the cluster without a restart. The old client is left to
        # the requests still using it.
        stamp = self._kubeconfig_stamp()
        if self._client is None or stamp != self._stamp:
            with self._client_lock:  # concurrent first calls build one client, not one each
                if self._client is None or stamp != self._stamp:
                    from kubernetes import config

                    if self._client is not None:
                        self._kinds = None
                    self._client = config.new_client_from_config(  # type: ignore[no-untyped-call]
                        config_file=str(self.ctx.kubeconfig) if self.ctx.kubeconfig else None,
                        context=self.ctx.kube_context,
                    )
                    self._stamp = stamp
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def request(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> Any:
        """JSON (or text, for logs) of one API call; KubeError with the server's Status on failure."""
        headers = {"Accept": "application/json, */*"}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        params = [
            (k, str(v).lower() if isinstance(v, bool) else v)
            for k, v in (query or {}).items()
            if v not in (None, "")
        ]
        serialized = self.client.param_serialize(
            method=method,
            resource_path=path,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        m, url, hdrs, data, post = serialized
        try:
            response = self.client.call_api(
                m, url, header_params=hdrs, body=data, post_params=post, _request_timeout=30
            )
        except Exception as exc:  # urllib3 / TLS / DNS: report the place, not a traceback
            raise KubeError(0, "Unreachable", f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        raw = response.read()
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        if response.status >= 400:
            try:
                status = json.loads(text)
            except ValueError:
                status = {"message": text.strip(), "reason": ""}
            raise KubeError(
                response.status, str(status.get("reason", "")), str(status.get("message", text)), status
            )
        if "json" in (response.getheader("Content-Type") or "") or text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except ValueError:
                return text
        return text

    # discovery ---------------------------------------------------------------------------------
    def kinds(self) -> list[ResourceKind]:
        if self._kinds is None:
            kinds: list[ResourceKind] = []
            gvs = [("", v) for v in self.request("GET", "/api").get("versions", [])]
            for group in self.request("GET", "/apis").get("groups", []):
                preferred = (group.get("preferredVersion") or {}).get("version") or group["versions"][0][
                    "version"
                ]
                gvs.append((group["name"], preferred))
            for group, version in gvs:
                path = f"/apis/{group}/{version}" if group else f"/api/{version}"
                try:
                    listing = self.request("GET", path)
                except KubeError:
                    continue
                for r in listing.get("resources", []):
                    if "/" not in r["name"]:
                        kinds.append(
                            ResourceKind(
                                group,
                                version,
                                r["kind"],
                                r["name"],
                                bool(r.get("namespaced")),
                                tuple(r.get("shortNames") or ()),
                            )
                        )
            self._kinds = kinds
        return self._kinds

    def resolve(self, kind: str) -> ResourceKind:
        """`deploy`, `deployments`, `Deployment`, `deployments.apps` → the resource; KubeError when unknown."""
        wanted = kind.strip().lower()
        group = ""
        if "." in wanted:
            wanted, group = wanted.split(".", 1)
        preferred = [k for k in self.kinds() if k.group != "metrics.k8s.io"] + [
            k for k in self.kinds() if k.group == "metrics.k8s.io"
        ]
        for k in preferred:
            if group and k.group != group:
                continue
            if wanted in (k.plural, k.kind.lower(), *k.short_names) or wanted == k.kind.lower() + "s":
                return k
        raise KubeError(
            404, "NotFound", f"the cluster has no resource type {kind!r} (see `kubectl api-resources`)"
        )
